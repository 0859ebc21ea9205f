import COpenSSL

/// A 32-byte SHA-256 value: entry hashes, Merkle nodes, key fingerprints.
///
/// The bytes are held inline, in memory order, as four words: every entry, batch leaf and
/// Merkle node makes a digest, and a heap array per digest cost an allocation plus reference
/// counting on each copy, a measurable share of `verify` and `import`.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
    private var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    /// The 32 bytes (a new array on each call).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Wraps 32 bytes; returns nil for any other length.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.init(unchecked: bytes)
    }

    /// Copies exactly 32 bytes; the caller has checked the count.
    init(unchecked bytes: some Collection<UInt8>) {
        withUnsafeMutableBytes { out in
            for (i, b) in zip(0..<32, bytes) { out[i] = b }
        }
    }

    /// The all-zero value, used as the `prev` of entry 0.
    public static let zero = Digest(zeroed: ())

    private init(zeroed: Void) {}

    /// Parses exactly 64 lowercase hex digits (the one spelling entries use); nil otherwise.
    init?(lowercaseHex text: ArraySlice<UInt8>) {
        guard text.count == 64 else { return nil }
        // Every entry's header holds one: decoded with no optionals or bounds checks per digit,
        // any bad digit folded into one flag checked at the end.
        var bad: UInt8 = 0
        withUnsafeMutableBytes { out in
            text.withUnsafeBufferPointer { hex in
                for k in 0..<32 {
                    let hi = Hex.lowercaseNibble(hex[2 * k]), lo = Hex.lowercaseNibble(hex[2 * k + 1])
                    bad |= (hi | lo) & 0xf0
                    out[k] = hi << 4 | lo
                }
            }
        }
        guard bad == 0 else { return nil }
    }

    /// Calls `body` with the 32 bytes in place.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeMutableBytes(of: &self) { try body(UnsafeMutableRawBufferPointer(rebasing: $0[0..<32])) }
    }

    /// Lowercase hex.
    public var hex: String { Hex.encode(bytes) }
    /// Standard base64 with padding, as in checkpoints.
    public var base64: String { Base64.encode(bytes) }
    /// Lowercase hex.
    public var description: String { hex }
}

/// SHA-256 through OpenSSL's low-level interface, on a context on the caller's stack.
///
/// Not EVP: OpenSSL 3.0's `EVP_DigestInit_ex` frees and allocates its provider context on every
/// call, even on a reused `EVP_MD_CTX` (measured: one allocation per hash, 3.6 per entry in a
/// `verify`), and entries and Merkle nodes need two to four short hashes each. The low-level
/// functions are the same implementation (SHA-NI where the CPU has it) without the allocation.
public enum SHA256 {
    /// Hashes the concatenation of the given byte sequences without copying them together.
    public static func hash(_ parts: [UInt8]...) -> Digest {
        hash(parts: parts)
    }

    /// Hashes the concatenation of `parts`.
    public static func hash(parts: [[UInt8]]) -> Digest {
        digest { ctx in
            parts.allSatisfy { part in part.withUnsafeBytes { packledger_sha256_update(ctx, $0.baseAddress, $0.count) == 1 } }
        }
    }

    /// SHA-256(`prefix` ‖ `a` ‖ `b`), with nothing copied together: the shape of RFC 6962 leaf
    /// and node hashes, made once per entry and per Merkle node.
    static func hash(prefix: UInt8, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer? = nil) -> Digest {
        digest { ctx in
            var p = prefix
            return packledger_sha256_update(ctx, &p, 1) == 1 && packledger_sha256_update(ctx, a.baseAddress, a.count) == 1
                && (b.map { packledger_sha256_update(ctx, $0.baseAddress, $0.count) == 1 } ?? true)
        }
    }

    /// Runs `feed` (which makes the updates and says whether they all succeeded) between init
    /// and final, straight into the digest's storage.
    private static func digest(_ feed: (UnsafeMutablePointer<SHA256_CTX>) -> Bool) -> Digest {
        var out = Digest.zero
        var ctx = SHA256_CTX()
        // These cannot fail for in-memory input; the checks keep a broken OpenSSL from silently
        // yielding a wrong digest (it yields zeros, which never verify).
        guard packledger_sha256_init(&ctx) == 1, feed(&ctx) else { return .zero }
        let ok = out.withUnsafeMutableBytes { packledger_sha256_final($0.baseAddress?.assumingMemoryBound(to: UInt8.self), &ctx) }
        guard ok == 1 else { return .zero }
        return out
    }
}
