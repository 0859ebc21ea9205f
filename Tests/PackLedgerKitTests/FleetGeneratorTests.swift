import Foundation
import Testing
@testable import PackLedgerKit

/// The `packledger-generate-fleet` binary (or `$PACKLEDGER_GENERATE_FLEET_BIN`): SwiftPM builds it
/// into the same directory as `packledger`, found the same way.
let fleetGeneratorBinary: String = {
    let name = "packledger-generate-fleet"
    if let explicit = ProcessInfo.processInfo.environment["PACKLEDGER_GENERATE_FLEET_BIN"] { return explicit }
    let beside = URL(fileURLWithPath: packledgerBinary).deletingLastPathComponent().appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir.deleteLastPathComponent()
    }
    return repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
}()

/// The synthetic fleet generator, end to end through the real binaries.
@Suite struct FleetGeneratorTests {
    /// Generates a small fleet, imports it file by file through `import.sh` into a fresh ledger,
    /// verifies the ledger, looks at the resulting pack statuses, and regenerates it to check
    /// that the same seed gives the same bytes.
    @Test func fleetImportsInFileOrderVerifiesAndIsReproducible() throws {
        let dir = try TemporaryDirectory()
        let work = dir.url.path
        let first = dir.path("fleet-1")
        let generated = try runCLIProcess(fleetGeneratorBinary, ["--out", first, "--events", "3000", "--seed", "7"], in: work)
        try #require(generated.status == 0, "generator failed: \(generated.stderr)")

        let ledger = dir.path("fleet.db")
        let created = try runCLI(["init", "--origin", "fleet.test/log"], in: work, environment: ["PACKLEDGER_LEDGER": ledger])
        try #require(created.status == 0, "init failed: \(created.stderr)")
        let imported = try runCLIProcess("/bin/bash", [first + "/import.sh"], in: work,
                                         environment: ["PACKLEDGER": packledgerBinary, "PACKLEDGER_LEDGER": ledger])
        #expect(imported.status == 0, "import.sh failed: \(imported.stderr.suffix(3000))")

        // Every file was imported, and every line of every file is an entry.
        let eventsDir = first + "/events"
        let files = try FileManager.default.contentsOfDirectory(atPath: eventsDir).filter { $0.hasSuffix(".jsonl") }.sorted()
        #expect(files.count > 50)
        #expect(imported.stdout.contains("imported \(files.count) files"), "\(imported.stdout)")
        var lines = 0
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: eventsDir + "/" + file))
            lines += data.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        }
        #expect((2_850...3_150).contains(lines), "\(lines) events for --events 3000")
        let parties = try String(contentsOfFile: first + "/parties.tsv", encoding: .utf8).split(separator: "\n").count - 1
        let info = try runCLI(["info", "--format", "json"], in: work, environment: ["PACKLEDGER_LEDGER": ledger])
        let size = (try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])?["size"] as? Int
        #expect(size == 1 + parties + lines, "ledger size \(size ?? -1), expected init + \(parties) parties + \(lines) events")

        let verified = try runCLI(["verify"], in: work, environment: ["PACKLEDGER_LEDGER": ledger])
        #expect(verified.status == 0, "verify failed: \(verified.stdout) \(verified.stderr)")

        let listed = try runCLI(["packs", "--format", "json"], in: work, environment: ["PACKLEDGER_LEDGER": ledger])
        #expect(listed.status == 0)
        let packs = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
        let statuses = Set(packs.compactMap { $0["status"] as? String })
        for status in ["recycled", "repurposed", "in-service", "removed"] {
            #expect(statuses.contains(status), "no pack is \(status); statuses: \(statuses.sorted())")
        }
        #expect(packs.contains { (($0["derived_from"] as? [Any]) ?? []).isEmpty == false }, "no second-life pack")

        // Same seed and options: byte-identical events files (names and contents) and keys.
        let second = dir.path("fleet-2")
        let again = try runCLIProcess(fleetGeneratorBinary, ["--out", second, "--events", "3000", "--seed", "7"], in: work)
        try #require(again.status == 0, "second run failed: \(again.stderr)")
        let filesAgain = try FileManager.default.contentsOfDirectory(atPath: second + "/events").sorted()
        #expect(filesAgain == files)
        for file in files {
            let a = try Data(contentsOf: URL(fileURLWithPath: eventsDir + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: second + "/events/" + file))
            #expect(a == b, "\(file) differs between two runs with the same seed")
        }
        for name in ["SUMMARY.txt", "parties.tsv", "register.sh", "import.sh", "keys/hydromet.key", "keys/hydromet.key.pub"] {
            let a = FileManager.default.contents(atPath: first + "/" + name)
            #expect(a != nil && a == FileManager.default.contents(atPath: second + "/" + name), "\(name) differs")
        }

        // A non-empty output directory is refused.
        let refused = try runCLIProcess(fleetGeneratorBinary, ["--out", second, "--events", "10"], in: work)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))
    }
}
