import CSQLite

/// Event-id lookups against the ledger as it was committed when an import began, on a second,
/// read-only connection: the import's reading thread answers "is this event already in the
/// ledger?" for a whole unit ahead of time, so the thread that appends does not wait on a B-tree
/// probe per event (at a million entries, the largest single cost of an append).
///
/// Opened inside the import's write transaction, so no other writer can commit after its
/// snapshot: its answers are exactly the ledger before the import. Events the import itself
/// writes are not visible to it; `WrittenKeys` tells the appending thread when to ask its own
/// connection instead. Used by one thread at a time.
final class CommittedEvents: @unchecked Sendable {
    private let db: Database
    private let select, selectPack: Statement
    private var open = false

    /// Opens a read connection to the ledger at `path`.
    init(path: String) throws(LedgerError) {
        db = try Database(path: path, readOnly: true)
        select = try db.prepare(SQLState.eventLookup)
        selectPack = try db.prepare("SELECT \(SQLState.packColumns) FROM packs WHERE pack = ?")
    }

    private func begin() throws(LedgerError) {
        if !open {
            // The snapshot starts at the first read and lasts until `close`.
            try db.execute("BEGIN")
            open = true
        }
    }

    /// The records of those `keys` already in the ledger (most often none). Probed in key order,
    /// so that neighbouring keys share B-tree pages.
    func records(_ keys: [EventKey]) throws(LedgerError) -> [EventKey: EventRecord] {
        try begin()
        var found: [EventKey: EventRecord] = [:]
        for key in keys.sorted(by: { ($0.high, $0.low) < ($1.high, $1.low) }) {
            select.reset()
            try select.set(1, key)
            guard try select.step() else { continue }
            found[key] = try SQLState.eventRecord(row: select)
        }
        select.reset()
        return found
    }

    /// The states of those packs `ids` names that the ledger holds (in a new ledger, none), so
    /// that the appending thread need not read the `packs` table for a pack this import has not
    /// touched yet.
    func packs(_ ids: [String]) throws(LedgerError) -> [String: PackState] {
        try begin()
        var found: [String: PackState] = [:]
        var last: String?
        for id in ids.sorted() where id != last {
            last = id
            selectPack.reset()
            try selectPack.set(1, id)
            guard try selectPack.step() else { continue }
            found[id] = try SQLState.packRow(selectPack)
        }
        selectPack.reset()
        return found
    }

    /// Ends the read snapshot, so that the import's commit can checkpoint past it.
    func close() {
        select.reset()
        selectPack.reset()
        if open { try? db.execute("COMMIT") }
        open = false
    }
}

/// A Bloom filter of the event keys written in the current transaction: "no" is certain, "maybe"
/// sends the lookup to the writing connection. Fixed size (8 MiB), so memory stays bounded
/// however large the import; past a few million keys it says "maybe" more often, which costs
/// time, never correctness.
struct WrittenKeys {
    private var filter = WordFilter(words: 1 << 20)

    /// Forgets every key (and the memory, until the next insert).
    mutating func removeAll() { filter.removeAll() }

    /// Mixed from both halves of the key, so that ids that are not random still spread.
    private static func hash(_ key: EventKey) -> UInt64 {
        var h = key.high &* 0x9E37_79B9_7F4A_7C15 ^ key.low
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ h >> 32
    }

    mutating func insert(_ key: EventKey) { filter.insert(WrittenKeys.hash(key)) }

    /// Starts loading the word `key` maps to, which `mayContain` and `insert` will read a few
    /// events later (see `packledger_prefetch`).
    func prefetch(_ key: EventKey) { filter.prefetch(WrittenKeys.hash(key)) }

    /// False only when `key` was certainly not inserted.
    func mayContain(_ key: EventKey) -> Bool { filter.mayContain(WrittenKeys.hash(key)) }
}

/// A Bloom filter of the packs changed in the current transaction, in the manner of
/// `WrittenKeys`: for a pack it certainly excludes, the state from before the import
/// (`SQLState.packHint`) is current. 1 MiB: at a few hundred thousand packs it says "maybe" for
/// about one in a thousand others, each of which then costs one read of the `packs` table.
struct TouchedPacks {
    private var filter = WordFilter(words: 1 << 17)

    /// Forgets every pack (and the memory, until the next insert).
    mutating func removeAll() { filter.removeAll() }

    private static func hash(_ id: String) -> UInt64 {
        let h = UInt64(bitPattern: Int64(id.hashValue))
        return (h ^ h >> 31) &* 0x9E37_79B9_7F4A_7C15
    }

    mutating func insert(_ id: String) { filter.insert(TouchedPacks.hash(id)) }

    /// False only when `id` was certainly not inserted.
    func mayContain(_ id: String) -> Bool { filter.mayContain(TouchedPacks.hash(id)) }
}

/// The bits behind `WrittenKeys` and `TouchedPacks`: each item sets two distinct bits of one
/// word, picked from a well-mixed 64-bit hash. Both bits in one word: an item costs one cache
/// miss, not two, and the insert that follows a "no" finds the word already cached.
struct WordFilter {
    private var bits: [UInt64] = []
    private let words: Int

    /// A filter of `words` 64-bit words (a power of two), allocated at the first insert.
    init(words: Int) { self.words = words }

    mutating func removeAll() { bits = [] }

    private func position(_ hash: UInt64) -> (word: Int, mask: UInt64) {
        let first = hash >> 52 & 63, second = (first + 1 + (hash >> 58) % 63) & 63
        return (Int(truncatingIfNeeded: hash) & (words - 1), 1 << first | 1 << second)
    }

    mutating func insert(_ hash: UInt64) {
        if bits.isEmpty { bits = [UInt64](repeating: 0, count: words) }
        let (word, mask) = position(hash)
        bits[word] |= mask
    }

    func prefetch(_ hash: UInt64) {
        let word = position(hash).word
        bits.withUnsafeBufferPointer { words in
            if let base = words.baseAddress, word < words.count { packledger_prefetch(base + word) }
        }
    }

    func mayContain(_ hash: UInt64) -> Bool {
        guard !bits.isEmpty else { return false }
        let (word, mask) = position(hash)
        return bits[word] & mask == mask
    }
}
