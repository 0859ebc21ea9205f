import COpenSSL

/// The most recent OpenSSL error as text, draining OpenSSL's per-thread error queue so
/// that a later failure is not reported with a stale message.
func openSSLErrorText() -> String {
    var last: UInt = 0
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        last = code
    }
    guard last != 0 else { return "no OpenSSL error detail" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(last, &buffer, buffer.count)
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads the contents of a memory BIO.
private func bioContents(_ bio: OpaquePointer) -> [UInt8] {
    var pointer: UnsafeMutablePointer<CChar>?
    let length = packledger_bio_get_mem_data(bio, &pointer)
    guard length > 0, let pointer else { return [] }
    return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        Array(UnsafeBufferPointer(start: $0, count: length))
    }
}

/// Runs `body` with a read-only memory BIO over `bytes`.
private func withReadBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) -> T? {
    bytes.withUnsafeBytes { raw -> T? in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
        defer { BIO_free(bio) }
        return body(bio)
    }
}

/// An Ed25519 public key: 32 raw bytes, with a cached OpenSSL handle for verification.
///
/// The OpenSSL key object is immutable after creation and OpenSSL 3 allows concurrent
/// verification with one key, which is why this may be shared across threads.
public final class Ed25519PublicKey: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The 32-byte RFC 8032 encoding.
    public let raw: [UInt8]
    private let pkey: OpaquePointer

    /// Creates a key from its 32 raw bytes.
    public init(raw: [UInt8]) throws(LedgerError) {
        guard raw.count == 32 else {
            throw LedgerError(.crypto, "an Ed25519 public key has 32 bytes, not \(raw.count)")
        }
        guard let pkey = raw.withUnsafeBufferPointer({
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
        }) else {
            throw LedgerError(.crypto, "OpenSSL rejected the public key: \(openSSLErrorText())")
        }
        self.raw = raw
        self.pkey = pkey
    }

    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding an Ed25519 key.
    public convenience init(pem: [UInt8]) throws(LedgerError) {
        let loaded = withReadBIO(pem) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        guard let loaded, let pkey = loaded else {
            throw LedgerError(.crypto, "not a PEM public key: \(openSSLErrorText())")
        }
        defer { EVP_PKEY_free(pkey) }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 else {
            throw LedgerError(.crypto, "the public key is not an Ed25519 key")
        }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
            throw LedgerError(.crypto, "cannot read the raw public key: \(openSSLErrorText())")
        }
        try self.init(raw: raw)
    }

    deinit { EVP_PKEY_free(pkey) }

    /// The key as a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo).
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, pkey) == 1 else { return "" }
        return String(decoding: bioContents(bio), as: UTF8.self)
    }

    /// The ledger's key id: the first 8 bytes of SHA-256 of the raw key, as 16 hex digits.
    public var keyID: String { Hex.encode(Array(SHA256.hash(raw).bytes.prefix(8))) }

    /// Whether `signature` is a valid Ed25519 signature of `message` under this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        message.withUnsafeBufferPointer { isValidSignature(signature, for: $0) }
    }

    /// Whether `signature` is a valid signature of event bytes `bytes`, that is of
    /// `Event.signedMessage(bytes)`. The message is assembled in a temporary buffer (on the
    /// stack for events of usual size) instead of a new array: this runs once per imported or
    /// verified event.
    public func isValidSignature(_ signature: [UInt8], forEvent bytes: [UInt8]) -> Bool {
        let context = Event.signingContext
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: context.count + bytes.count) { message in
            var end = message.initialize(fromContentsOf: context)
            end = message[end...].initialize(fromContentsOf: bytes)
            return isValidSignature(signature, for: UnsafeBufferPointer(rebasing: message[..<end]))
        }
    }

    private func isValidSignature(_ signature: [UInt8], for message: UnsafeBufferPointer<UInt8>) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else {
            _ = openSSLErrorText()
            return false
        }
        let result = signature.withUnsafeBufferPointer { sig in
            EVP_DigestVerify(ctx, sig.baseAddress, sig.count, message.baseAddress, message.count)
        }
        if result != 1 { _ = openSSLErrorText() }
        return result == 1
    }

    /// The key id.
    public var description: String { keyID }

    /// Keys are equal when their raw bytes are.
    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool { lhs.raw == rhs.raw }
    /// Hashes the raw bytes.
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }
}

/// An Ed25519 private key held by OpenSSL.
public final class Ed25519PrivateKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    private init(pkey: OpaquePointer) throws(LedgerError) {
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
            EVP_PKEY_free(pkey)
            throw LedgerError(.crypto, "cannot derive the public key: \(openSSLErrorText())")
        }
        do {
            self.publicKey = try Ed25519PublicKey(raw: raw)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A new random key from OpenSSL's CSPRNG.
    public static func generate() throws(LedgerError) -> Ed25519PrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw LedgerError(.crypto, "cannot create a key context: \(openSSLErrorText())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &pkey) == 1, let pkey else {
            throw LedgerError(.crypto, "key generation failed: \(openSSLErrorText())")
        }
        return try Ed25519PrivateKey(pkey: pkey)
    }

    /// The key with the given 32-byte RFC 8032 seed (used by known-answer tests and
    /// by signed-note `PRIVATE+KEY` strings).
    public convenience init(seed: [UInt8]) throws(LedgerError) {
        guard seed.count == 32 else {
            throw LedgerError(.crypto, "an Ed25519 seed has 32 bytes, not \(seed.count)")
        }
        guard let pkey = seed.withUnsafeBufferPointer({
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
        }) else {
            throw LedgerError(.crypto, "OpenSSL rejected the seed: \(openSSLErrorText())")
        }
        try self.init(pkey: pkey)
    }

    /// Reads an unencrypted PEM `PRIVATE KEY` (PKCS#8) holding an Ed25519 key.
    public convenience init(pem: [UInt8]) throws(LedgerError) {
        let loaded = withReadBIO(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        guard let loaded, let pkey = loaded else {
            throw LedgerError(.crypto, "not a PEM private key: \(openSSLErrorText())")
        }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(pkey)
            throw LedgerError(.crypto, "the private key is not an Ed25519 key")
        }
        try self.init(pkey: pkey)
    }

    /// The key as an unencrypted PKCS#8 PEM block.
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else { return "" }
        return String(decoding: bioContents(bio), as: UTF8.self)
    }

    /// Signs `message` (pure Ed25519, deterministic per RFC 8032).
    public func sign(_ message: [UInt8]) throws(LedgerError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else {
            throw LedgerError(.crypto, "cannot create a signing context")
        }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else {
            throw LedgerError(.crypto, "signing init failed: \(openSSLErrorText())")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let ok = message.withUnsafeBufferPointer { msg in
            EVP_DigestSign(ctx, &signature, &length, msg.baseAddress, msg.count)
        }
        guard ok == 1, length == 64 else {
            throw LedgerError(.crypto, "signing failed: \(openSSLErrorText())")
        }
        return signature
    }
}
