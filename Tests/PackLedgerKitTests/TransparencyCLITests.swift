import Foundation
import Testing
@testable import PackLedgerKit

@Suite("CLI: checkpoints, proofs, bundles, witnesses")
struct TransparencyCLITests {
    static func populated() throws -> CLIWorld {
        let w = try CLIWorld()
        _ = try w.record("produced", "P1", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        _ = try w.record("installed", "P1", "oem", at: "2024-02-01T00:00:00Z", data: #"{"vin":"WVWZZZ1JZXW000001"}"#)
        return w
    }

    func verifierKey(_ w: CLIWorld) throws -> String {
        try #require(JSONParser.parse(w.ok(["info", "--format", "json"]))["verifier_key"]?.stringValue)
    }

    @Test func checkpointProveAndVerifyBundleOffline() throws {
        let w = try Self.populated()
        try w.ok(["checkpoint", "--out", "cp.txt"])
        let vkey = try verifierKey(w)
        try w.ok(["prove", "P1", "--out", "p1.bundle"])
        // verify-bundle needs no ledger: run it from an empty directory without PACKLEDGER_LEDGER.
        let empty = try TemporaryDirectory()
        try FileManager.default.copyItem(atPath: w.dir.path("p1.bundle"), toPath: empty.path("p1.bundle"))
        let ok = try runCLI(["verify-bundle", "p1.bundle", "--trust", vkey, "--format", "json"], in: empty.url.path)
        #expect(ok.status == 0, "\(ok.stderr)")
        let report = try JSONParser.parse(ok.stdout)
        #expect(report["status"]?.stringValue == "in-service")
        #expect(report["history"]?.arrayValue?.count == 2)
        // A tlog-proof for one entry verifies the same way.
        try w.ok(["prove", "--seq", "8", "--format", "tlog-proof", "--out", "e8.tlog-proof"])
        #expect(try w.run(["verify-bundle", "e8.tlog-proof", "--trust", vkey]).status == 0)
        // The wrong trust key, or a bundle with a changed byte, exits 1.
        let otherKey = "\(vkey.split(separator: "+")[0])+00000000+AVdsZPsLBnr/piGQfBQtaLFIPIoESL58rIieoDqzardO"
        #expect(try w.run(["verify-bundle", "p1.bundle", "--trust", otherKey]).status == 1)
        var bytes = try KeyFiles.read(w.dir.path("p1.bundle"))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: w.dir.path("bad.bundle")))
        let bad = try w.run(["verify-bundle", "bad.bundle", "--trust", vkey])
        #expect(bad.status == 1)
        #expect(!bad.stderr.isEmpty)
        // Usage errors exit 64.
        #expect(try w.run(["prove"]).status == 64)
        #expect(try w.run(["verify-bundle", "p1.bundle", "--trust", vkey, "--min-witnesses", "1"]).status == 64)
    }

    @Test func proveNeedsACheckpointCoveringTheEntries() throws {
        let w = try Self.populated()
        let none = try w.run(["prove", "P1"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("run `packledger checkpoint` first"))
        try w.ok(["checkpoint"])
        _ = try w.record("serviced", "P1", "svc", at: "2024-03-01T00:00:00Z", data: #"{"work":"check"}"#)
        let stale = try w.run(["prove", "P1"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("newer than the checkpoint"))
    }

    @Test func consistencyWitnessAndTrustedVerify() throws {
        let w = try Self.populated()
        try w.ok(["checkpoint", "--out", "cp1.txt"])
        _ = try w.record("serviced", "P1", "svc", at: "2024-03-01T00:00:00Z", data: #"{"work":"check"}"#)
        try w.ok(["checkpoint", "--out", "cp2.txt"])
        let proof = try w.ok(["consistency", "--from", "cp1.txt", "--to", "cp2.txt"])
        #expect(proof.split(separator: "\n").allSatisfy { Base64.decode($0)?.count == 32 })
        try Data(proof.utf8).write(to: URL(fileURLWithPath: w.dir.path("p12.txt")))
        let vkey = try verifierKey(w)
        try w.ok(["keygen", "--out", "wit.key"])
        let wkey = try w.ok(["witness", "init", "--state", "wit.json", "--name", "witness.example/a", "--key", "wit.key", "--log", vkey])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try w.ok(["witness", "cosign", "cp1.txt", "--state", "wit.json"])
        let noProof = try w.run(["witness", "cosign", "cp2.txt", "--state", "wit.json"])
        #expect(noProof.status == 1 && noProof.stderr.contains("consistency proof"))
        let cosig = try w.ok(["witness", "cosign", "cp2.txt", "--state", "wit.json", "--proof", "p12.txt"])
        #expect(cosig.hasPrefix("— witness.example/a "))
        let older = try w.run(["witness", "cosign", "cp1.txt", "--state", "wit.json"])
        #expect(older.status == 1 && older.stderr.contains("older"))
        // The cosigned checkpoint goes into a bundle that demands one witness.
        let cp2 = try String(contentsOfFile: w.dir.path("cp2.txt"), encoding: .utf8)
        try Data((cp2 + cosig).utf8).write(to: URL(fileURLWithPath: w.dir.path("cp2w.txt")))
        try w.ok(["prove", "P1", "--checkpoint", "cp2w.txt", "--out", "w.bundle"])
        let witnessed = try w.run(["verify-bundle", "w.bundle", "--trust", vkey, "--witness", wkey, "--min-witnesses", "1"])
        #expect(witnessed.status == 0, "\(witnessed.stderr)")
        try w.ok(["prove", "P1", "--checkpoint", "cp2.txt", "--out", "nw.bundle"])
        let unwitnessed = try w.run(["verify-bundle", "nw.bundle", "--trust", vkey, "--witness", wkey, "--min-witnesses", "1"])
        #expect(unwitnessed.status == 1 && unwitnessed.stderr.contains("at least 1 required"))
        // verify --trusted passes for the real ledger…
        #expect(try w.run(["verify", "--trusted", "cp1.txt"]).status == 0)
        // …and fails once the ledger is truncated below the trusted checkpoint.
        let db = try Database(path: w.ledger)
        try db.execute("DROP TRIGGER entries_no_delete; DROP TRIGGER checkpoints_no_delete; DELETE FROM entries WHERE seq >= 9; DELETE FROM checkpoints;")
        let truncated = try w.run(["verify", "--trusted", "cp1.txt"])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("truncated"), "\(truncated.stderr)")
    }
}
