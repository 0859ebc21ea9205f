import Foundation
import Synchronization

/// A row the ledger writes and, while an import runs, does not read back: entries, index rows,
/// tree nodes and flushed pack states. These are what `RowWriter` may write on a thread of its
/// own.
enum PendingRow {
    /// An entry's stored bytes.
    case entry(seq: UInt64, bytes: [UInt8])
    /// `party_entries`: an event about a party.
    case partyEntry(party: String, seq: UInt64)
    /// `second_life`: a reuse or repurposing.
    case secondLife(seq: UInt64, pack: String, kind: EventKind, at: Int64)
    /// A stored Merkle tree node.
    case node(level: Int, index: UInt64, hash: Digest)
    /// `event_ids` rows, in key order.
    case eventIDs([(key: EventKey, seq: UInt64)])
    /// `pack_entries` rows, in key order.
    case packEntries([(pack: String, seq: UInt64)])
    /// Pack states to upsert, in key order.
    case packs([PackState])
}

/// Writes the ledger's append-only rows, on the calling thread or, during an import, on a
/// thread of its own.
///
/// A batch-signed import is bound by the one thread that appends (rules, entry, hash), and
/// about 40 % of that thread's time went into SQLite inserts that nothing in the import reads
/// back. With `startBackground`, those inserts queue to a writer thread and run beside the
/// appends, on the core that parsing leaves partly idle.
///
/// Both threads use the one connection: a transaction's writes are visible only on the
/// connection that makes them. SQLite's connection mutex is off (`SQLITE_OPEN_NOMUTEX`), so
/// while the writer runs every use of the connection goes through `withConnection`, which
/// serialises them; a read that needs queued rows first calls `settle` or `wait(through:)`.
/// The appending thread must rarely need either, or it waits on the writer instead of running
/// beside it: `SQLState` keeps what it handed over readable in memory until it is written, and
/// takes pack states and duplicate answers from the look-ups made ahead of the appends.
final class RowWriter: @unchecked Sendable {
    private let insertEntry, insertPartyEntry, insertSecondLife, insertNode: Statement
    private let insertEventID, insertPackEntry, upsertPack: Statement
    private var background: Background?
    /// Rows per chunk handed to the writer thread: large enough that handing one over is rare,
    /// small enough that the writer starts soon.
    var chunkRows = 512
    /// Chunks queued at most before the appending thread waits: bounds the import's memory
    /// (an entry is about 500 bytes, so some 16 MB).
    var maxQueued = 64
    /// For tests: the writer thread writes only while the appending thread waits for it (queue
    /// full, `settle`, `wait(through:)`, the end), so that rows stay queued as long as they can
    /// and any read that should have waited for them finds them missing.
    var lazyForTesting = false

    /// The connection's WAL file.
    let walPath: String
    /// Chunks written between early syncs of the WAL (`EarlySync`): some 5 MB of it.
    static let chunksPerSync = 16

    init(db: Database) throws(LedgerError) {
        walPath = db.path + "-wal"
        insertEntry = try db.prepare("INSERT INTO entries (seq, bytes) VALUES (?, ?)")
        insertPartyEntry = try db.prepare("INSERT INTO party_entries (party, seq) VALUES (?, ?)")
        insertSecondLife = try db.prepare("INSERT INTO second_life (seq, pack, kind, at_ns) VALUES (?, ?, ?, ?)")
        insertNode = try db.prepare("INSERT INTO tree (level, idx, hash) VALUES (?, ?, ?)")
        insertEventID = try db.prepare("INSERT INTO event_ids (event_key, seq) VALUES (?, ?)")
        insertPackEntry = try db.prepare("INSERT INTO pack_entries (pack, seq) VALUES (?, ?)")
        // An upsert, not INSERT OR REPLACE: REPLACE deletes and re-inserts, rewriting every index
        // of the row, where an UPDATE touches only the indexes whose columns changed.
        let columns = SQLState.packColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }
        let slots = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        upsertPack = try db.prepare("INSERT INTO packs (\(SQLState.packColumns)) VALUES (\(slots)) ON CONFLICT(pack) DO UPDATE SET \(updates.joined(separator: ", "))")
    }

    /// Whether rows are being written on the writer thread.
    var isBackground: Bool { background != nil }

    /// Writes `row` now or, with a writer thread, queues it; the number of the queued chunk
    /// that holds it (0 when written now), for `wait(through:)`.
    @discardableResult
    func write(_ row: PendingRow, now: Bool = false) throws(LedgerError) -> Int {
        guard let background else {
            try execute(row)
            return 0
        }
        return try background.add(row, submit: now)
    }

    /// Runs `body`, which uses the connection, while the writer thread does not.
    func withConnection<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        guard let background else { return try body() }
        return try background.connection.withLock { _ throws(LedgerError) -> T in try body() }
    }

    /// Waits until every queued row is written, so that reads see them.
    func settle() throws(LedgerError) {
        try background?.settle()
    }

    /// Waits until the chunk numbered `ticket` (from `write`) is written.
    func wait(through ticket: Int) throws(LedgerError) {
        try background?.wait(through: ticket)
    }

    /// Starts the writer thread; rows written from now on are queued to it.
    func startBackground() {
        guard background == nil else { return }
        let b = Background(writer: self, chunkRows: chunkRows, maxQueued: maxQueued, lazy: lazyForTesting)
        background = b
        b.start()
    }

    /// Writes everything queued and stops the writer thread; the first error it met, if any.
    func finishBackground() throws(LedgerError) {
        guard let b = background else { return }
        defer { background = nil }
        try b.stop(discarding: false)
    }

    /// Stops the writer thread, dropping what it has not written: the transaction is being
    /// rolled back. Safe to call when no writer runs.
    func abandonBackground() {
        guard let b = background else { return }
        background = nil
        try? b.stop(discarding: true)
    }

    /// Writes a row; on the writer thread (`background` set), holding the connection for each
    /// insert, so that the appending thread's reads wait for one insert, not for thousands.
    fileprivate func execute(_ row: PendingRow, on background: Background? = nil) throws(LedgerError) {
        switch row {
        case .entry(let seq, let bytes):
            try step(background) { () throws(LedgerError) in
                try withBytes(of: bytes) { (buffer: UnsafeRawBufferPointer) throws(LedgerError) in try writeEntry(seq: seq, bytes: buffer) }
            }
        case .partyEntry(let party, let seq):
            try step(background) { () throws(LedgerError) in
                insertPartyEntry.reset()
                try insertPartyEntry.set(1, party)
                try insertPartyEntry.set(2, seq)
                try insertPartyEntry.run()
            }
        case .secondLife(let seq, let pack, let kind, let at):
            try step(background) { () throws(LedgerError) in
                insertSecondLife.reset()
                try insertSecondLife.set(1, seq)
                try insertSecondLife.set(2, pack)
                try insertSecondLife.set(3, kind.rawValue)
                try insertSecondLife.set(4, at)
                try insertSecondLife.run()
            }
        case .node(let level, let index, let hash):
            try step(background) { () throws(LedgerError) in
                insertNode.reset()
                try insertNode.set(1, Int64(level))
                try insertNode.set(2, index)
                try insertNode.check(hash.withUnsafeBytes { insertNode.bindBlob(3, $0) }, 3)
                try insertNode.run()
            }
        case .eventIDs(let rows):
            for (key, seq) in rows {
                try step(background) { () throws(LedgerError) in
                    insertEventID.reset()
                    try insertEventID.set(1, key)
                    try insertEventID.set(2, seq)
                    try insertEventID.run()
                }
            }
        case .packEntries(let rows):
            for (pack, seq) in rows {
                try step(background) { () throws(LedgerError) in
                    insertPackEntry.reset()
                    try insertPackEntry.set(1, pack)
                    try insertPackEntry.set(2, seq)
                    try insertPackEntry.run()
                }
            }
        case .packs(let packs):
            for p in packs { try step(background) { () throws(LedgerError) in try writePack(p) } }
        }
    }

    fileprivate func writeEntry(seq: UInt64, bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        do throws(LedgerError) {
            insertEntry.reset()
            try insertEntry.set(1, seq)
            try insertEntry.run(withBlob: bytes, at: 2)
        } catch {
            throw error.located(entry: seq)
        }
    }

    /// One insert, holding the connection when on the writer thread.
    private func step(_ background: Background?, _ body: () throws(LedgerError) -> Void) throws(LedgerError) {
        guard let background else { return try body() }
        try background.connection.withLock { _ throws(LedgerError) in try body() }
    }

    private func writePack(_ p: PackState) throws(LedgerError) {
        let s = upsertPack
        s.reset()
        try s.set(1, p.pack)
        try s.set(2, p.status.rawValue)
        try s.set(3, p.custodian)
        try s.set(4, p.producer)
        try s.set(5, p.category)
        try s.set(6, p.chemistry)
        try s.set(7, p.massKg)
        try s.set(8, p.energyKwh)
        try s.set(9, p.producedSeq)
        try s.set(10, p.lastSeq)
        try s.set(11, p.lastAt.nanoseconds)
        try s.set(12, p.placedAt?.nanoseconds)
        try s.set(13, p.placedMarket)
        try s.set(14, p.repurposedInto)
        try s.set(15, p.derivedFrom.joined(separator: " "))
        try s.set(16, p.materialsJSON)
        try s.set(17, p.collectedAt?.nanoseconds)
        try s.set(18, p.intakeAt?.nanoseconds)
        try s.set(19, p.intakeKg)
        try s.set(20, p.intakeBy)
        try s.set(21, p.recoveredAt?.nanoseconds)
        try s.set(22, p.inputKg)
        try s.set(23, p.outputKg)
        try s.set(24, p.recoveredJSON)
        try s.run()
    }
}

/// Rows handed to the writer thread in one piece. Entries' bytes are copied into one buffer
/// per chunk, and written chunks come back to the appending thread to be emptied and reused:
/// memory is then allocated and freed on the appending thread only. (Freed on the writer thread,
/// each entry's array went back to the appending thread's malloc arena under that arena's lock,
/// and the two threads spent their time waiting for it.)
private struct Chunk {
    /// A row, with an entry as a range of `bytes`.
    enum Row {
        case entry(seq: UInt64, start: Int, count: Int)
        case other(PendingRow)
    }

    var rows: [Row] = []
    var bytes: [UInt8] = []

    init(rows count: Int) {
        rows.reserveCapacity(count)
        bytes.reserveCapacity(count * 512)
    }

    mutating func append(_ row: PendingRow) {
        if case .entry(let seq, let entry) = row {
            rows.append(.entry(seq: seq, start: bytes.count, count: entry.count))
            bytes.append(contentsOf: entry)
        } else {
            rows.append(.other(row))
        }
    }

    mutating func empty() {
        rows.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// The writer thread and its queue of chunks.
private final class Background: @unchecked Sendable {
    /// Serialises use of the connection between the two threads.
    let connection = Mutex<Void>(())
    /// Guards everything below it except `current`.
    private let condition = NSCondition()
    private var queue: [Chunk] = []
    /// Written chunks, for the appending thread to empty and reuse.
    private var written: [Chunk] = []
    private var submitted = 0
    private var completed = 0
    private var failure: LedgerError?
    private var closing = false
    private var discarding = false
    private var exited = false
    /// The chunk being filled, touched only by the appending thread.
    private var current: Chunk
    private unowned let writer: RowWriter
    private let chunkRows, maxQueued: Int
    /// See `RowWriter.lazyForTesting`; `waiting` counts the appending thread's waits.
    private let lazy: Bool
    private var waiting = 0

    init(writer: RowWriter, chunkRows: Int, maxQueued: Int, lazy: Bool) {
        self.writer = writer
        self.lazy = lazy
        self.chunkRows = max(1, chunkRows)
        self.maxQueued = max(1, maxQueued)
        current = Chunk(rows: self.chunkRows)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "packledger-writer"
        thread.start()
    }

    private func run() {
        condition.lock()
        while true {
            while (queue.isEmpty || lazy && waiting == 0) && !closing { condition.wait() }
            if queue.isEmpty || discarding { break }
            let chunk = queue.removeFirst()
            let failed = failure != nil
            let syncDue = completed > 0 && completed % RowWriter.chunksPerSync == 0
            condition.unlock()
            if syncDue { syncWAL() }
            var error: LedgerError?
            if !failed {
                do throws(LedgerError) { try write(chunk) } catch let e { error = e }
            }
            condition.lock()
            written.append(chunk)
            if let error, failure == nil { failure = error }
            completed += 1
            condition.broadcast()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// The WAL, into which the inserts spill SQLite's cache (`EarlySync`).
    private var wal: EarlySync?

    /// Syncs the WAL outside the connection's lock: the appending thread goes on meanwhile.
    private func syncWAL() {
        if wal == nil { wal = EarlySync(path: writer.walPath) }
        wal?.sync()
    }

    private func write(_ chunk: Chunk) throws(LedgerError) {
        try withBytes(of: chunk.bytes) { (buffer: UnsafeRawBufferPointer) throws(LedgerError) in
            for row in chunk.rows {
                switch row {
                case .entry(let seq, let start, let count):
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[start..<start + count])
                    try connection.withLock { _ throws(LedgerError) in try writer.writeEntry(seq: seq, bytes: bytes) }
                case .other(let row):
                    try writer.execute(row, on: self)
                }
            }
        }
    }

    /// Queues `row`; with `submit`, hands its chunk over at once. The chunk's number.
    func add(_ row: PendingRow, submit: Bool) throws(LedgerError) -> Int {
        current.append(row)
        if submit || current.rows.count >= chunkRows { return try handOver() }
        return submitted
    }

    /// Hands the chunk being filled to the writer; its number.
    @discardableResult
    private func handOver() throws(LedgerError) -> Int {
        var next: Chunk?
        let number: Int
        do {
            condition.lock()
            defer { condition.unlock() }
            waiting += 1
        condition.broadcast()
        while queue.count >= maxQueued && failure == nil { condition.wait() }
        waiting -= 1
            if let failure { throw failure }
            guard !current.rows.isEmpty else { return submitted - 1 }
            queue.append(current)
            submitted += 1
            number = submitted - 1
            condition.broadcast()
            next = written.popLast()
        }
        // Emptied here, outside the lock: the rows' strings and arrays are freed on this thread.
        if var chunk = next {
            chunk.empty()
            current = chunk
        } else {
            current = Chunk(rows: chunkRows)
        }
        return number
    }

    func wait(through ticket: Int) throws(LedgerError) {
        if ticket >= submitted { try handOver() }
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        condition.broadcast()
        while completed <= ticket && failure == nil && !exited { condition.wait() }
        waiting -= 1
        if let failure { throw failure }
    }

    func settle() throws(LedgerError) {
        try handOver()
        try wait(through: submitted - 1)
    }

    func stop(discarding: Bool) throws(LedgerError) {
        if !discarding { try settle() }
        condition.lock()
        defer { condition.unlock() }
        closing = true
        self.discarding = discarding
        condition.broadcast()
        while !exited { condition.wait() }
        if !discarding, let failure { throw failure }
    }
}
