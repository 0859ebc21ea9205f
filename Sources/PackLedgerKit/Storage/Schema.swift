/// The ledger's SQL schema, embedded so the binary needs no resource files.
///
/// Must equal `Schema/ledger.sql` byte for byte; `SchemaTests` checks it. Edit both together.
public enum LedgerSchema {
    /// Bumped whenever the schema or the entry format changes incompatibly.
    public static let formatVersion: Int64 = 2
    /// `PRAGMA application_id` of a PackLedger file: ASCII "PKLG".
    public static let applicationID: Int64 = 0x504B_4C47
    /// The contents of Schema/ledger.sql.
    public static let sql = """
-- PackLedger ledger schema, format 2. The packledger binary embeds this file verbatim
-- (Sources/PackLedgerKit/Storage/Schema.swift); a test checks that the two are identical.
--
-- `entries` is the ledger: append-only, each row holding the exact bytes that are hashed
-- and signed. Every other table is a projection derived from the entries, kept so that
-- reads (history, status, lookups while appending) never scan; `verify` trusts none of them.

CREATE TABLE entries (
    seq        INTEGER PRIMARY KEY,      -- 0, 1, 2, … with no gaps
    bytes      BLOB    NOT NULL          -- the entry, Schema/FORMAT.md §3 (its header holds prev)
);
-- The leaf hash SHA-256(0x00 || bytes) is not stored: it is recomputed from the bytes wherever
-- it is needed (one hash of ~500 bytes), so no stored value can disagree with them.

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'packledger: ledger entries are append-only and cannot be updated');
END;

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'packledger: ledger entries are append-only and cannot be deleted');
END;

CREATE TRIGGER entries_extend_chain BEFORE INSERT ON entries
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq) + 1, 0) FROM entries)
BEGIN
    SELECT RAISE(ABORT, 'packledger: a new entry must directly extend the chain');
END;

-- Event id → entry: a resubmitted event is found here instead of being appended again.
CREATE TABLE event_ids (
    event_key  BLOB    PRIMARY KEY,      -- the event_id's 16 bytes
    seq        INTEGER NOT NULL
) WITHOUT ROWID;

-- Pack (or module, cell) → the entries about it, for `history` and evidence bundles.
CREATE TABLE pack_entries (
    pack  TEXT    NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (pack, seq)
) WITHOUT ROWID;

-- Party → its registry entries (registration, keys, authorization), for evidence bundles.
CREATE TABLE party_entries (
    party  TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (party, seq)
) WITHOUT ROWID;

-- Second-life events (reused, repurposed), which the EPR report counts by the pack's producer.
CREATE TABLE second_life (
    seq    INTEGER PRIMARY KEY,
    pack   TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    at_ns  INTEGER NOT NULL
);
CREATE INDEX second_life_by_pack ON second_life(pack);

-- Current state of each pack.
CREATE TABLE packs (
    pack             TEXT    PRIMARY KEY,
    status           TEXT    NOT NULL,
    custodian        TEXT    NOT NULL,
    producer         TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    chemistry        TEXT    NOT NULL,
    mass_kg          REAL    NOT NULL,
    energy_kwh       REAL    NOT NULL,
    produced_seq     INTEGER NOT NULL,
    last_seq         INTEGER NOT NULL,
    last_at_ns       INTEGER NOT NULL,
    placed_at_ns     INTEGER,               -- first sold or installed
    placed_market    TEXT,
    repurposed_into  TEXT,
    derived_from     TEXT    NOT NULL,      -- space-separated pack ids, '' when none
    -- For reports (PRODUCT.md §5), so that they never read event JSON:
    materials_json   TEXT    NOT NULL,      -- declared materials_kg as RFC 8785 JSON, '' when none
    collected_at_ns  INTEGER,               -- first collected, or the intake if never collected
    intake_at_ns     INTEGER,
    intake_kg        REAL,
    intake_by        TEXT,                  -- the recycler
    recovered_at_ns  INTEGER,
    input_kg         REAL,
    output_kg        REAL,
    recovered_json   TEXT    NOT NULL       -- recovered_kg as RFC 8785 JSON, '' when none
) WITHOUT ROWID;
CREATE INDEX packs_by_status ON packs(status);
CREATE INDEX packs_by_producer ON packs(producer);
CREATE INDEX packs_by_category ON packs(category);
CREATE INDEX packs_by_repurposed_into ON packs(repurposed_into) WHERE repurposed_into IS NOT NULL;

-- Composition: the modules and cells a `produced` pack lists, each part of one parent only.
CREATE TABLE components (
    component  TEXT    PRIMARY KEY,
    parent     TEXT    NOT NULL,
    seq        INTEGER NOT NULL                -- the produced entry that listed it
) WITHOUT ROWID;
CREATE INDEX components_by_parent ON components(parent);

-- Registered parties (the operator is not a party; its key is in `keys`).
CREATE TABLE parties (
    id                    TEXT    PRIMARY KEY,
    name                  TEXT    NOT NULL,
    roles                 TEXT    NOT NULL,   -- comma-separated, sorted
    authorized_from_ns    INTEGER,
    authorized_until_ns   INTEGER,
    registered_seq        INTEGER NOT NULL
) WITHOUT ROWID;

-- Every key ever registered, with its validity window [valid_from, valid_until).
CREATE TABLE keys (
    key_id          TEXT    PRIMARY KEY,      -- 16 hex: SHA-256(raw public key)[:8]
    party           TEXT    NOT NULL,
    public_key      BLOB    NOT NULL,         -- 32 raw bytes
    valid_from_ns   INTEGER NOT NULL,
    valid_until_ns  INTEGER,                  -- NULL while not revoked
    added_seq       INTEGER NOT NULL,
    revoked_seq     INTEGER
) WITHOUT ROWID;
CREATE INDEX keys_by_party ON keys(party);

-- Interior nodes of the RFC 6962 Merkle tree over the entry hashes, written as soon as they
-- are complete: (level, idx) is the root of leaves [idx * 2^level, (idx + 1) * 2^level).
-- Only levels 4 and up are stored (one row per 16 entries, not one per entry); a lower node
-- is recomputed by hashing at most 16 entries. Any root or proof needs O(log n) reads.
CREATE TABLE tree (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER tree_no_update BEFORE UPDATE ON tree
BEGIN
    SELECT RAISE(ABORT, 'packledger: tree nodes cannot be updated');
END;

CREATE TRIGGER tree_no_delete BEFORE DELETE ON tree
BEGIN
    SELECT RAISE(ABORT, 'packledger: tree nodes cannot be deleted');
END;

-- Checkpoints the operator signed: C2SP signed notes over (origin, size, root).
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL,
    root       BLOB    NOT NULL,
    note       BLOB    NOT NULL,            -- the note exactly as signed
    signed_ns  INTEGER NOT NULL
);
CREATE INDEX checkpoints_by_size ON checkpoints(size);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'packledger: checkpoints cannot be updated');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'packledger: checkpoints cannot be deleted');
END;

"""
}
