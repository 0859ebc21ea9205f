/// `LedgerStateView` over the SQLite projections, used while appending inside the write
/// transaction so that each lookup is one indexed read.
final class SQLState: LedgerStateView {
    let db: Database
    private let selectParty, selectKey, selectPack, selectEvent: Statement
    private let upsertParty, upsertKey, upsertPack, insertEvent, insertEntry: Statement

    init(db: Database) throws(LedgerError) {
        self.db = db
        selectParty = try db.prepare("SELECT id, name, roles, authorized_from_ns, authorized_until_ns, registered_seq FROM parties WHERE id = ?")
        selectKey = try db.prepare("SELECT key_id, party, public_key, valid_from_ns, valid_until_ns, added_seq, revoked_seq FROM keys WHERE key_id = ?")
        selectPack = try db.prepare("SELECT \(SQLState.packColumns) FROM packs WHERE pack = ?")
        selectEvent = try db.prepare("SELECT seq, event_hash FROM events WHERE event_key = ?")
        upsertParty = try db.prepare("INSERT OR REPLACE INTO parties (id, name, roles, authorized_from_ns, authorized_until_ns, registered_seq) VALUES (?, ?, ?, ?, ?, ?)")
        upsertKey = try db.prepare("INSERT OR REPLACE INTO keys (key_id, party, public_key, valid_from_ns, valid_until_ns, added_seq, revoked_seq) VALUES (?, ?, ?, ?, ?, ?, ?)")
        upsertPack = try db.prepare("INSERT OR REPLACE INTO packs (\(SQLState.packColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        insertEvent = try db.prepare("INSERT INTO events (seq, event_key, event_hash, kind, pack, party, actor, at_ns, recorded_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        insertEntry = try db.prepare("INSERT INTO entries (seq, bytes, prev_hash, hash) VALUES (?, ?, ?, ?)")
    }

    static let packColumns = "pack, status, custodian, producer, category, chemistry, mass_kg, energy_kwh, produced_seq, last_seq, last_at_ns, placed_at_ns, placed_market, repurposed_into, derived_from"

    func party(_ id: String) throws(LedgerError) -> PartyState? {
        let s = try selectParty.bind(id)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return SQLState.partyRow(s)
    }

    static func partyRow(_ s: Statement) -> PartyState {
        PartyState(id: s.text(0) ?? "", name: s.text(1) ?? "",
                   roles: (s.text(2) ?? "").split(separator: ",").compactMap { Role(rawValue: String($0)) },
                   authorizedFrom: s.isNull(3) ? nil : Timestamp(nanoseconds: s.int64(3)),
                   authorizedUntil: s.isNull(4) ? nil : Timestamp(nanoseconds: s.int64(4)),
                   registeredSeq: UInt64(s.int64(5)))
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyState? {
        let s = try selectKey.bind(keyID)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return try SQLState.keyRow(s)
    }

    static func keyRow(_ s: Statement) throws(LedgerError) -> KeyState {
        KeyState(keyID: s.text(0) ?? "", party: s.text(1) ?? "", publicKey: try Ed25519PublicKey(raw: s.blob(2)),
                 validFrom: Timestamp(nanoseconds: s.int64(3)),
                 validUntil: s.isNull(4) ? nil : Timestamp(nanoseconds: s.int64(4)),
                 addedSeq: UInt64(s.int64(5)), revokedSeq: s.isNull(6) ? nil : UInt64(s.int64(6)))
    }

    func pack(_ id: String) throws(LedgerError) -> PackState? {
        let s = try selectPack.bind(id)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return try SQLState.packRow(s)
    }

    static func packRow(_ s: Statement) throws(LedgerError) -> PackState {
        guard let status = PackStatus(rawValue: s.text(1) ?? "") else {
            throw LedgerError(.integrity, "pack projection has an unknown status \(s.text(1) ?? "")")
        }
        return PackState(pack: s.text(0) ?? "", status: status, custodian: s.text(2) ?? "", producer: s.text(3) ?? "",
                         category: s.text(4) ?? "", chemistry: s.text(5) ?? "", massKg: s.double(6), energyKwh: s.double(7),
                         producedSeq: UInt64(s.int64(8)), lastSeq: UInt64(s.int64(9)), lastAt: Timestamp(nanoseconds: s.int64(10)),
                         placedAt: s.isNull(11) ? nil : Timestamp(nanoseconds: s.int64(11)), placedMarket: s.text(12),
                         repurposedInto: s.text(13),
                         derivedFrom: (s.text(14) ?? "").split(separator: " ").map(String.init))
    }

    func eventRecord(_ eventKey: String) throws(LedgerError) -> EventRecord? {
        let s = try selectEvent.bind(eventKey)
        defer { s.reset() }
        guard try s.step(), let hash = Digest(s.blob(1)) else { return nil }
        return EventRecord(seq: UInt64(s.int64(0)), eventHash: hash)
    }

    /// Writes the entry and every projection it changes. Called inside the write transaction.
    func append(_ entry: Entry, event: Event, effects: Effects) throws(LedgerError) {
        try insertEntry.bind(entry.seq, entry.bytes, entry.prev.bytes, entry.hash.bytes).run()
        try insertEvent.bind(entry.seq, event.eventKey, SHA256.hash(entry.eventBytes).bytes, event.kind.rawValue,
                             event.pack, event.party, event.actor, event.at.nanoseconds, entry.recordedAt.nanoseconds).run()
        for p in effects.parties {
            try upsertParty.bind(p.id, p.name, p.roles.map(\.rawValue).joined(separator: ","),
                                 p.authorizedFrom?.nanoseconds, p.authorizedUntil?.nanoseconds, p.registeredSeq).run()
        }
        for k in effects.keys {
            try upsertKey.bind(k.keyID, k.party, k.publicKey.raw, k.validFrom.nanoseconds, k.validUntil?.nanoseconds,
                               k.addedSeq, k.revokedSeq).run()
        }
        for p in effects.packs {
            try upsertPack.bind(p.pack, p.status.rawValue, p.custodian, p.producer, p.category, p.chemistry, p.massKg,
                                p.energyKwh, p.producedSeq, p.lastSeq, p.lastAt.nanoseconds, p.placedAt?.nanoseconds,
                                p.placedMarket, p.repurposedInto, p.derivedFrom.joined(separator: " ")).run()
        }
    }
}
