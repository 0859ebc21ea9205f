/// Where the hashes of perfect subtrees come from: the ledger's `tree` table, or memory in tests.
///
/// `perfectNode(level:index:)` is the root of leaves `[index << level, (index + 1) << level)`;
/// level 0 is a leaf hash. Everything below needs only O(log n) of these per proof.
public protocol MerkleNodeSource {
    /// The root of a perfect, aligned subtree.
    func perfectNode(level: Int, index: UInt64) throws(LedgerError) -> Digest
}

extension MerkleNodeSource {
    /// MTH of leaves `[start, end)` for the ranges RFC 6962's recursion produces, where `start`
    /// is a multiple of the largest power of two not above `end - start`.
    public func subtreeHash(_ start: UInt64, _ end: UInt64) throws(LedgerError) -> Digest {
        let size = end - start
        guard size > 0 else { return Merkle.emptyRoot }
        if size & (size - 1) == 0 {
            let level = size.trailingZeroBitCount
            if start % size == 0 { return try perfectNode(level: level, index: start >> level) }
        }
        let k = Merkle.largestPowerOfTwo(below: size)
        return Merkle.node(try subtreeHash(start, start + k), try subtreeHash(start + k, end))
    }

    /// The root of the tree of the first `size` leaves.
    public func root(size: UInt64) throws(LedgerError) -> Digest { try subtreeHash(0, size) }

    /// RFC 9162 §2.1.3.1 inclusion proof for leaf `index` in the tree of `size` leaves.
    public func inclusionProof(index: UInt64, size: UInt64) throws(LedgerError) -> [Digest] {
        guard index < size else {
            throw LedgerError(.outOfRange, "leaf \(index) is not in a tree of size \(size)")
        }
        var proof: [Digest] = []
        try path(index, 0, size, &proof)
        return proof
    }

    private func path(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ proof: inout [Digest]) throws(LedgerError) {
        let n = end - start
        guard n > 1 else { return }
        let k = Merkle.largestPowerOfTwo(below: n)
        if m < k {
            try path(m, start, start + k, &proof)
            proof.append(try subtreeHash(start + k, end))
        } else {
            try path(m - k, start + k, end, &proof)
            proof.append(try subtreeHash(start, start + k))
        }
    }

    /// RFC 9162 §2.1.4.1 consistency proof from the tree of `oldSize` leaves to `newSize`.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws(LedgerError) -> [Digest] {
        guard oldSize > 0, oldSize <= newSize else {
            throw LedgerError(.outOfRange, "no consistency proof from size \(oldSize) to \(newSize)")
        }
        var proof: [Digest] = []
        try subproof(oldSize, 0, newSize, true, &proof)
        return proof
    }

    private func subproof(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ b: Bool, _ proof: inout [Digest]) throws(LedgerError) {
        let n = end - start
        if m == n {
            if !b { proof.append(try subtreeHash(start, end)) }
            return
        }
        let k = Merkle.largestPowerOfTwo(below: n)
        if m <= k {
            try subproof(m, start, start + k, b, &proof)
            proof.append(try subtreeHash(start + k, end))
        } else {
            try subproof(m - k, start + k, end, false, &proof)
            proof.append(try subtreeHash(start, start + k))
        }
    }
}

extension Merkle {
    /// The largest power of two strictly below `n` (n ≥ 2).
    public static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` with `root`.
    public static func verifyInclusion(leaf: Digest, index: UInt64, size: UInt64, proof: [Digest], root: Digest) -> Bool {
        guard index < size else { return false }
        var fn = index, sn = size - 1
        var r = leaf
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows the tree (`newSize`, `newRoot`) extends
    /// (`oldSize`, `oldRoot`). A proof from size 0 is rejected, as transparency-dev does:
    /// the empty tree is consistent with everything, so such a proof proves nothing.
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: Digest, newRoot: Digest, proof: [Digest]) -> Bool {
        guard oldSize > 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = node(c, fr)
                sr = node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}

/// Leaf hashes held in memory; perfect nodes computed on demand. For tests and small trees.
public struct InMemoryTree: MerkleNodeSource, Sendable {
    /// The leaf hashes in order.
    public var leaves: [Digest]

    /// A tree over the given leaf hashes.
    public init(leaves: [Digest]) { self.leaves = leaves }

    /// See `MerkleNodeSource`.
    public func perfectNode(level: Int, index: UInt64) throws(LedgerError) -> Digest {
        let start = Int(index << level), count = 1 << level
        guard start + count <= leaves.count else {
            throw LedgerError(.notFound, "no subtree at level \(level) index \(index)")
        }
        if level == 0 { return leaves[start] }
        return Merkle.node(try perfectNode(level: level - 1, index: index << 1), try perfectNode(level: level - 1, index: index << 1 | 1))
    }
}
