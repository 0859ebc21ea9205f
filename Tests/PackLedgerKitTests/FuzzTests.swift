import Foundation
import Testing
@testable import PackLedgerKit

/// Seeded random mutations of valid inputs, fed to every parser. The property is that nothing
/// crashes or hangs, plus round trips where they apply. `PACKLEDGER_FUZZ_CASES` sets the number of
/// cases per parser (default 1,500 so CI stays quick; a long run uses 100,000).
@Suite("Fuzzing the parsers")
struct FuzzTests {
    static let cases = Int(ProcessInfo.processInfo.environment["PACKLEDGER_FUZZ_CASES"] ?? "") ?? 1_500

    /// SplitMix64: small, seeded, reproducible.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static let interesting: [[UInt8]] = ["\"", "{", "}", "[", "]", ",", ":", "\\", "\\u", "\n", "\r\n", "—", " ", "0", "-", "1e999", "\u{FEFF}", "+", "=", "null"]
        .map { Array($0.utf8) } + [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x00], [0x01]]

    /// One to four random edits: flip, insert, delete, duplicate, truncate, splice a token.
    static func mutate(_ input: [UInt8], _ rng: inout Random) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(4) {
            let at = rng.below(bytes.count + 1)
            switch rng.below(6) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(1 << rng.below(8))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 2 where !bytes.isEmpty: bytes.remove(at: min(at, bytes.count - 1))
            case 3 where at < bytes.count:
                let end = min(bytes.count, at + 1 + rng.below(16))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            case 4: bytes = Array(bytes.prefix(at))
            default: bytes.insert(contentsOf: interesting[rng.below(interesting.count)], at: at)
            }
        }
        return bytes
    }

    static func fuzz(_ seed: UInt64, _ seeds: [[UInt8]], _ body: ([UInt8]) -> Void) {
        var rng = Random(state: seed)
        for i in 0..<cases { body(mutate(seeds[i % seeds.count], &rng)) }
    }

    static let event = Array(#"{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{"market":"DE","materials_kg":{"co":12.5,"li":9.1}},"event_id":"00000000-0000-4000-8000-000000000001","kind":"sold","pack":"PACK-1"}"#.utf8)

    @Test func jsonParserAndCanonicalEncoder() {
        Self.fuzz(1, [Self.event, Array(#"[1,-2.5e-3,"\u00e9\ud83d\ude00",{"a":null,"b":[true,false]}]"#.utf8)]) { bytes in
            guard let value = try? JSONParser.parse(bytes) else { return }
            // Whatever parses re-encodes canonically, and that encoding is a fixed point.
            let canonical = CanonicalJSON.encode(value)
            #expect((try? JSONParser.parse(canonical)).map(CanonicalJSON.encode) == canonical)
            _ = try? Event(json: value)
        }
    }

    /// Spellings that are valid JSON but not all canonical, spliced in by `canonicalNote`.
    static let spellings: [[UInt8]] = [#"\u0041"#, #"\u001f"#, #"\u001F"#, #"\u000a"#, #"\n"#, #"\/"#, #"\""#, #"\\"#,
                                       #"\ud83d\ude00"#, "1.0", "-0", "0", "1e2", "100", "1E+2", "0.5", "5e-1", "1e21", "123456789012345",
                                       "1234567890123456", "-7", "0.0000001", "0.000001", "0.0000012", "1.50", "0.10", "-0.5", "-0.0", "123456789012.345",
                                       "1234567890123.456", "0.123456789012345", "0.1234567890123456", "9007199254740993", "-00", "5.", " ", "é", "\u{7f}", #","b":1"#, #","A":1"#, #","~":2"#].map { Array($0.utf8) }

    @Test func canonicalNoteAgreesWithReencoding() {
        let seeds = [Self.event, Array(#"{"a":[1,-2.5,0.001,1e+21,"\u0000\b\t"],"b":{"\u001f":"x\"\\y"},"é":true,"😀":null}"#.utf8)]
        var rng = Random(state: 5)
        var canonicalSeen = 0, otherSeen = 0
        for i in 0..<Self.cases {
            var bytes = seeds[i % seeds.count]
            // Half the cases splice in spellings that parse, to reach the canonical checks.
            if rng.below(2) == 0 {
                bytes.insert(contentsOf: Self.spellings[rng.below(Self.spellings.count)], at: rng.below(bytes.count + 1))
            } else {
                bytes = Self.mutate(bytes, &rng)
            }
            guard let noted = try? JSONParser.parseNotingCanonical(bytes, members: true) else {
                #expect((try? JSONParser.parse(bytes)) == nil)
                continue
            }
            #expect(noted.value == (try? JSONParser.parse(bytes)))
            let reencoded = CanonicalJSON.encode(noted.value) == bytes
            #expect(noted.isCanonical == reencoded, "\(String(decoding: bytes, as: UTF8.self))")
            if reencoded { canonicalSeen += 1 } else { otherSeen += 1 }
            // Member ranges cover exactly each top-level member, key to value.
            if case .object(let members) = noted.value {
                #expect(noted.members?.count == members.count)
                for m in noted.members ?? [] {
                    let text = bytes[m.range]
                    // The range, wrapped in braces, is an object holding just that member.
                    let alone = try? JSONParser.parse([UInt8(ascii: "{")] + text + [UInt8(ascii: "}")])
                    #expect(alone == .object([m.key: members[m.key] ?? .null]), "\(String(decoding: text, as: UTF8.self))")
                }
            }
        }
        // The property is only worth something if both outcomes occur.
        #expect(canonicalSeen > Self.cases / 50 && otherSeen > Self.cases / 50)
    }

    @Test func entryDecoder() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32))
        let signed = try SignedEvent(signing: Event(json: JSONParser.parse(Self.event)), with: key)
        let entry = Entry(seq: 9, recordedAt: Timestamp(nanoseconds: 1_700_000_000_000_000_000), prev: .zero, keyID: signed.keyID,
                          signature: signed.signature, eventBytes: signed.bytes)
        let member = Entry(seq: 10, recordedAt: Timestamp(nanoseconds: 1_700_000_000_000_000_000), prev: entry.hash,
                           batch: BatchRef(manifest: 9, index: 0), eventBytes: signed.bytes)
        Self.fuzz(2, [entry.bytes, member.bytes]) { bytes in
            guard let decoded = try? Entry(decoding: bytes) else { return }
            // A decoded entry re-encodes to exactly its bytes: one encoding per entry.
            let again = decoded.batch.map { Entry(seq: decoded.seq, recordedAt: decoded.recordedAt, prev: decoded.prev, batch: $0, eventBytes: decoded.eventBytes) }
                ?? Entry(seq: decoded.seq, recordedAt: decoded.recordedAt, prev: decoded.prev, keyID: decoded.keyID, signature: decoded.signature, eventBytes: decoded.eventBytes)
            #expect(again.bytes == bytes)
        }
    }

    @Test func notesCheckpointsKeysAndProofs() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32))
        let cp = Checkpoint(origin: "fuzz.example/log", size: 8, root: Merkle.emptyRoot)
        let note = Note(text: cp.text, signatures: [try Note.sign(text: cp.text, name: cp.origin, key: key)]).bytes
        let vkey = NoteVerifierKey(name: cp.origin, type: .ed25519, key: key.publicKey)
        let proof = TlogProof(extra: Array("x".utf8), index: 3, proof: [Merkle.emptyRoot, Merkle.emptyRoot], note: note).bytes
        Self.fuzz(3, [note, proof, Array(vkey.description.utf8)]) { bytes in
            if let parsed = try? Note(parsing: bytes) {
                #expect(parsed.bytes == bytes) // notes re-serialise exactly
                _ = try? parsed.verify([vkey])
                _ = try? Checkpoint(text: parsed.text)
            }
            _ = try? SignedCheckpoint(bytes: bytes, logKey: vkey)
            _ = try? TlogProof(parsing: bytes).verify(trust: vkey)
            if let text = String(validating: bytes, as: UTF8.self) {
                _ = try? NoteVerifierKey(parsing: text)
                _ = Timestamp(rfc3339: text)
                _ = Base64.decode(text)
            }
        }
    }

    @Test func bundleVerifier() throws {
        let (_, bundle, logKey, witness) = try TransparencyTests.witnessedBundle()
        // Bundles are large; a tenth of the cases keeps this test as quick as the others.
        var rng = Random(state: 4)
        for _ in 0..<max(50, Self.cases / 10) {
            _ = try? EvidenceBundle.verify(Self.mutate(bundle, &rng), trust: logKey, witnesses: [witness], minWitnesses: 1)
        }
    }

    /// Import stores the event bytes it cut out of a canonical signed line; they must be exactly
    /// the canonical encoding of the event the line holds, or the ledger would store bytes other
    /// than the ones the rules judged.
    @Test func eventBytesCutFromSignedLines() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 9, count: 32))
        let signed = Ingest.signedLine(try SignedEvent(signing: Event(json: JSONParser.parse(Self.event)), with: key)).dropLast()
        var rng = Random(state: 6)
        var cut = 0
        for i in 0..<Self.cases {
            var bytes = Array(signed)
            if i % 2 == 0 {
                bytes.insert(contentsOf: Self.spellings[rng.below(Self.spellings.count)], at: rng.below(bytes.count + 1))
            } else if i % 4 == 1 {
                bytes = Self.mutate(bytes, &rng)
            }
            guard let record = try? RecordReader.parseLine(bytes, line: 1, file: "f"), let eventBytes = record.canonicalEventBytes else { continue }
            var object = record.object
            for member in ["key_id", "signature"] { object.removeValue(forKey: member) }
            #expect(eventBytes == CanonicalJSON.encode(.object(object)), "\(String(decoding: bytes, as: UTF8.self))")
            cut += 1
        }
        #expect(cut > Self.cases / 5)
    }

    @Test func csvAndJSONLinesReaders() throws {
        let dir = try TemporaryDirectory()
        let csv = Array(("event_id,kind,pack,at,data.mass_kg,data.materials_kg.li,data.derived_from\n"
            + "00000000-0000-4000-8000-000000000001,produced,P,2025-01-01T00:00:00Z,300,\"9,1\",\"[\"\"A\"\"]\"\n").utf8)
        let jsonl = Self.event + [0x0a] + Self.event + [0x0a]
        var n = 0
        // Each case is its own file; a tenth of the cases, as files cost more than parsing.
        Self.fuzz(5, [csv, jsonl, [0xef, 0xbb, 0xbf] + csv]) { bytes in
            n += 1
            guard n % 10 == 0 else { return }
            let path = dir.path("case-\(n % 7)")
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
            for format in [RecordReader.Format.csv, .jsonl] {
                guard let reader = try? RecordReader(path: path, format: format) else { continue }
                while let chunk = try? reader.nextChunk(64), !chunk.isEmpty {
                    for record in chunk where record.failure == nil { _ = try? Event(json: .object(record.object)) }
                }
            }
        }
    }
}
