import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Crypto known answers")
struct CryptoTests {
    // RFC 8032 §7.1, TEST 1 (empty message).
    static let rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let rfc8032Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let rfc8032Signature = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

    @Test func rfc8032Test1() throws {
        let key = try Ed25519PrivateKey(seed: #require(Hex.decode(Self.rfc8032Seed)))
        #expect(key.publicKey.raw.hexString == Self.rfc8032Public)
        let signature = try key.sign([])
        #expect(signature.hexString == Self.rfc8032Signature)
        #expect(key.publicKey.isValidSignature(signature, for: []))
        var bad = signature
        bad[10] ^= 0x01
        #expect(!key.publicKey.isValidSignature(bad, for: []))
        #expect(!key.publicKey.isValidSignature(signature, for: [0]))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: []))
    }

    // VECTORS.md §1: SHA-256 values (RFC 6962 leaf and node hashing).
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("00", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        ("004c313233343536", "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"),
        ("014e3132334e343536", "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"),
        // FIPS 180-2 appendix B.2: two blocks once padded.
        (Hex.encode(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        // FIPS 180-2 appendix B.3: one million "a", many blocks.
        (String(repeating: "61", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ])
    func sha256(input: String, expected: String) throws {
        #expect(SHA256.hash(try #require(Hex.decode(input))).hex == expected)
    }

    /// `isValidSignature(_:forEvent:)` assembles the signed message in a temporary buffer (on
    /// the stack when small, on the heap when not); it must accept exactly what a signature
    /// over `Event.signedMessage(bytes)` covers, at either size.
    @Test(arguments: [0, 1, 348, 4_000, 70_000])
    func eventSignatureCheckMatchesTheSignedMessage(size: Int) throws {
        let key = try Ed25519PrivateKey(seed: Array(repeating: 7, count: 32))
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        let signature = try key.sign(Event.signedMessage(bytes))
        #expect(key.publicKey.isValidSignature(signature, forEvent: bytes))
        #expect(key.publicKey.isValidSignature(signature, for: Event.signedMessage(bytes)))
        // Without the context, or with one byte changed, it is not the signed message.
        #expect(!key.publicKey.isValidSignature(try key.sign(bytes), forEvent: bytes))
        if size > 0 {
            var altered = bytes
            altered[size / 2] ^= 1
            #expect(!key.publicKey.isValidSignature(signature, forEvent: altered))
        }
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), forEvent: bytes))
    }

    @Test func sha256OfPartsEqualsHashOfConcatenation() {
        let a: [UInt8] = Array("hello ".utf8), b: [UInt8] = Array("world".utf8)
        #expect(SHA256.hash(a, b) == SHA256.hash(a + b))
        // x/mod tlog.RecordHash("hello world"), VECTORS.md §1.
        #expect(Entry.leafHash(a + b).base64 == "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=")
    }

    /// The fast digit decoders behind entry headers (`prev`) and event ids, checked for every
    /// byte value against the plain definition: one wrong digit would misread a hash or an id.
    @Test func hexDigestAndUUIDParsersAgreeWithTheDefinition() throws {
        let digest = SHA256.hash(Array("x".utf8))
        #expect(Digest(lowercaseHex: Array(digest.hex.utf8)[...]) == digest)
        #expect(Digest(lowercaseHex: Array(digest.hex.uppercased().utf8)[...]) == nil)
        #expect(Digest(lowercaseHex: Array(digest.hex.dropLast().utf8)[...]) == nil)
        #expect(Digest(lowercaseHex: Array((digest.hex + "0").utf8)[...]) == nil)
        let uuid = "0123abcd-ef45-4678-89ab-cdef01234567"
        let key = try #require(EventKey(uuid: uuid))
        #expect(key.high == 0x0123_abcd_ef45_4678 && key.low == 0x89ab_cdef_0123_4567)
        #expect(EventKey(uuid: uuid.uppercased()) == key)
        for b in UInt8(0)...UInt8(255) {
            let lower = (b >= 48 && b <= 57) || (b >= 97 && b <= 102), either = lower || (b >= 65 && b <= 70)
            var text = Array(digest.hex.utf8)
            text[17] = b
            #expect((Digest(lowercaseHex: text[...]) != nil) == lower, "byte \(b) in a digest")
            var id = Array(uuid.utf8)
            id[20] = b
            #expect((EventKey(uuid: String(decoding: id, as: UTF8.self)) != nil) == either, "byte \(b) in a UUID")
        }
        for bad in ["0123abcd0ef45-4678-89ab-cdef01234567", "0123abcd-ef45-4678-89ab-cdef0123456", "0123abcd-ef45-4678-89ab-cdef012345678",
                    "0123abcd-ef4-54678-89ab-cdef01234567", ""] {
            #expect(EventKey(uuid: bad) == nil, "\(bad)")
        }
    }

    // VECTORS.md §2.1: the PeterNeumann key reproduces the published note signature and key id.
    @Test func signedNoteKnownAnswer() throws {
        let skey = try #require(Base64.decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"))
        let key = try Ed25519PrivateKey(seed: Array(skey.dropFirst()))
        let vkey = try #require(Base64.decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"))
        #expect(key.publicKey.raw == Array(vkey.dropFirst()))
        #expect(NoteKey.verifierKey(name: "PeterNeumann", key: key.publicKey) == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
        let signature = try key.sign(Array(text.utf8))
        let expected = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        #expect(Base64.encode(NoteKey.keyID(name: "PeterNeumann", key: key.publicKey) + signature) == expected)
    }

    @Test func pemRoundTripAndFileModes() throws {
        let dir = try TemporaryDirectory()
        let key = try Ed25519PrivateKey.generate()
        let path = dir.path("k.key")
        try KeyFiles.write(key, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try KeyFiles.loadPrivateKey(path).publicKey == key.publicKey)
        #expect(try KeyFiles.loadPublicKey(path + ".pub") == key.publicKey)
        #expect(String(decoding: try KeyFiles.read(path), as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(String(decoding: try KeyFiles.read(path + ".pub"), as: UTF8.self).hasPrefix("-----BEGIN PUBLIC KEY-----"))
        // Never overwrite a key.
        #expect(throws: LedgerError.self) { try KeyFiles.write(key, to: path) }
    }

    @Test func malformedKeysAreRejected() throws {
        #expect(throws: LedgerError.self) { try Ed25519PublicKey(pem: Array("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".utf8)) }
        #expect(throws: LedgerError.self) { try Ed25519PrivateKey(pem: Array("garbage".utf8)) }
        #expect(throws: LedgerError.self) { try Ed25519PublicKey(raw: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: LedgerError.self) { try Ed25519PrivateKey(seed: [1, 2, 3]) }
    }

    @Test func base64IsStrict() {
        #expect(Base64.decode("AA==") == [0])
        #expect(Base64.decode("AB==") == nil) // non-zero pad bits
        #expect(Base64.decode("AA=") == nil)
        #expect(Base64.decode("A A=") == nil)
        #expect(Base64.decode("=AAA") == nil)
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }
}

@Suite("RFC 6962 roots")
struct MerkleRootTests {
    // VECTORS.md §1.1 leaves and §1.2 roots for sizes 0…8.
    static let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsForSizesZeroToEight() throws {
        for size in 0...8 {
            var acc = Merkle.RootAccumulator()
            for leaf in Self.leaves.prefix(size) { acc.append(Entry.leafHash(try #require(Hex.decode(leaf)))) }
            #expect(acc.root.hex == Self.roots[size], "size \(size)")
        }
    }
}

extension Array where Element == UInt8 {
    var hexString: String { Hex.encode(self) }
}
