import Foundation

/// The outcome of appending one event.
public struct AppendResult: Sendable {
    /// The entry holding the event (the existing one for a duplicate).
    public let seq: UInt64
    /// False when the same event was already in the ledger and nothing was written.
    public let isNew: Bool
}

/// One event of a pack's history, read back from its entry.
public struct HistoryItem: Sendable {
    /// The entry.
    public let entry: Entry
    /// The event decoded from the entry's bytes.
    public let event: Event
}

/// Summary of a ledger file.
public struct LedgerInfo: Sendable {
    /// The ledger's origin (checkpoint and note key name).
    public let origin: String
    /// Number of entries.
    public let size: UInt64
    /// RFC 6962 root over all entries.
    public let root: Digest
    /// Hash of the last entry.
    public let headHash: Digest
    /// The operator's current public key.
    public let operatorKey: Ed25519PublicKey
}

/// A PackLedger file: the append path and the indexed reads.
public final class Ledger {
    /// The SQLite connection.
    public let db: Database
    let state: SQLState
    let tree: TreeStore
    private let selectHead: Statement
    /// The chain head while this connection holds the write lock; nil outside a write transaction.
    private var cachedHead: (size: UInt64, hash: Digest, recordedAt: Timestamp?)?

    /// How long a writer waits for another writer before "ledger busy": 10 s, or
    /// `$PACKLEDGER_BUSY_TIMEOUT_MS` (0–600000) where an operator wants to fail faster or wait longer.
    public static let busyTimeoutMilliseconds: Int32 = {
        if let text = ProcessInfo.processInfo.environment["PACKLEDGER_BUSY_TIMEOUT_MS"], let ms = Int32(text), (0...600_000).contains(ms) {
            return ms
        }
        return 10_000
    }()

    /// Opens an existing ledger file.
    public init(path: String, readOnly: Bool = false) throws(LedgerError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.notFound, "no ledger at \(path) (create one with `packledger init`, or pass --ledger)", at: ErrorLocation(file: path))
        }
        let db = try Database(path: path, readOnly: readOnly)
        try Ledger.configure(db)
        let appID = try db.pragmaInt("application_id")
        guard appID == LedgerSchema.applicationID else {
            throw LedgerError(.integrity, "\(path) is not a PackLedger file", at: ErrorLocation(file: path))
        }
        let version = try db.pragmaInt("user_version")
        guard version == LedgerSchema.formatVersion else {
            throw LedgerError(.integrity, "\(path) has format \(version); this packledger reads format \(LedgerSchema.formatVersion)", at: ErrorLocation(file: path))
        }
        self.db = db
        let rows = try RowWriter(db: db)
        self.state = try SQLState(db: db, rows: rows)
        self.tree = try TreeStore(db: db, rows: rows)
        self.selectHead = try db.prepare("SELECT seq, bytes FROM entries ORDER BY seq DESC LIMIT 1")
    }

    /// A write transaction in which the head and registry caches are valid: they are dropped
    /// when it starts (another process may have appended) and when it fails (rolled back).
    func writeTransaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        state.resetCaches()
        cachedHead = nil
        defer { cachedHead = nil }
        do {
            return try db.writeTransaction { () throws(LedgerError) -> T in
                let value = try body()
                try state.flushPending()
                return value
            }
        } catch {
            state.resetCaches()
            throw error
        }
    }

    /// The page size of new ledgers (existing ones keep theirs).
    static let pageSize = 16_384

    static func configure(_ db: Database) throws(LedgerError) {
        db.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
        // WAL lets readers proceed during an append; FULL syncs the WAL on every commit so a
        // committed entry survives power loss, which checkpoints rely on.
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        // Event ids are random UUIDs, so each append touches a random page of their index; with
        // SQLite's default 2 MB cache those pages are re-read from the OS for every entry of a
        // large ledger. 64 MB holds the hot index pages of millions of entries. (No mmap: mapped
        // pages count as resident memory, and an import must stay within its memory budget.)
        try db.execute("PRAGMA cache_size = -65536;")
    }

    /// Creates a new ledger file whose entry 0 names `origin` and the operator key.
    public static func create(path: String, origin: String, operatorKey: Ed25519PrivateKey) throws(LedgerError) -> Ledger {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.conflict, "\(path) already exists; refusing to overwrite a ledger", at: ErrorLocation(file: path))
        }
        do {
            let db = try Database(path: path, create: true)
            // Before WAL mode, which fixes the page size. 16 KiB pages: a quarter of the
            // write-ahead log's frames and of the checkpoint's reads and writes, and 4 % less file
            // per entry, than SQLite's default 4 KiB (a 1,000,000-event import: wall 0.994, n = 6).
            try db.execute("PRAGMA page_size = \(pageSize);")
            try configure(db)
            try db.writeTransaction { () throws(LedgerError) in
                try db.execute(LedgerSchema.sql)
                try db.execute("PRAGMA application_id = \(LedgerSchema.applicationID); PRAGMA user_version = \(LedgerSchema.formatVersion);")
            }
            let ledger = try Ledger(path: path)
            let now = Timestamp.now()
            let genesis: JSONValue = .object([
                "event_id": .string(UUID().uuidString.lowercased()),
                "kind": .string(EventKind.ledgerInit.rawValue),
                "actor": .string(Identifiers.operatorID),
                "party": .string(Identifiers.operatorID),
                "at": .string(now.rfc3339),
                "data": .object(["origin": .string(origin), "operator_key": .string(Base64.encode(operatorKey.publicKey.raw))]),
            ])
            try ledger.append(SignedEvent(signing: Event(json: genesis), with: operatorKey))
            return ledger
        } catch {
            // A half-made file would be mistaken for a ledger later.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw error
        }
    }

    /// Number of entries, hash of the last one, and its record time.
    func head() throws(LedgerError) -> (size: UInt64, hash: Digest, recordedAt: Timestamp?) {
        if let cachedHead { return cachedHead }
        try state.rows.settle()
        return try state.rows.withConnection { () throws(LedgerError) -> (size: UInt64, hash: Digest, recordedAt: Timestamp?) in
            let s = selectHead
            s.reset()
            defer { s.reset() }
            guard try s.step() else { return (0, .zero, nil) }
            let last = try Entry(decoding: s.blob(1))
            return (UInt64(s.int64(0)) + 1, last.hash, last.recordedAt)
        }
    }

    /// Appends a signed event after checking every rule; a duplicate returns the existing entry.
    /// Nothing is written when a rule fails.
    @discardableResult
    public func append(_ signed: SignedEvent) throws(LedgerError) -> AppendResult {
        try writeTransaction { () throws(LedgerError) -> AppendResult in
            try appendInTransaction(signed)
        }
    }

    /// The append step, for callers that batch several events in one transaction.
    func appendInTransaction(_ signed: SignedEvent, signatureValid: Bool? = nil) throws(LedgerError) -> AppendResult {
        let head = try head()
        try tree.prepareFrontier(size: head.size, tip: head.hash)
        // Record times never go backwards, even if the wall clock does.
        let now = Timestamp.now()
        let recordedAt = max(now, head.recordedAt ?? now)
        switch try Rules.judge(signed, seq: head.size, recordedAt: recordedAt, state: state, signatureValid: signatureValid) {
        case .duplicate(let seq):
            return AppendResult(seq: seq, isNew: false)
        case .accept(let effects):
            let entry: Entry
            if let batch = signed.batch {
                // Members sit directly after their manifest, in order, so that any verifier can
                // rebuild the batch's tree from consecutive entries.
                guard head.size == batch.manifest + 1 + batch.index else {
                    throw LedgerError(.integrity, "batch member \(batch.index) of entry \(batch.manifest) would not follow its manifest")
                }
                entry = Entry(seq: head.size, recordedAt: recordedAt, prev: head.hash, batch: batch, eventBytes: signed.bytes)
            } else {
                entry = Entry(seq: head.size, recordedAt: recordedAt, prev: head.hash, keyID: signed.keyID,
                              signature: signed.signature, eventBytes: signed.bytes)
            }
            try state.append(entry, event: signed.event, effects: effects)
            try tree.append(leaf: entry.hash, seq: entry.seq)
            // Every caller is inside `writeTransaction`, which forgets the head when it ends.
            cachedHead = (entry.seq + 1, entry.hash, entry.recordedAt)
            return AppendResult(seq: entry.seq, isNew: true)
        }
    }

    /// Number of entries.
    public func size() throws(LedgerError) -> UInt64 { try head().size }

    /// The stored bytes of entry `seq`, decoded.
    public func entry(_ seq: UInt64) throws(LedgerError) -> Entry {
        let s = try db.prepare("SELECT bytes FROM entries WHERE seq = ?").bind(seq)
        guard try s.step() else {
            throw LedgerError(.notFound, "there is no entry \(seq)", at: ErrorLocation(entry: seq))
        }
        do {
            return try Entry(decoding: s.blob(0))
        } catch {
            throw error.located(entry: seq)
        }
    }

    /// Decodes the event inside an entry.
    public static func event(of entry: Entry) throws(LedgerError) -> Event {
        do {
            // As member lists, like `verify`: reports and histories decode every entry they
            // read, and a list is cheaper to build than the dictionary of the whole object.
            return try Event(noted: JSONParser.parseNotingCanonical(entry.eventBytes, members: true))
        } catch let error as JSONError {
            throw LedgerError(.integrity, "event bytes are not valid JSON: \(error)", at: ErrorLocation(entry: entry.seq))
        } catch let error as LedgerError {
            throw error.located(entry: entry.seq)
        } catch {
            throw LedgerError(.integrity, "\(error)", at: ErrorLocation(entry: entry.seq))
        }
    }

    /// Origin, size, root, head and operator key, all read in one snapshot.
    public func info() throws(LedgerError) -> LedgerInfo {
        try db.readTransaction { () throws(LedgerError) -> LedgerInfo in
            let genesis = try Ledger.event(of: entry(0))
            guard let origin = genesis.dataValue("origin")?.stringValue else {
                throw LedgerError(.integrity, "entry 0 has no origin", at: ErrorLocation(entry: 0))
            }
            let keys = try db.prepare("SELECT \(SQLState.keyColumns) FROM keys WHERE party = ? AND valid_until_ns IS NULL ORDER BY added_seq DESC LIMIT 1").bind(Identifiers.operatorID)
            guard try keys.step() else { throw LedgerError(.integrity, "the ledger has no operator key") }
            let operatorKey = try SQLState.keyRow(keys).publicKey
            let head = try head()
            return LedgerInfo(origin: origin, size: head.size, root: try tree.root(size: head.size), headHash: head.hash, operatorKey: operatorKey)
        }
    }

    /// A pack's current state.
    public func pack(_ id: String) throws(LedgerError) -> PackState? { try state.pack(id) }

    /// A pack's events and those of its modules and cells, oldest first: an event on a module is
    /// part of its pack's history.
    public func history(_ pack: String) throws(LedgerError) -> [HistoryItem] {
        let s = try db.prepare("SELECT n.bytes FROM pack_entries e JOIN entries n ON n.seq = e.seq WHERE e.pack = ? ORDER BY e.seq")
        var items: [HistoryItem] = []
        for id in [pack] + (try descendants(of: pack)) {
            try s.bind(id)
            while try s.step() {
                let entry = try Entry(decoding: s.blob(0))
                items.append(HistoryItem(entry: entry, event: try Ledger.event(of: entry)))
            }
        }
        return items.sorted { $0.entry.seq < $1.entry.seq }
    }

    /// The modules and cells a pack lists directly.
    public func components(of pack: String) throws(LedgerError) -> [String] {
        let s = try db.prepare("SELECT component FROM components WHERE parent = ? ORDER BY component").bind(pack)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// Every component below a pack, breadth first (the rules forbid cycles; the set guards anyway).
    public func descendants(of pack: String) throws(LedgerError) -> [String] {
        var out: [String] = [], seen: Set<String> = [pack], queue = [pack]
        while !queue.isEmpty {
            let next = queue.removeFirst()
            for c in try components(of: next) where seen.insert(c).inserted {
                out.append(c)
                queue.append(c)
            }
        }
        return out
    }

    /// The composition tree below a pack as JSON: id, status when the component is itself in the
    /// ledger, and its own components.
    public func compositionTree(of pack: String, depth: Int = 0) throws(LedgerError) -> [JSONValue] {
        guard depth < 8 else { return [] }
        var out: [JSONValue] = []
        for c in try components(of: pack) {
            let state = try self.pack(c)
            out.append(.object(["id": .string(c), "status": state.map { .string($0.status.rawValue) } ?? .null,
                                "components": .array(try compositionTree(of: c, depth: depth + 1))]))
        }
        return out
    }

    /// Packs that were repurposed into `pack` (its predecessors), by the index.
    public func predecessors(of pack: String) throws(LedgerError) -> [String] {
        let s = try db.prepare("SELECT pack FROM packs WHERE repurposed_into = ? ORDER BY pack").bind(pack)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// Packs matching every given filter, by id.
    public func packs(status: PackStatus? = nil, producer: String? = nil, category: String? = nil) throws(LedgerError) -> [PackState] {
        var clauses: [String] = []
        var values: [(any Sendable)?] = []
        if let status { clauses.append("status = ?"); values.append(status.rawValue) }
        if let producer { clauses.append("producer = ?"); values.append(producer) }
        if let category { clauses.append("category = ?"); values.append(category) }
        let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        let s = try db.prepare("SELECT \(SQLState.packColumns) FROM packs\(filter) ORDER BY pack").bind(values: values)
        var out: [PackState] = []
        while try s.step() { out.append(try SQLState.packRow(s)) }
        return out
    }

    /// How many of a producer's packs are in each status, by status name.
    public func statusCounts(producer: String) throws(LedgerError) -> [(status: String, count: Int)] {
        let s = try db.prepare("SELECT status, COUNT(*) FROM packs WHERE producer = ? GROUP BY status ORDER BY status").bind(producer)
        var out: [(status: String, count: Int)] = []
        while try s.step() { out.append((s.text(0) ?? "", Int(s.int64(1)))) }
        return out
    }

    /// Every registered party, by id.
    public func parties() throws(LedgerError) -> [PartyState] {
        let s = try db.prepare("SELECT id, name, roles, authorized_from_ns, authorized_until_ns, registered_seq FROM parties ORDER BY id")
        var out: [PartyState] = []
        while try s.step() { out.append(SQLState.partyRow(s)) }
        return out
    }

    /// A party's keys, oldest first (the operator's with `operator`).
    public func keys(of party: String) throws(LedgerError) -> [KeyState] {
        let s = try db.prepare("SELECT \(SQLState.keyColumns) FROM keys WHERE party = ? ORDER BY added_seq").bind(party)
        var out: [KeyState] = []
        while try s.step() { out.append(try SQLState.keyRow(s)) }
        return out
    }

    /// A registered party.
    public func party(_ id: String) throws(LedgerError) -> PartyState? { try state.party(id) }

    // MARK: Merkle tree and checkpoints

    /// The RFC 6962 root of the first `size` entries, from O(log n) stored nodes.
    public func root(size: UInt64) throws(LedgerError) -> Digest { try tree.root(size: size) }

    /// The inclusion proof of entry `seq` in the tree of `size` entries.
    public func inclusionProof(seq: UInt64, size: UInt64) throws(LedgerError) -> [Digest] {
        try tree.inclusionProof(index: seq, size: size)
    }

    /// The consistency proof from `oldSize` to `newSize` entries.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws(LedgerError) -> [Digest] {
        let size = try self.size()
        guard newSize <= size else {
            throw LedgerError(.outOfRange, "the ledger has \(size) entries, fewer than \(newSize)")
        }
        return try tree.consistencyProof(oldSize: oldSize, newSize: newSize)
    }

    /// The operator's current note verifier key: name = origin, type Ed25519.
    public func logKey() throws(LedgerError) -> NoteVerifierKey {
        let info = try info()
        return NoteVerifierKey(name: info.origin, type: .ed25519, key: info.operatorKey)
    }

    /// Signs a checkpoint over every committed entry and stores it.
    ///
    /// Entries are committed with `synchronous = FULL` before this transaction begins, so the
    /// tree it signs is durable; BEGIN IMMEDIATE keeps an append from slipping in between
    /// reading the size and storing the note.
    public func checkpoint(signingWith key: Ed25519PrivateKey) throws(LedgerError) -> StoredCheckpoint {
        try writeTransaction { () throws(LedgerError) -> StoredCheckpoint in
            let logKey = try logKey()
            guard logKey.key == key.publicKey else {
                throw LedgerError(.invalidKey, "key \(key.publicKey.keyID) is not the ledger's operator key \(logKey.key.keyID)")
            }
            let head = try head()
            let checkpoint = Checkpoint(origin: logKey.name, size: head.size, root: try tree.root(size: head.size))
            let note = Note(text: checkpoint.text, signatures: [try Note.sign(text: checkpoint.text, name: logKey.name, key: key)])
            let now = Timestamp.now()
            try db.prepare("INSERT INTO checkpoints (size, root, note, signed_ns) VALUES (?, ?, ?, ?)")
                .bind(checkpoint.size, checkpoint.root.bytes, note.bytes, now.nanoseconds).run()
            return StoredCheckpoint(checkpoint: checkpoint, note: note.bytes, signedAt: now)
        }
    }

    /// Stored checkpoints, oldest first.
    public func checkpoints() throws(LedgerError) -> [StoredCheckpoint] {
        let s = try db.prepare("SELECT size, root, note, signed_ns FROM checkpoints ORDER BY id")
        var out: [StoredCheckpoint] = []
        while try s.step() {
            let note = s.blob(2)
            let checkpoint = try Checkpoint(text: Note(parsing: note).text)
            out.append(StoredCheckpoint(checkpoint: checkpoint, note: note, signedAt: Timestamp(nanoseconds: s.int64(3))))
        }
        return out
    }

    /// The most recent stored checkpoint.
    public func latestCheckpoint() throws(LedgerError) -> StoredCheckpoint? {
        let s = try db.prepare("SELECT note, signed_ns FROM checkpoints ORDER BY id DESC LIMIT 1")
        guard try s.step() else { return nil }
        let note = s.blob(0)
        return StoredCheckpoint(checkpoint: try Checkpoint(text: Note(parsing: note).text), note: note, signedAt: Timestamp(nanoseconds: s.int64(1)))
    }
}

/// A checkpoint the operator signed, as stored in the ledger.
public struct StoredCheckpoint: Sendable {
    /// The body.
    public let checkpoint: Checkpoint
    /// The signed note's bytes.
    public let note: [UInt8]
    /// When it was signed.
    public let signedAt: Timestamp
}
