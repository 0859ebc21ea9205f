import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// The SHA-256 implementation, fetched from OpenSSL's provider once: an implicit fetch on every
/// digest costs a lock and a lookup, which matters at a million entries. An EVP_MD is immutable
/// and OpenSSL documents fetched algorithms as safe to share between threads.
private nonisolated(unsafe) let fetchedSHA256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

/// One digest context per thread, made on first use and freed when the thread ends. Making and
/// freeing a context (and re-counting its algorithm) cost several times the hashing itself for
/// the short inputs of Merkle nodes, and every entry needs a few of those.
private let contextKey: pthread_key_t? = {
    var key = pthread_key_t()
    guard pthread_key_create(&key, { EVP_MD_CTX_free(OpaquePointer($0)) }) == 0 else { return nil }
    return key
}()

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    /// Hashes the concatenation of the given byte sequences without copying them together.
    public static func hash(_ parts: [UInt8]...) -> Digest {
        hash(parts: parts)
    }

    /// This thread's context, or nil when none can be had (then a fresh one is used).
    private static func threadContext() -> OpaquePointer? {
        guard let contextKey else { return nil }
        if let existing = pthread_getspecific(contextKey) { return OpaquePointer(existing) }
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        guard pthread_setspecific(contextKey, UnsafeRawPointer(ctx)) == 0 else {
            EVP_MD_CTX_free(ctx)
            return nil
        }
        return ctx
    }

    /// Hashes the concatenation of `parts`.
    public static func hash(parts: [[UInt8]]) -> Digest {
        digest { ctx in
            parts.allSatisfy { part in part.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) == 1 } }
        }
    }

    /// SHA-256(`prefix` ‖ `a` ‖ `b`), with nothing copied together: the shape of RFC 6962 leaf
    /// and node hashes, made once per entry and per Merkle node.
    static func hash(prefix: UInt8, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer? = nil) -> Digest {
        digest { ctx in
            var p = prefix
            return EVP_DigestUpdate(ctx, &p, 1) == 1 && EVP_DigestUpdate(ctx, a.baseAddress, a.count) == 1
                && (b.map { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) == 1 } ?? true)
        }
    }

    /// Runs `feed` (which makes the updates and says whether they all succeeded) between the
    /// init and final of this thread's context, straight into the digest's storage.
    private static func digest(_ feed: (OpaquePointer) -> Bool) -> Digest {
        var out = Digest.zero
        let shared = threadContext()
        guard let ctx = shared ?? EVP_MD_CTX_new() else { return .zero }
        defer { if shared == nil { EVP_MD_CTX_free(ctx) } }
        // EVP_sha256 cannot fail for the default provider; the checks keep a broken
        // OpenSSL from silently yielding a wrong digest (it yields zeros, which never verify).
        // Re-initialising a context that last ran the same algorithm reuses its state.
        guard EVP_DigestInit_ex(ctx, fetchedSHA256 ?? EVP_sha256(), nil) == 1, feed(ctx) else { return .zero }
        var length: UInt32 = 32
        let ok = out.withUnsafeMutableBytes { EVP_DigestFinal_ex(ctx, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) }
        guard ok == 1, length == 32 else { return .zero }
        return out
    }
}
