import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Formats: schema copy, entry bytes, timestamps")
struct FormatTests {
    @Test func embeddedSchemaEqualsSchemaFile() throws {
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("Schema/ledger.sql"), encoding: .utf8)
        #expect(LedgerSchema.sql == file)
    }

    /// Pins the entry layout of Schema/FORMAT.md §3 with fixed inputs: any change to the bytes,
    /// the hash or the signature means the format changed and every existing ledger breaks.
    @Test func entryKnownAnswer() throws {
        let key = try Ed25519PrivateKey(seed: try #require(Hex.decode(CryptoTests.rfc8032Seed)))
        let event = try Event(json: JSONParser.parse(#"{"pack":"PACK-1","kind":"sold","actor":"maker","at":"2024-02-01T08:00:00Z","event_id":"00000000-0000-4000-8000-000000000001","data":{"market":"DE"}}"#))
        let eventBytes = event.canonicalBytes
        #expect(String(decoding: eventBytes, as: UTF8.self) == #"{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{"market":"DE"},"event_id":"00000000-0000-4000-8000-000000000001","kind":"sold","pack":"PACK-1"}"#)
        let signed = try SignedEvent(signing: event, with: key)
        let recorded = try #require(Timestamp(rfc3339: "2024-02-02T09:10:11.123456Z"))
        let prev = try #require(Digest(Hex.decode("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d") ?? []))
        let entry = Entry(seq: 7, recordedAt: recorded, prev: prev, keyID: signed.keyID, signature: signed.signature, eventBytes: eventBytes)
        let expectedHeader = "packledger/entry/v1\nseq 7\ntime 2024-02-02T09:10:11.123456Z\nprev 6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d\nkey \(key.publicKey.keyID)\nsig \(Base64.encode(signed.signature))\n\n"
        #expect(entry.bytes == Array(expectedHeader.utf8) + eventBytes)
        // Values computed independently by Tools/plverify.py from Schema/FORMAT.md §3.
        #expect(key.publicKey.keyID == "21fe31dfa154a261")
        #expect(Base64.encode(signed.signature) == "Q4HcgPfvwdG9TAT7RvIrJndJ1YhXv+Aj0U6NYvyo0QWneUyN0ZR2txUD6SRXjsosTEcsRIwG1wcuhVAc1v4lAA==")
        #expect(entry.hash.hex == "f3bb5fa94cb7f9b1faa0f85252f6b75214e22af37e8517531efaede8da3862c6")
        #expect(key.publicKey.keyID == Hex.encode(Array(SHA256.hash(key.publicKey.raw).bytes.prefix(8))))
        #expect(entry.hash == SHA256.hash([0], entry.bytes))
        #expect(key.publicKey.isValidSignature(signed.signature, for: Array("packledger/event/v1\n".utf8) + eventBytes))
        // Round trip.
        let decoded = try Entry(decoding: entry.bytes)
        #expect(decoded.seq == 7 && decoded.recordedAt == recorded && decoded.prev == prev)
        #expect(decoded.eventBytes == eventBytes && decoded.signature == signed.signature && decoded.hash == entry.hash)
    }

    @Test(arguments: [
        ("packledger/entry/v2\n", "first line"),
        ("packledger/entry/v1\nseq 07\n", "sequence"),
        ("packledger/entry/v1\nseq 7\ntime 2024-02-02T09:10:11Z\n", "record time"),
    ])
    func malformedEntryHeaders(prefix: String, what: String) {
        let error = #expect(throws: LedgerError.self) { try Entry(decoding: Array((prefix + "x\nx\nx\nx\nx\nx\n\n{}").utf8)) }
        #expect(error?.code == .integrity)
    }

    /// Entry numbers (seq, batch manifest and index) and number exponents are written by one
    /// in-place formatter; it must spell every value as plain decimal, including 0 and the
    /// 20-digit maximum.
    @Test(arguments: [UInt64(0), 7, 10, 99, 100, 1_000_000, 1_234_567_890_123, UInt64.max])
    func entryNumbersAreDecimal(value: UInt64) {
        var out = Array("x".utf8)
        CanonicalJSON.appendDecimal(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x\(value)")
    }

    /// The array-free forms agree with the array ones: an event key's lent bytes, and base64
    /// appended after what a buffer already holds.
    @Test func arrayFreeEncodingsAgree() throws {
        for text in ["00000000-0000-4000-8000-000000000001", "FFFFFFFF-ffff-4FFF-bfff-0123456789AB", "9749eb75-fce8-48e5-91b6-645ea3597c78"] {
            let key = try #require(EventKey(uuid: text))
            #expect(key.withBytes { Array($0) } == key.bytes)
        }
        for count in 0..<8 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 5) }
            var out = Array("sig ".utf8)
            Base64.append(bytes, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "sig " + Base64.encode(bytes))
        }
    }

    /// The header ends at the first empty line, after six lines (batch member) or seven (signed
    /// event): every cut inside the header, a missing blank line or an extra line is malformed,
    /// and event bytes holding newlines of their own do not move the split.
    @Test func entryHeaderSplitting() throws {
        let recorded = try #require(Timestamp(rfc3339: "2024-02-02T09:10:11.123456Z"))
        let event = Array("{\"a\":\"x\\n\"}\n\n{}".utf8)
        let signed = Entry(seq: 9, recordedAt: recorded, prev: .zero, keyID: "0123456789abcdef",
                           signature: [UInt8](repeating: 7, count: 64), eventBytes: event)
        let member = Entry(seq: 9, recordedAt: recorded, prev: .zero, batch: BatchRef(manifest: 3, index: 5), eventBytes: event)
        for entry in [signed, member] {
            let decoded = try Entry(decoding: entry.bytes)
            #expect(decoded.eventBytes == event && decoded.keyID == entry.keyID && decoded.signature == entry.signature)
            #expect(decoded.batch == entry.batch && decoded.hash == entry.hash)
            let headerLength = entry.bytes.count - event.count
            for cut in 0..<headerLength {
                #expect(throws: LedgerError.self) { try Entry(decoding: Array(entry.bytes[..<cut])) }
            }
            // The blank line removed: the event's first line would be read as a header line.
            var noBlank = entry.bytes
            noBlank.remove(at: headerLength - 1)
            #expect(throws: LedgerError.self) { try Entry(decoding: noBlank) }
            var extra = entry.bytes
            extra.insert(contentsOf: Array("note x\n".utf8), at: headerLength - 1)
            #expect(throws: LedgerError.self) { try Entry(decoding: extra) }
        }
    }

    @Test func truncatedEntryIsRejected() {
        #expect(throws: LedgerError.self) { try Entry(decoding: Array("packledger/entry/v1\nseq 1\n".utf8)) }
        #expect(throws: LedgerError.self) { try Entry(decoding: []) }
    }

    @Test(arguments: [
        ("2024-02-29T12:00:00Z", 1_709_208_000_000_000_000 as Int64),
        ("2024-02-29T13:30:00+01:30", 1_709_208_000_000_000_000),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("2026-05-04T09:30:00.5-00:00", 1_777_887_000_500_000_000),
    ])
    func timestampsParse(text: String, nanos: Int64) throws {
        #expect(try #require(Timestamp(rfc3339: text)).nanoseconds == nanos)
    }

    @Test(arguments: ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z",
                      "2024-01-01 00:00:00Z", "2024-01-01T00:00:00", "2024-01-01t00:00:00z", "1969-12-31T23:59:59Z",
                      "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00+25:00", "", "now"])
    func timestampsRejected(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func timestampFormatting() throws {
        let t = try #require(Timestamp(rfc3339: "2024-02-29T13:30:00.25+01:30"))
        #expect(t.rfc3339 == "2024-02-29T12:00:00.25Z")
        #expect(t.rfc3339Micros == "2024-02-29T12:00:00.250000Z")
        // The fixed-width form at the edges of every field, written after what a buffer holds.
        for (text, micros) in [("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"), ("2199-12-31T23:59:59.999999Z", "2199-12-31T23:59:59.999999Z"),
                               ("2031-07-04T05:06:07.000123Z", "2031-07-04T05:06:07.000123Z"), ("2000-10-10T10:10:10.1Z", "2000-10-10T10:10:10.100000Z")] {
            var out = Array("time ".utf8)
            try #require(Timestamp(rfc3339: text)).appendRFC3339Micros(to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "time " + micros)
        }
        var hex = Array("prev ".utf8)
        Hex.append([0x00, 0x09, 0x0a, 0xf0, 0xff, 0x5c], to: &hex)
        #expect(String(decoding: hex, as: UTF8.self) == "prev 00090af0ff5c")
        #expect(Timestamp(dateOrTime: "2024-12-31")?.rfc3339 == "2024-12-31T00:00:00Z")
    }

    /// The in-place check of an entry header's record time must accept exactly what
    /// re-encoding accepts: every byte of the encoded form changed to each of a few other
    /// values, compared with the plain definition (encode, compare bytes).
    @Test func recordTimeCheckAgreesWithReencoding() throws {
        for text in ["1970-01-01T00:00:00Z", "2024-02-29T12:00:00.25Z", "2199-12-31T23:59:59.999999Z", "2031-07-04T05:06:07.000123Z"] {
            let t = try #require(Timestamp(rfc3339: text))
            let encoded = Array(t.rfc3339Micros.utf8)
            #expect(t.rfc3339MicrosEquals(encoded[...]))
            #expect(!t.rfc3339MicrosEquals(encoded.dropLast()))
            #expect(!t.rfc3339MicrosEquals((encoded + [0x5a])[...]))
            for i in encoded.indices {
                for replacement in [UInt8(ascii: "0"), UInt8(ascii: "1"), UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "Z"), 0x00, 0xff] {
                    var changed = encoded
                    changed[i] = replacement
                    #expect(t.rfc3339MicrosEquals(changed[...]) == (changed == encoded), "byte \(i) -> \(replacement) of \(text)")
                }
            }
        }
    }

    @Test func eventEnvelopeIsStrict() throws {
        let base = #"{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{},"event_id":"00000000-0000-4000-8000-000000000001","kind":"sold","pack":"P""#
        #expect(throws: Never.self) { try Event(json: JSONParser.parse(base + "}")) }
        for (extra, field) in [(#","extra":1"#, "extra"), (#","party":"x""#, "party")] {
            let error = #expect(throws: LedgerError.self) { try Event(json: JSONParser.parse(base + extra + "}")) }
            #expect(error?.location.field == field)
        }
        let badID = #"{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{},"event_id":"not-a-uuid","kind":"sold","pack":"P"}"#
        #expect(throws: LedgerError.self) { try Event(json: JSONParser.parse(badID)) }
        let badPack = #"{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{},"event_id":"00000000-0000-4000-8000-000000000001","kind":"sold","pack":"P Q"}"#
        #expect(throws: LedgerError.self) { try Event(json: JSONParser.parse(badPack)) }
    }
}
