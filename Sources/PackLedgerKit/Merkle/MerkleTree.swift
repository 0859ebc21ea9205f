/// RFC 6962 / RFC 9162 Merkle tree hashing.
public enum Merkle {
    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot = SHA256.hash([])

    /// An interior node: SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: Digest, _ right: Digest) -> Digest {
        left.withUnsafeBytes { l in right.withUnsafeBytes { r in SHA256.hash(prefix: 1, l, r) } }
    }

    /// The root over leaf hashes given in order, in one pass with O(log n) memory: a stack of
    /// perfect subtrees, merged while two of equal height meet, then folded right to left,
    /// which is exactly RFC 6962's split at the largest power of two below n.
    public struct RootAccumulator {
        private var stack: [(height: Int, hash: Digest)] = []
        /// Number of leaves added.
        public private(set) var count: UInt64 = 0

        /// An empty accumulator.
        public init() {}

        /// Adds the next leaf hash.
        public mutating func append(_ leaf: Digest) {
            var item = (height: 0, hash: leaf)
            while let top = stack.last, top.height == item.height {
                stack.removeLast()
                item = (top.height + 1, Merkle.node(top.hash, item.hash))
            }
            stack.append(item)
            count += 1
        }

        /// The root of the leaves added so far.
        public var root: Digest {
            guard var hash = stack.last?.hash else { return Merkle.emptyRoot }
            for item in stack.dropLast().reversed() { hash = Merkle.node(item.hash, hash) }
            return hash
        }
    }
}
