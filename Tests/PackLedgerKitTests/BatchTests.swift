import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Batch signatures")
struct BatchTests {
    func write(_ text: String, _ name: String, in w: CLIWorld) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: w.dir.path(name)))
    }

    /// A ledger with 2 batches of 10 and a remainder of 5, signed and imported through the CLI.
    static func batched() throws -> CLIWorld {
        let w = try CLIWorld()
        try Data(ImportTests.unsignedLines(25).utf8).write(to: URL(fileURLWithPath: w.dir.path("in.jsonl")))
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--batch", "10", "--out", "signed.jsonl"])
        try w.ok(["import", "signed.jsonl"])
        return w
    }

    @Test func batchSignedImportVerifiesAndIsIdempotent() throws {
        let w = try Self.batched()
        let signed = try String(contentsOfFile: w.dir.path("signed.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(signed.count == 28) // 3 manifests + 25 events
        #expect(signed.filter { $0.contains(#""signature""#) }.count == 3)
        let before = try w.size()
        let again = try JSONParser.parse(w.ok(["import", "signed.jsonl", "--format", "json"]))
        #expect(again["appended"]?.doubleValue == 0 && again["duplicates"]?.doubleValue == 28)
        #expect(try w.size() == before)
        // Re-signing the same events gives the same manifests, so this is a no-op too.
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--batch", "10", "--out", "again.jsonl"])
        #expect(try String(contentsOfFile: w.dir.path("again.jsonl"), encoding: .utf8) == signed.joined(separator: "\n") + "\n")
        #expect(try w.run(["verify"]).status == 0)
        let entry = try JSONParser.parse(w.ok(["entry", "\(before - 3)", "--format", "json"]))
        #expect(entry["batch"]?["index"]?.doubleValue == 2)
    }

    /// Import parses and checks each line of a unit in one pass and then splits the unit at a
    /// manifest: lines signed one by one before, between and after batches all land, in file
    /// order, and a line altered after the batches is still the one named.
    @Test func signedLinesAroundBatchesImportInFileOrder() throws {
        let w = try CLIWorld()
        try write(ImportTests.unsignedLines(30), "single.jsonl", in: w)
        let other = ImportTests.unsignedLines(25)
            .replacingOccurrences(of: "IMP-", with: "MIX-")
            .replacingOccurrences(of: "-4000-8000-", with: "-4000-9000-")
        try write(other, "batch.jsonl", in: w)
        try w.ok(["sign", "single.jsonl", "--actor", "maker", "--key", "maker.key", "--out", "single.signed"])
        try w.ok(["sign", "batch.jsonl", "--actor", "maker", "--key", "maker.key", "--batch", "10", "--out", "batch.signed"])
        let singles = try String(contentsOfFile: w.dir.path("single.signed"), encoding: .utf8).split(separator: "\n").map(String.init)
        let batches = try String(contentsOfFile: w.dir.path("batch.signed"), encoding: .utf8).split(separator: "\n").map(String.init)
        let mixed = singles[..<15] + batches + singles[15...]
        try write(mixed.joined(separator: "\n") + "\n", "mixed.jsonl", in: w)
        let before = try w.size()
        let result = try JSONParser.parse(w.ok(["import", "mixed.jsonl", "--format", "json"]))
        #expect(result["appended"]?.doubleValue == 58)
        #expect(try w.size() == before + 58)
        #expect(try w.run(["verify"]).status == 0)
        // The first batch's manifest follows the first 15 singles; the last entry is the last single.
        let manifest = try JSONParser.parse(w.ok(["entry", "\(before + 15)", "--format", "json"]))
        #expect(manifest["event"]?["kind"]?.stringValue == "batch", "\(manifest)")
        let last = try JSONParser.parse(w.ok(["entry", "\(before + 57)", "--format", "json"]))
        #expect(last["event"]?["pack"]?.stringValue == "IMP-29", "\(last)")

        // Altered after signing: line 50 is the 7th single after the batches.
        var altered = mixed
        altered[49] = altered[49].replacingOccurrences(of: "300.5", with: "300.6")
        let fresh = try CLIWorld()
        try write(altered.joined(separator: "\n") + "\n", "altered.jsonl", in: fresh)
        try fresh.expectRejected({ try fresh.run(["import", "altered.jsonl"]) }, "altered.jsonl:50")
        #expect(try fresh.size() == before)
    }

    @Test func aBatchEventAlteredAfterSigningIsRejected() throws {
        let w = try CLIWorld()
        try write(ImportTests.unsignedLines(25), "in.jsonl", in: w)
        try w.ok(["sign", "in.jsonl", "--actor", "maker", "--key", "maker.key", "--batch", "10", "--out", "signed.jsonl"])
        let text = try String(contentsOfFile: w.dir.path("signed.jsonl"), encoding: .utf8)
        let altered = text.split(separator: "\n").map { line in
            line.contains(#""pack":"IMP-14""#) ? line.replacingOccurrences(of: "300.5", with: "300.6") : String(line)
        }.joined(separator: "\n") + "\n"
        #expect(altered != text)
        try write(altered, "altered.jsonl", in: w)
        // IMP-14 is event 5 of the second batch, whose manifest is on line 12.
        try w.expectRejected({ try w.run(["import", "altered.jsonl"]) }, "altered.jsonl:12")
        // A batch whose file ends early, or an event in it that carries its own signature.
        let lines = text.split(separator: "\n").map(String.init)
        try write(lines.prefix(5).joined(separator: "\n") + "\n", "short.jsonl", in: w)
        try w.expectRejected({ try w.run(["import", "short.jsonl"]) }, "declares 10 events but the input ends after 4")
    }

    @Test func verifyFindsAMemberChangedInTheFile() throws {
        let w = try Self.batched()
        let db = try Database(path: w.ledger)
        try db.execute("DROP TRIGGER entries_no_update")
        // Rewrite event 3 of the first batch and re-hash it and every later entry consistently,
        // as a forger who can write the file would: only the batch root can tell.
        let ledger = try Ledger(path: w.ledger)
        let size = try ledger.size()
        let first = try #require((0..<size).first { try ledger.entry($0).batch != nil })
        let target = first + 3
        var prev = try ledger.entry(target).prev
        for seq in target..<size {
            let old = try ledger.entry(seq)
            var eventBytes = old.eventBytes
            if seq == target {
                eventBytes = Array(String(decoding: eventBytes, as: UTF8.self).replacingOccurrences(of: "300.5", with: "301").utf8)
            }
            let new = old.batch.map { Entry(seq: seq, recordedAt: old.recordedAt, prev: prev, batch: $0, eventBytes: eventBytes) }
                ?? Entry(seq: seq, recordedAt: old.recordedAt, prev: prev, keyID: old.keyID, signature: old.signature, eventBytes: eventBytes)
            try db.prepare("UPDATE entries SET bytes = ? WHERE seq = ?").bind(new.bytes, seq).run()
            prev = new.hash
        }
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(Ledger(path: w.ledger, readOnly: true)) }
        #expect(error?.reason.contains("do not hash to its signed root") == true, "\(String(describing: error))")
        #expect(error?.location.entry == first + 9)
    }

    @Test func aBundleProvesOneBatchEventWithoutTheRest() throws {
        let w = try Self.batched()
        try w.ok(["checkpoint"])
        try w.ok(["prove", "IMP-13", "--out", "b.bundle"])
        let vkey = try #require(JSONParser.parse(w.ok(["info", "--format", "json"]))["verifier_key"]?.stringValue)
        let ok = try w.run(["verify-bundle", "b.bundle", "--trust", vkey, "--format", "json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        // Entry 0, maker's registration, the manifest and the event: not the other 9 events.
        #expect(try JSONParser.parse(ok.stdout)["entries"]?.doubleValue == 4)
        let bundle = try JSONParser.parse(KeyFiles.read(w.dir.path("b.bundle")))
        let member = try #require(bundle["entries"]?.arrayValue?.last)
        #expect(member["batch_proof"]?.arrayValue?.count == 4) // ⌈log2 10⌉
    }
}
