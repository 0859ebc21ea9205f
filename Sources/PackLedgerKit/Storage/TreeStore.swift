/// The Merkle tree kept in the `tree` table, read through prepared statements.
final class TreeStore: MerkleNodeSource {
    private let selectLeaf, selectNode: Statement
    /// Where completed nodes are written.
    private let rows: RowWriter
    /// Perfect subtrees covering the first `frontierSize` leaves, largest first: the compact
    /// range from which the next nodes are built without reading anything.
    private var frontier: [(level: Int, hash: Digest)] = []
    private var frontierSize: UInt64 = 0
    private var frontierTip: Digest?

    init(db: Database, rows: RowWriter) throws(LedgerError) {
        selectLeaf = try db.prepare("SELECT bytes FROM entries WHERE seq = ?")
        selectNode = try db.prepare("SELECT hash FROM tree WHERE level = ? AND idx = ?")
        self.rows = rows
    }

    /// Nodes below this level are not stored but recomputed from the leaves (at most 16 reads).
    static let lowestStoredLevel = 4

    func perfectNode(level: Int, index: UInt64) throws(LedgerError) -> Digest {
        if level > 0, level < TreeStore.lowestStoredLevel {
            return Merkle.node(try perfectNode(level: level - 1, index: index << 1), try perfectNode(level: level - 1, index: index << 1 | 1))
        }
        let s = level == 0 ? selectLeaf : selectNode
        s.reset()
        defer { s.reset() }
        if level == 0 {
            try s.set(1, index)
        } else {
            try s.set(1, Int64(level))
            try s.set(2, index)
        }
        guard try s.step() else {
            throw LedgerError(.integrity, "the Merkle tree has no node at level \(level) index \(index)")
        }
        // Leaves are not stored: a leaf is the hash of its entry's bytes.
        if level == 0 { return Entry.leafHash(s.blob(0)) }
        guard let d = Digest(s.blob(0)) else {
            throw LedgerError(.integrity, "the Merkle tree node at level \(level) index \(index) is not 32 bytes")
        }
        return d
    }

    /// Makes the frontier describe a tree of `size` leaves whose last leaf is `tip`, reloading
    /// it when a rolled-back transaction or another writer left it stale.
    func prepareFrontier(size: UInt64, tip: Digest) throws(LedgerError) {
        if frontierSize == size, size == 0 || frontierTip == tip { return }
        // The nodes read below may still be queued to the writer thread.
        try rows.settle()
        try rows.withConnection { () throws(LedgerError) in try loadFrontier(size: size, tip: tip) }
    }

    private func loadFrontier(size: UInt64, tip: Digest) throws(LedgerError) {
        var nodes: [(level: Int, hash: Digest)] = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size >> UInt64(level) & 1 == 1 {
            nodes.append((level, try perfectNode(level: level, index: start >> UInt64(level))))
            start += UInt64(1) << UInt64(level)
        }
        frontier = nodes
        frontierSize = size
        frontierTip = size == 0 ? nil : tip
    }

    /// Adds leaf `seq` (= current size) and stores every node it completes.
    func append(leaf: Digest, seq: UInt64) throws(LedgerError) {
        var item = (level: 0, hash: leaf)
        var index = seq
        while let top = frontier.last, top.level == item.level {
            frontier.removeLast()
            item = (item.level + 1, Merkle.node(top.hash, item.hash))
            index >>= 1
            guard item.level >= TreeStore.lowestStoredLevel else { continue }
            try rows.write(.node(level: item.level, index: index, hash: item.hash))
        }
        frontier.append(item)
        frontierSize = seq + 1
        frontierTip = leaf
    }

    /// The root of the current frontier.
    var frontierRoot: Digest {
        guard var hash = frontier.last?.hash else { return Merkle.emptyRoot }
        for node in frontier.dropLast().reversed() { hash = Merkle.node(node.hash, hash) }
        return hash
    }
}
