import Foundation

/// `LedgerStateView` over the SQLite projections, used while appending inside the write
/// transaction so that each lookup is one indexed read.
final class SQLState: LedgerStateView {
    let db: Database
    /// Where entries and the rows nothing reads back during an import are written.
    let rows: RowWriter
    private let selectParty, selectKey, selectPack, selectEvent, selectEntry: Statement
    private let upsertParty, upsertKey: Statement
    private let selectParent, insertComponent: Statement

    init(db: Database, rows: RowWriter) throws(LedgerError) {
        self.db = db
        self.rows = rows
        selectParty = try db.prepare("SELECT id, name, roles, authorized_from_ns, authorized_until_ns, registered_seq FROM parties WHERE id = ?")
        selectKey = try db.prepare("SELECT \(SQLState.keyColumns) FROM keys WHERE key_id = ?")
        selectPack = try db.prepare("SELECT \(SQLState.packColumns) FROM packs WHERE pack = ?")
        selectEvent = try db.prepare(SQLState.eventLookup)
        upsertParty = try db.prepare("INSERT OR REPLACE INTO parties (id, name, roles, authorized_from_ns, authorized_until_ns, registered_seq) VALUES (?, ?, ?, ?, ?, ?)")
        upsertKey = try db.prepare("INSERT OR REPLACE INTO keys (key_id, party, public_key, valid_from_ns, valid_until_ns, added_seq, revoked_seq) VALUES (?, ?, ?, ?, ?, ?, ?)")
        selectEntry = try db.prepare("SELECT seq, bytes FROM entries WHERE seq = ?")
        selectParent = try db.prepare("SELECT parent FROM components WHERE component = ?")
        insertComponent = try db.prepare("INSERT INTO components (component, parent, seq) VALUES (?, ?, ?)")
    }

    /// An event id's entry, as `(seq, bytes)`: what `eventRecord(row:)` reads.
    static let eventLookup = "SELECT e.seq, n.bytes FROM event_ids e JOIN entries n ON n.seq = e.seq WHERE e.event_key = ?"

    /// The record of a `(seq, bytes)` row. Only a resubmission finds a row, so hashing its stored
    /// event is cheap overall and saves storing a hash per entry.
    static func eventRecord(row s: Statement) throws(LedgerError) -> EventRecord {
        let entry = try Entry(decoding: s.blob(1))
        return EventRecord(seq: UInt64(s.int64(0)), eventHash: SHA256.hash(entry.eventBytes))
    }

    /// The columns `keyRow` reads, in its order.
    static let keyColumns = "key_id, party, public_key, valid_from_ns, valid_until_ns, added_seq, revoked_seq"

    static let packColumns = "pack, status, custodian, producer, category, chemistry, mass_kg, energy_kwh, produced_seq, last_seq, last_at_ns, placed_at_ns, placed_market, repurposed_into, derived_from, materials_json, collected_at_ns, intake_at_ns, intake_kg, intake_by, recovered_at_ns, input_kg, output_kg, recovered_json"

    // Parties and keys change only through registry entries, which this connection writes through
    // `append`; the caches are emptied at the start of every transaction, when another process
    // may have added some.
    private var partyCache: [String: PartyState?] = [:]
    private var keyCache: [String: KeyState?] = [:]
    /// Pack states changed in this transaction and not yet written: a pack's events usually come
    /// close together in an import, so writing its row once per flush instead of once per event
    /// saves most of the `packs` writes and their index updates. Reads see these first.
    private var dirtyPacks: [String: PackState] = [:]
    /// Pack states and `event_ids` rows of the last flush, handed to the writer thread and
    /// perhaps not yet in the tables: reads see these before the tables.
    private var flushingPacks = HandedOver<String, PackState>()
    private var flushingEventIDs = HandedOver<EventKey, UInt64>()
    /// Past this many dirty packs the cache is written out, to bound an import's memory.
    var dirtyPackLimit = 25_000
    /// Rows of `event_ids` and `pack_entries` not yet written. Event ids are random, so inserting
    /// each as it comes touches a random page of a large index; written in key order at the end
    /// of the transaction (or every `pendingRowLimit` rows), neighbouring keys share pages.
    private var pendingEventIDs: [EventKey: UInt64] = [:]
    private var pendingPackEntries: [(pack: String, seq: UInt64)] = []
    var pendingRowLimit = 65_536
    /// Event keys appended in this transaction, so that an answer from before it (`committedHint`)
    /// is used only for keys this transaction certainly did not write.
    private var written = WrittenKeys()
    /// What the ledger held for one event key before this transaction, when the caller knows it
    /// (an import looks its events up ahead of time): spares the next `eventRecord` a probe.
    /// Honoured only after `useCommittedHints()` in the same transaction.
    var committedHint: (key: EventKey, record: EventRecord?)?
    /// What the ledger held for one pack before this transaction, when the caller knows it:
    /// honoured, like `committedHint`, for a pack this transaction has certainly not changed
    /// (`touched`), and only after `useCommittedHints()`. It spares the appending thread a read
    /// of the `packs` table, which during an import has to wait for the writer thread.
    var packHint: (id: String, state: PackState?)?
    private var touched = TouchedPacks()
    private var hintsEnabled = false

    /// Starts tracking this transaction's keys so that `committedHint` can be trusted (the filter
    /// costs 8 MiB, which single appends need not pay).
    func useCommittedHints() { hintsEnabled = true }

    /// Starts loading what the `eventRecord` of `key` will read, for a key a few events ahead.
    func prefetchLookup(_ key: EventKey) {
        if hintsEnabled { written.prefetch(key) }
    }

    /// Forgets cached registry rows and unwritten pack states; called when a transaction begins
    /// and when one is rolled back.
    func resetCaches() {
        partyCache.removeAll(keepingCapacity: true)
        keyCache.removeAll(keepingCapacity: true)
        dirtyPacks.removeAll(keepingCapacity: false)
        forgetHandedOver()
        pendingEventIDs.removeAll(keepingCapacity: false)
        pendingPackEntries.removeAll(keepingCapacity: false)
        written.removeAll()
        touched.removeAll()
        committedHint = nil
        packHint = nil
        hintsEnabled = false
    }

    /// Writes everything held back: pack states and lookup rows. Called before a write
    /// transaction commits.
    func flushPending() throws(LedgerError) {
        try flushLookups()
        try flushPacks()
    }

    /// Queues rows to a writer thread from now on (`RowWriter.startBackground`), for an import.
    func startBackgroundWrites() { rows.startBackground() }

    /// Whether an import writes on a writer thread; tests turn it off to compare the two ways.
    var backgroundWritesEnabled = true

    /// Writes everything held back and waits for the writer thread to write it all.
    func finishBackgroundWrites() throws(LedgerError) {
        try flushPending()
        try rows.finishBackground()
        forgetHandedOver()
    }

    /// Stops the writer thread without writing what it holds: the transaction is rolled back.
    func abandonBackgroundWrites() {
        rows.abandonBackground()
        forgetHandedOver()
    }

    /// Forgets the rows handed to the writer thread: they are written, or rolled back.
    private func forgetHandedOver() {
        flushingPacks.forget()
        flushingEventIDs.forget()
    }

    private func flushLookups() throws(LedgerError) {
        if !pendingEventIDs.isEmpty {
            let ids = pendingEventIDs.map { (key: $0.key, seq: $0.value) }.sorted { ($0.key.high, $0.key.low) < ($1.key.high, $1.key.low) }
            try flushingEventIDs.hand(.eventIDs(ids), keeping: pendingEventIDs, to: rows)
            pendingEventIDs = [:]
        }
        // Pack ids are ASCII (`Identifiers.isPackID`), where String order is byte order, the order
        // of SQLite's BINARY collation, and String's `<` compares ASCII storage directly.
        pendingPackEntries.sort { ($0.pack, $0.seq) < ($1.pack, $1.seq) }
        if !pendingPackEntries.isEmpty { try rows.write(.packEntries(pendingPackEntries)) }
        pendingPackEntries.removeAll(keepingCapacity: true)
    }

    /// Writes every changed pack state.
    private func flushPacks() throws(LedgerError) {
        guard !dirtyPacks.isEmpty else { return }
        // In key order, so that the rows land in neighbouring B-tree pages.
        let packs = dirtyPacks.values.sorted { $0.pack < $1.pack }
        try flushingPacks.hand(.packs(packs), keeping: dirtyPacks, to: rows)
        dirtyPacks = [:]
    }

    func party(_ id: String) throws(LedgerError) -> PartyState? {
        if let cached = partyCache[id] { return cached }
        let found = try readParty(id)
        partyCache[id] = found
        return found
    }

    private func readParty(_ id: String) throws(LedgerError) -> PartyState? {
        try rows.withConnection { () throws(LedgerError) -> PartyState? in
            let s = selectParty
            s.reset()
            try s.set(1, id)
            defer { s.reset() }
            guard try s.step() else { return nil }
            return SQLState.partyRow(s)
        }
    }

    static func partyRow(_ s: Statement) -> PartyState {
        PartyState(id: s.text(0) ?? "", name: s.text(1) ?? "",
                   roles: (s.text(2) ?? "").split(separator: ",").compactMap { Role(rawValue: String($0)) },
                   authorizedFrom: s.isNull(3) ? nil : Timestamp(nanoseconds: s.int64(3)),
                   authorizedUntil: s.isNull(4) ? nil : Timestamp(nanoseconds: s.int64(4)),
                   registeredSeq: UInt64(s.int64(5)))
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyState? {
        if let cached = keyCache[keyID] { return cached }
        let found = try readKey(keyID)
        keyCache[keyID] = found
        return found
    }

    private func readKey(_ keyID: String) throws(LedgerError) -> KeyState? {
        try rows.withConnection { () throws(LedgerError) -> KeyState? in
            let s = selectKey
            s.reset()
            try s.set(1, keyID)
            defer { s.reset() }
            guard try s.step() else { return nil }
            return try SQLState.keyRow(s)
        }
    }

    /// Every key of the registry, by id: an import's signatures are checked against this
    /// snapshot on other threads, which cannot use the connection.
    func allKeys() throws(LedgerError) -> [String: KeyState] {
        try rows.withConnection { () throws(LedgerError) -> [String: KeyState] in
            let s = try db.prepare("SELECT \(SQLState.keyColumns) FROM keys")
            var out: [String: KeyState] = [:]
            while try s.step() {
                let k = try SQLState.keyRow(s)
                out[k.keyID] = k
            }
            return out
        }
    }

    static func keyRow(_ s: Statement) throws(LedgerError) -> KeyState {
        KeyState(keyID: s.text(0) ?? "", party: s.text(1) ?? "", publicKey: try Ed25519PublicKey(raw: s.blob(2)),
                 validFrom: Timestamp(nanoseconds: s.int64(3)),
                 validUntil: s.isNull(4) ? nil : Timestamp(nanoseconds: s.int64(4)),
                 addedSeq: UInt64(s.int64(5)), revokedSeq: s.isNull(6) ? nil : UInt64(s.int64(6)))
    }

    func pack(_ id: String) throws(LedgerError) -> PackState? {
        if let dirty = dirtyPacks[id] { return dirty }
        if let flushing = flushingPacks[id] { return flushing }
        if hintsEnabled, let hint = packHint, hint.id == id, !touched.mayContain(id) { return hint.state }
        return try rows.withConnection { () throws(LedgerError) -> PackState? in
            let s = selectPack
            s.reset()
            try s.set(1, id)
            defer { s.reset() }
            guard try s.step() else { return nil }
            return try SQLState.packRow(s)
        }
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
                         derivedFrom: (s.text(14) ?? "").split(separator: " ").map(String.init),
                         materialsJSON: s.text(15) ?? "",
                         collectedAt: s.isNull(16) ? nil : Timestamp(nanoseconds: s.int64(16)),
                         intakeAt: s.isNull(17) ? nil : Timestamp(nanoseconds: s.int64(17)),
                         intakeKg: s.isNull(18) ? nil : s.double(18), intakeBy: s.text(19),
                         recoveredAt: s.isNull(20) ? nil : Timestamp(nanoseconds: s.int64(20)),
                         inputKg: s.isNull(21) ? nil : s.double(21), outputKg: s.isNull(22) ? nil : s.double(22),
                         recoveredJSON: s.text(23) ?? "")
    }

    func eventRecord(_ eventKey: EventKey) throws(LedgerError) -> EventRecord? {
        if hintsEnabled, let hint = committedHint, hint.key == eventKey, !written.mayContain(eventKey) { return hint.record }
        // A row held back in this transaction is found by seq, any other through the table. Only
        // the first may still be queued to the writer thread (see `flushingEventIDs`): most
        // lookups that get here are the filter's false "maybe"s, and they need not wait for it.
        let pending = pendingEventIDs[eventKey] ?? flushingEventIDs[eventKey]
        if pending != nil { try rows.settle() }
        return try rows.withConnection { () throws(LedgerError) -> EventRecord? in
            let s: Statement
            if let seq = pending {
                s = selectEntry
                s.reset()
                try s.set(1, seq)
            } else {
                s = selectEvent
                s.reset()
                try s.set(1, eventKey)
            }
            defer { s.reset() }
            guard try s.step() else { return nil }
            return try SQLState.eventRecord(row: s)
        }
    }

    func parent(of component: String) throws(LedgerError) -> String? {
        try rows.withConnection { () throws(LedgerError) -> String? in
            let s = selectParent
            s.reset()
            try s.set(1, component)
            defer { s.reset() }
            return try s.step() ? s.text(0) : nil
        }
    }

    /// Writes the entry and every projection it changes. Called inside the write transaction.
    func append(_ entry: Entry, event: Event, effects: Effects) throws(LedgerError) {
        try rows.write(.entry(seq: entry.seq, bytes: entry.bytes))
        pendingEventIDs[event.eventKey] = entry.seq
        if hintsEnabled { written.insert(event.eventKey) }
        if let pack = event.pack {
            pendingPackEntries.append((pack, entry.seq))
            if event.kind == .reused || event.kind == .repurposed {
                try rows.write(.secondLife(seq: entry.seq, pack: pack, kind: event.kind, at: event.at.nanoseconds))
            }
        }
        if let party = event.party {
            try rows.write(.partyEntry(party: party, seq: entry.seq))
        }
        // Components, parties and keys are read back by later events' rules, so they are
        // written here and now, never queued.
        if !effects.components.isEmpty || !effects.parties.isEmpty || !effects.keys.isEmpty {
            try rows.withConnection { () throws(LedgerError) in
                for c in effects.components {
                    try insertComponent.bind(c.component, c.parent, entry.seq).run()
                }
                for p in effects.parties {
                    try upsertParty.bind(p.id, p.name, p.roles.map(\.rawValue).joined(separator: ","),
                                         p.authorizedFrom?.nanoseconds, p.authorizedUntil?.nanoseconds, p.registeredSeq).run()
                }
                for k in effects.keys {
                    try upsertKey.bind(k.keyID, k.party, k.publicKey.raw, k.validFrom.nanoseconds, k.validUntil?.nanoseconds,
                                       k.addedSeq, k.revokedSeq).run()
                }
            }
            for p in effects.parties { partyCache[p.id] = p }
            for k in effects.keys { keyCache[k.keyID] = k }
        }
        if let p = effects.pack {
            dirtyPacks[p.pack] = p
            if hintsEnabled { touched.insert(p.pack) }
        }
        if dirtyPacks.count >= dirtyPackLimit { try flushPacks() }
        if pendingEventIDs.count >= pendingRowLimit || pendingPackEntries.count >= pendingRowLimit { try flushLookups() }
    }
}

extension Statement {
    /// Binds an event key's 16 bytes (`EventKey.bytes`) without building an array of them.
    func set(_ index: Int32, _ key: EventKey) throws(LedgerError) {
        try check(key.withBytes { bindBlob(index, $0) }, index)
    }
}

/// The rows of the last flush that were handed to the writer thread, kept readable until it has
/// written them. A flush first waits for the one before it (by then long written), from which
/// point the table answers for those rows; so at most one flush is kept.
struct HandedOver<Key: Hashable, Value> {
    private var kept: [Key: Value] = [:]
    /// The writer thread's chunk holding the flush (`RowWriter.write`).
    private var ticket = -1

    /// A row of the last flush, if the table may not have it yet.
    subscript(key: Key) -> Value? { kept.isEmpty ? nil : kept[key] }

    /// Writes `row`, the flush of `rows`: queued to the writer thread, keeping `rows` readable,
    /// or written now when there is none.
    mutating func hand(_ row: PendingRow, keeping rows: [Key: Value], to writer: RowWriter) throws(LedgerError) {
        guard writer.isBackground else {
            try writer.write(row)
            return
        }
        try writer.wait(through: ticket)
        kept = rows
        ticket = try writer.write(row, now: true)
    }

    /// Forgets the kept rows: written, or rolled back.
    mutating func forget() {
        kept = [:]
        ticket = -1
    }
}
