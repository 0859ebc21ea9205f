import Foundation
import Testing
@testable import PackLedgerKit

@Suite("C2SP signed notes and checkpoints")
struct NoteTests {
    // VECTORS.md §2.1 (golang.org/x/mod/sumdb/note note_test.go).
    static let peterVKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let peterSKey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let enochVKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterLine = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochLine = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    static func peterKey() throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: Array((Base64.decode(peterSKey) ?? []).dropFirst()))
    }

    @Test func signReproducesThePublishedNote() throws {
        let sig = try Note.sign(text: Array(Self.text.utf8), name: "PeterNeumann", key: Self.peterKey())
        let note = Note(text: Array(Self.text.utf8), signatures: [sig])
        #expect(String(decoding: note.bytes, as: UTF8.self) == Self.text + "\n" + Self.peterLine)
        #expect(NoteVerifierKey(name: "PeterNeumann", type: .ed25519, key: try Self.peterKey().publicKey).description == Self.peterVKey)
    }

    @Test func openWithKnownAndUnknownKeys() throws {
        let peter = try NoteVerifierKey(parsing: Self.peterVKey), enoch = try NoteVerifierKey(parsing: Self.enochVKey)
        let note = try Note(parsing: Array((Self.text + "\n" + Self.peterLine + Self.enochLine).utf8))
        #expect(try note.verify([peter]) == [peter])
        #expect(try note.verify([peter, enoch]) == [peter, enoch])
        let none = #expect(throws: LedgerError.self) { try note.verify([]) }
        #expect(none?.reason == "note has no verifiable signatures")
    }

    @Test func tooManySignaturesIsMalformed() {
        let bytes = Array((Self.text + "\n" + String(repeating: Self.peterLine, count: 101)).utf8)
        let error = #expect(throws: LedgerError.self) { try Note(parsing: bytes) }
        #expect(error?.reason.hasPrefix("malformed note") == true)
        #expect(throws: Never.self) { try Note(parsing: Array((Self.text + "\n" + String(repeating: Self.peterLine, count: 100)).utf8)) }
    }

    @Test func alteredSignatureIsInvalid() throws {
        var line = Array(Self.peterLine.utf8)
        line.insert(contentsOf: Array("ABCD".utf8), at: 60)
        let note = try Note(parsing: Array(Self.text.utf8) + [0x0a] + line)
        let error = #expect(throws: LedgerError.self) { try note.verify([NoteVerifierKey(parsing: Self.peterVKey)]) }
        #expect(error?.reason == "invalid signature for key PeterNeumann+c74f20a3")
    }

    @Test(arguments: [
        text,                                                       // no blank line
        text + "\n" + String(peterLine.dropLast()),                 // missing final newline
        "\u{01}" + text + "\n" + peterLine,                          // control character
        text + "\n— Peter Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", // space in name
        text + "\n" + peterLine + "hello\n",                        // extra line after the signatures
        text + "\n— PeterNeumann \n",                               // empty signature
        text + "\n— PeterNeumann AAAA\n",                           // too short
    ])
    func malformedNotes(note: String) {
        #expect(throws: LedgerError.self) { try Note(parsing: Array(note.utf8)) }
    }

    @Test func leadingInvalidByteIsMalformed() {
        #expect(throws: LedgerError.self) { try Note(parsing: [0xff] + Array((Self.text + "\n" + Self.peterLine).utf8)) }
    }

    @Test(arguments: [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", // wrong key length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",         // unknown algorithm 0x65
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",         // wrong key id
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ])
    func badVerifierKeys(vkey: String) {
        #expect(throws: LedgerError.self) { try NoteVerifierKey(parsing: vkey) }
    }

    // VECTORS.md §2.2.
    @Test func specExampleVerifies() throws {
        let vkey = try NoteVerifierKey(parsing: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let note = try Note(parsing: Array("This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n".utf8))
        #expect(try note.verify([vkey]) == [vkey])
    }

    // VECTORS.md §2.3: a real sum.golang.org checkpoint; the base64 key contains '+'.
    @Test func sumGolangOrgCheckpointVerifies() throws {
        let vkey = try NoteVerifierKey(parsing: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
        let bytes = Array("go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n".utf8)
        let note = try Note(parsing: bytes)
        #expect(try note.verify([vkey]).count == 1)
        let checkpoint = try Checkpoint(text: note.text)
        #expect(checkpoint.origin == "go.sum database tree" && checkpoint.size == 6_476_701)
        #expect(checkpoint.root.base64 == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    }

    // VECTORS.md §3: x/mod tlog.FormatTree golden value.
    @Test func checkpointBodyFormat() throws {
        let root = try #require(Digest(Base64.decode("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=") ?? []))
        let cp = Checkpoint(origin: "go.sum database tree", size: 123_456_789_012, root: root)
        #expect(String(decoding: cp.text, as: UTF8.self) == "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")
        #expect(try Checkpoint(text: cp.text) == cp)
        for bad in ["o\n012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n", "o\n1\nYmFuYW5hcw==\n", "o\n1\n", "\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"] {
            #expect(throws: LedgerError.self, "\(bad)") { try Checkpoint(text: Array(bad.utf8)) }
        }
    }

    @Test func cosignatureRoundTripAndTampering() throws {
        let witness = try Ed25519PrivateKey.generate()
        let wkey = NoteVerifierKey(name: "witness.example/w1", type: .cosignature, key: witness.publicKey)
        #expect(try NoteVerifierKey(parsing: wkey.description) == wkey)
        let log = try Ed25519PrivateKey.generate()
        let cp = Checkpoint(origin: "log.example", size: 5, root: Merkle.emptyRoot)
        let logSig = try Note.sign(text: cp.text, name: "log.example", key: log)
        let cosig = try Note.cosign(text: cp.text, name: "witness.example/w1", key: witness, timestamp: 1_679_315_147)
        #expect(cosig.signature.count == 72)
        #expect(Base64.encode(cosig.keyID + cosig.signature).count == 104)
        let note = Note(text: cp.text, signatures: [logSig, cosig])
        let logKey = NoteVerifierKey(name: "log.example", type: .ed25519, key: log.publicKey)
        let signed = try SignedCheckpoint(bytes: note.bytes, logKey: logKey)
        #expect(try signed.verifiedWitnesses([wkey]) == [wkey])
        // A cosignature is not a note signature: the same key as type 0x01 does not verify it.
        var forged = cosig.signature
        forged[0] ^= 1 // change the timestamp
        let tampered = Note(text: cp.text, signatures: [logSig, NoteSignature(name: cosig.name, keyID: cosig.keyID, signature: forged)])
        #expect(throws: LedgerError.self) { try SignedCheckpoint(bytes: tampered.bytes, logKey: logKey).verifiedWitnesses([wkey]) }
    }
}
