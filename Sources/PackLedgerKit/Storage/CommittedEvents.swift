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
    private let select: Statement
    private var open = false

    /// Opens a read connection to the ledger at `path`.
    init(path: String) throws(LedgerError) {
        db = try Database(path: path, readOnly: true)
        select = try db.prepare(SQLState.eventLookup)
    }

    /// The records of those `keys` already in the ledger (most often none). Probed in key order,
    /// so that neighbouring keys share B-tree pages.
    func records(_ keys: [EventKey]) throws(LedgerError) -> [EventKey: EventRecord] {
        if !open {
            // The snapshot starts at the first read and lasts until `close`.
            try db.execute("BEGIN")
            open = true
        }
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

    /// Ends the read snapshot, so that the import's commit can checkpoint past it.
    func close() {
        select.reset()
        if open { try? db.execute("COMMIT") }
        open = false
    }
}

/// A Bloom filter of the event keys written in the current transaction: "no" is certain, "maybe"
/// sends the lookup to the writing connection. Fixed size (8 MiB), so memory stays bounded
/// however large the import; past a few million keys it says "maybe" more often, which costs
/// time, never correctness.
struct WrittenKeys {
    private var bits: [UInt64] = []
    private static let words = 1 << 20

    /// Forgets every key (and the memory, until the next insert).
    mutating func removeAll() { bits = [] }

    /// A word and two distinct bits in it, mixed from the key so that ids that are not random
    /// still spread. Both bits in one word: a key costs one cache miss, not two, and the insert
    /// that follows a "no" finds the word already cached.
    private static func position(_ key: EventKey) -> (word: Int, mask: UInt64) {
        var h = key.high &* 0x9E37_79B9_7F4A_7C15 ^ key.low
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        let first = h >> 52 & 63, second = (first + 1 + (h >> 58) % 63) & 63
        return (Int(truncatingIfNeeded: h) & (words - 1), 1 << first | 1 << second)
    }

    mutating func insert(_ key: EventKey) {
        if bits.isEmpty { bits = [UInt64](repeating: 0, count: WrittenKeys.words) }
        let (word, mask) = WrittenKeys.position(key)
        bits[word] |= mask
    }

    /// Starts loading the word `key` maps to, which `mayContain` and `insert` will read a few
    /// events later (see `packledger_prefetch`).
    func prefetch(_ key: EventKey) {
        let word = WrittenKeys.position(key).word
        bits.withUnsafeBufferPointer { words in
            if let base = words.baseAddress, word < words.count { packledger_prefetch(base + word) }
        }
    }

    /// False only when `key` was certainly not inserted.
    func mayContain(_ key: EventKey) -> Bool {
        guard !bits.isEmpty else { return false }
        let (word, mask) = WrittenKeys.position(key)
        return bits[word] & mask == mask
    }
}
