import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Sign and import")
struct ImportTests {
    /// `count` unsigned JSON Lines for the maker: produced events for packs IMP-0…
    static func unsignedLines(_ count: Int, badAt: Int? = nil) -> String {
        (0..<count).map { i in
            let mass = i == badAt ? "-1" : "300.5"
            return #"{"event_id":"\#(uuid(i))","kind":"produced","pack":"IMP-\#(i)","at":"2025-01-01T00:00:00Z","data":{"category":"ev","chemistry":"lfp","mass_kg":\#(mass),"energy_kwh":50}}"#
        }.joined(separator: "\n") + "\n"
    }

    static func uuid(_ i: Int) -> String { String(format: "00000000-0000-4000-8000-%012d", i) }

    func write(_ text: String, _ name: String, in w: CLIWorld) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: w.dir.path(name)))
    }

    @Test func aBadLineDeepInsideWritesNothingAndIsNamed() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(3_000, badAt: 2_345), "in.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "in.jsonl", "--actor", "maker", "--key", "maker.key"]) }, "in.jsonl:2346")
        let r = try w.run(["import", "in.jsonl", "--actor", "maker", "--key", "maker.key"])
        #expect(r.stderr.contains("nothing written") && r.stderr.contains("data.mass_kg"), "\(r.stderr)")
        #expect(try Ledger(path: w.ledger, readOnly: true).pack("IMP-0") == nil)
    }

    /// Lines are parsed on all cores ahead of the rules; the error reported must still be the
    /// first in file order: a rule broken on line 10 before a malformed line 3000.
    @Test func theFirstErrorInFileOrderIsReported() throws {
        let w = try CLIWorld()
        var lines = Self.unsignedLines(3_000).split(separator: "\n").map(String.init)
        lines[9] = lines[9].replacingOccurrences(of: #""kind":"produced""#, with: #""kind":"sold""#)
        lines[2_999] = "{not json"
        try write(lines.joined(separator: "\n") + "\n", "in.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "in.jsonl", "--actor", "maker", "--key", "maker.key"]) }, "in.jsonl:10, field pack: import rejected")
    }

    /// `verify` reads rows on one thread, decodes chunks of them on all cores and replays on a
    /// third; a fault in an early chunk (while later ones are being read and decoded), in a
    /// middle one and in the last entry must each be reported at that entry, and leaving early
    /// must not leave the reading thread behind (the next verify, on the same connection, runs).
    @Test func verifyFindsAFaultInAnyChunkOfALargeLedger() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(7_000), "in.jsonl", in: w)
        try w.ok(["import", "in.jsonl", "--actor", "maker", "--key", "maker.key"])
        let ledger = try Ledger(path: w.ledger)
        let size = try ledger.size()
        #expect(size > 3 * UInt64(Verifier.chunkSize))
        try ledger.db.execute("DROP TRIGGER entries_no_update;")
        for seq in [UInt64(40), 5_000, size - 1] {
            let original = try ledger.entry(seq).bytes
            var tampered = original
            // A digit of the declared mass: still well-formed, no longer what was signed.
            let at = try #require(tampered.lastIndex(of: UInt8(ascii: "5")))
            tampered[at] = UInt8(ascii: "6")
            try ledger.db.prepare("UPDATE entries SET bytes = ? WHERE seq = ?").bind(tampered, seq).run()
            let error = #expect(throws: LedgerError.self) { try Verifier().verify(ledger) }
            #expect(error?.location.entry == seq, "entry \(seq): \(String(describing: error))")
            try ledger.db.prepare("UPDATE entries SET bytes = ? WHERE seq = ?").bind(original, seq).run()
        }
        #expect(try Verifier().verify(ledger).entries == size)
    }

    @Test func importingTheSameFileTwiceAddsNothing() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(500), "in.jsonl", in: w)
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--out", "signed.jsonl"])
        let before = try w.size()
        let first = try JSONParser.parse(w.ok(["import", "signed.jsonl", "--format", "json"]))
        #expect(first["appended"]?.doubleValue == 500)
        #expect(try w.size() == before + 500)
        let second = try JSONParser.parse(w.ok(["import", "signed.jsonl", "--format", "json"]))
        #expect(second["appended"]?.doubleValue == 0 && second["duplicates"]?.doubleValue == 500)
        #expect(try w.size() == before + 500)
        // Importing the unsigned original with the same key yields the same signatures: also a no-op.
        let third = try JSONParser.parse(w.ok(["import", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--format", "json"]))
        #expect(third["appended"]?.doubleValue == 0)
        #expect(try w.run(["verify"]).status == 0)
    }

    /// The filter behind the import's ahead-of-time duplicate checks: a key it was given must
    /// always come back "maybe" (a miss would let a repeat through to the index), and keys it was
    /// not given must mostly come back "no", or the appends would probe every time.
    @Test func writtenKeysNeverForgetsAndRarelyImagines() {
        var filter = WrittenKeys()
        func key(_ i: UInt64) -> EventKey {
            // Sequential ids, the worst case for a filter that does not mix its input.
            EventKey(uuid: String(format: "00000000-0000-4000-8000-%012llx", i)) ?? EventKey(uuid: "00000000-0000-4000-8000-000000000000")!
        }
        #expect(!filter.mayContain(key(1)))
        for i in 0..<200_000 as Range<UInt64> { filter.insert(key(i)) }
        #expect((0..<200_000 as Range<UInt64>).allSatisfy { filter.mayContain(key($0)) })
        let imagined = (1_000_000..<1_100_000 as Range<UInt64>).filter { filter.mayContain(key($0)) }.count
        #expect(imagined < 1_000, "\(imagined) false positives in 100,000")
        filter.removeAll()
        #expect(!filter.mayContain(key(7)))
    }

    /// Lookup rows are written at the end of the transaction, so a repeat inside one file must
    /// be caught from what is held back: the same event twice is one entry, a different event
    /// under the same id (in another case) is a conflict naming its line.
    @Test func anEventRepeatedInsideOneFileIsFoundBeforeCommit() throws {
        let w = try CLIWorld()
        var lines = Self.unsignedLines(300).split(separator: "\n").map(String.init)
        lines.append(lines[7])
        try write(lines.joined(separator: "\n") + "\n", "twice.jsonl", in: w)
        let r = try JSONParser.parse(w.ok(["import", "twice.jsonl", "--actor", "maker", "--key", "maker.key", "--format", "json"]))
        #expect(r["appended"]?.doubleValue == 300 && r["duplicates"]?.doubleValue == 1)
        // Lines 1–100 are packs IMP-300…399; line 101 reuses line 4's id, upper-cased, for another pack.
        var conflicting = Self.unsignedLines(400).split(separator: "\n").map(String.init).suffix(100).map { $0 }
        let id = Self.uuid(303)
        conflicting.append(conflicting[3].replacingOccurrences(of: id, with: id.uppercased()).replacingOccurrences(of: "IMP-303", with: "IMP-999"))
        try write(conflicting.joined(separator: "\n") + "\n", "conflict.jsonl", in: w)
        let before = try w.size()
        try w.expectRejected({ try w.run(["import", "conflict.jsonl", "--actor", "maker", "--key", "maker.key"]) }, "conflict.jsonl:101")
        let message = try w.run(["import", "conflict.jsonl", "--actor", "maker", "--key", "maker.key"]).stderr
        #expect(message.contains("different content"), "\(message)")
        #expect(try w.size() == before)
        #expect(try w.run(["verify", "--deep"]).status == 0)
    }

    @Test func aSignedFileAlteredAfterSigningIsRejected() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(50), "in.jsonl", in: w)
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--out", "signed.jsonl"])
        let signed = try String(contentsOfFile: w.dir.path("signed.jsonl"), encoding: .utf8)
        let altered = signed.replacingOccurrences(of: #""pack":"IMP-37""#, with: #""pack":"IMP-99""#)
        #expect(altered != signed)
        try write(altered, "altered.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "altered.jsonl"]) }, "altered.jsonl:38")
        let r = try w.run(["import", "altered.jsonl"])
        #expect(r.stderr.contains("does not verify"), "\(r.stderr)")
        // `--actor` names who must have signed: another signer's file is refused at its first line.
        try w.expectRejected({ try w.run(["import", "signed.jsonl", "--actor", "oem", "--key", "oem.key"]) }, "signed.jsonl:1, field actor: import rejected, nothing written: signed by maker, not --actor oem")
        // A signature moved to another actor's line is rejected too.
        let stolen = signed.replacingOccurrences(of: #""actor":"maker""#, with: #""actor":"oem""#)
        try write(stolen, "stolen.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "stolen.jsonl"]) }, "stolen.jsonl:1")
    }

    /// The signature covers the event's canonical bytes, not the line's spelling: a signed line
    /// re-spaced and with its members reordered (so not canonical, and its bytes are made
    /// again from its members, leaving `key_id` and `signature` out) still imports.
    @Test func aSignedLineSpelledDifferentlyStillImports() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(3), "in.jsonl", in: w)
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--out", "signed.jsonl"])
        let lines = try String(contentsOfFile: w.dir.path("signed.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        let respaced = lines[1].replacingOccurrences(of: #"{"actor":"maker","#, with: #"{ "#)
            .replacingOccurrences(of: #","event_id""#, with: #", "actor" : "maker", "event_id""#)
        #expect(respaced != lines[1] && respaced.contains(#""actor" : "maker""#), "\(respaced)")
        try write([lines[0], respaced, lines[2]].joined(separator: "\n") + "\n", "respaced.jsonl", in: w)
        let before = try w.size()
        try w.ok(["import", "respaced.jsonl"])
        #expect(try w.size() == before + 3)
        // The entry stores the canonical event: the same bytes as when imported as signed.
        let entry = try JSONParser.parse(w.ok(["entry", "\(before + 1)", "--format", "json"]))
        #expect(entry["event"]?["key_id"] == nil && entry["event"]?["actor"]?.stringValue == "maker", "\(entry)")
        #expect(try w.run(["verify"]).status == 0)
    }

    @Test func anUnsignedFileWithoutKeyIsRejectedClearly() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(5), "in.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "in.jsonl"]) }, "in.jsonl:1: import rejected, nothing written: this record is not signed: give --actor and --key")
        #expect(try w.run(["import", "in.jsonl", "--actor", "maker"]).status == 64)
    }

    @Test func csvWithQuotesNewlinesAndBOMImports() throws {
        let w = try CLIWorld()
        let csv = "\u{FEFF}event_id,kind,pack,at,data.category,data.chemistry,data.mass_kg,data.energy_kwh,data.plant,data.materials_kg.co,data.derived_from\r\n"
            + "\(Self.uuid(1)),produced,CSV-1,2025-01-01T00:00:00Z,ev,nmc,412.5,70,\"Plant \"\"North\"\", hall 2\",12.25,\r\n"
            + "\(Self.uuid(2)),produced,CSV-2,2025-01-01T00:00:00Z,ev,nmc,400,70,\"two\nlines\",,\r\n"
        try write(csv, "in.csv", in: w)
        let r = try w.run(["import", "in.csv", "--actor", "maker", "--key", "maker.key"])
        #expect(r.status == 0, "\(r.stderr)")
        let h1 = try JSONParser.parse(w.ok(["history", "CSV-1", "--format", "json"]))
        let data = try #require(h1["events"]?.arrayValue?.first?["data"])
        #expect(data["plant"]?.stringValue == #"Plant "North", hall 2"#)
        #expect(data["mass_kg"]?.doubleValue == 412.5)
        #expect(data["materials_kg"]?["co"]?.doubleValue == 12.25)
        let h2 = try JSONParser.parse(w.ok(["history", "CSV-2", "--format", "json"]))
        #expect(h2["events"]?.arrayValue?.first?["data"]?["plant"]?.stringValue == "two\nlines")
    }

    @Test(arguments: [
        ("event_id,kind,pack\n", "needs a column \"at\""),
        ("event_id,kind,pack,at,weight\n", "unknown column \"weight\""),
        ("event_id,kind,pack,at\nx,y\n", "2 fields, but the header has 4"),
        ("event_id,kind,pack,at\n\"unterminated,produced,P,2025-01-01T00:00:00Z\n", "unterminated quoted field"),
        ("event_id,kind,pack,at\na\"b,produced,P,2025-01-01T00:00:00Z\n", "a quote inside an unquoted field"),
    ])
    func malformedCSV(text: String, message: String) throws {
        let w = try CLIWorld()
        try write(text, "bad.csv", in: w)
        try w.expectRejected({ try w.run(["import", "bad.csv", "--actor", "maker", "--key", "maker.key"]) }, message)
    }

    @Test func signWritesNothingWhenARecordIsBad() throws {
        let w = try CLIWorld()
        try write(Self.unsignedLines(10) + "{not json\n", "in.jsonl", in: w)
        let r = try w.run(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--out", "signed.jsonl"])
        #expect(r.status == 1 && r.stderr.contains("in.jsonl:11"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.dir.path("signed.jsonl")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir.url.path).allSatisfy { !$0.contains("partial") })
    }

    @Test func importFromStandardInput() throws {
        let w = try CLIWorld()
        let r = try w.run(["import", "-", "--actor", "maker", "--key", "maker.key"], stdin: Self.unsignedLines(3))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("imported 3 of 3"))
        #expect(r.stderr.isEmpty, "no progress output when piped")
    }
}
