import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 32-byte SHA-256 value: entry hashes, Merkle nodes, key fingerprints.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes; returns nil for any other length.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The all-zero value, used as the `prev` of entry 0.
    public static let zero = Digest(unchecked: [UInt8](repeating: 0, count: 32))

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
        var out = [UInt8](repeating: 0, count: 32)
        let shared = threadContext()
        guard let ctx = shared ?? EVP_MD_CTX_new() else { return Digest(unchecked: out) }
        defer { if shared == nil { EVP_MD_CTX_free(ctx) } }
        // EVP_sha256 cannot fail for the default provider; the checks keep a broken
        // OpenSSL from silently yielding a wrong digest (it yields zeros, which never verify).
        // Re-initialising a context that last ran the same algorithm reuses its state.
        guard EVP_DigestInit_ex(ctx, fetchedSHA256 ?? EVP_sha256(), nil) == 1 else { return Digest(unchecked: out) }
        for part in parts {
            let ok = part.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            guard ok == 1 else { return Digest(unchecked: [UInt8](repeating: 0, count: 32)) }
        }
        var length: UInt32 = 32
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &length) }
        guard ok == 1 else { return Digest(unchecked: [UInt8](repeating: 0, count: 32)) }
        return Digest(unchecked: out)
    }
}
