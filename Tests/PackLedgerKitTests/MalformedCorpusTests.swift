import Foundation
import Testing
@testable import PackLedgerKit

/// Tests/Corpus: malformed inputs a spreadsheet export or a hostile sender can produce. Each is
/// imported with the real binary and must be refused with exit status 1, an error naming where
/// the problem is (EXPECTED.tsv), and no change to the ledger.
@Suite("Malformed input corpus")
struct MalformedCorpusTests {
    static let corpus = repositoryRoot.appendingPathComponent("Tests/Corpus")

    static func cases() throws -> [(file: String, expect: String)] {
        let text = try String(contentsOf: corpus.appendingPathComponent("EXPECTED.tsv"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    /// Made at test time rather than committed: a line just over the 1 MiB limit.
    static let generated: [(file: String, bytes: [UInt8], expect: String)] = [
        ("line-too-long.jsonl", Array(ImportTests.unsignedLines(3).utf8) + Array(#"{"x":""#.utf8) + [UInt8](repeating: 0x61, count: 1 << 20) + Array("\"}\n".utf8), "bytes; the"),
    ]

    @Test func everyMalformedInputIsRefusedClearlyAndChangesNothing() throws {
        let w = try CLIWorld()
        for g in Self.generated { try Data(g.bytes).write(to: URL(fileURLWithPath: w.dir.path(g.file))) }
        let cases = try Self.cases() + Self.generated.map { ($0.file, $0.expect) }
        #expect(cases.count >= 40)
        let before = try w.size()
        let checksumBefore = try Ledger(path: w.ledger, readOnly: true).info().root
        for (file, expect) in cases {
            if !FileManager.default.fileExists(atPath: w.dir.path(file)) {
                try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent(file), to: URL(fileURLWithPath: w.dir.path(file)))
            }
            let args = file.hasPrefix("signed-") ? ["import", file] : ["import", file, "--actor", "maker", "--key", "maker.key"]
            let r = try w.run(args)
            #expect(r.status == 1, "\(file): exit \(r.status), \(r.stderr)")
            #expect(r.stderr.contains(expect), "\(file): \(r.stderr)")
            #expect(r.stderr.contains(file), "\(file): the error names the file: \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Program crashed"), "\(file)")
        }
        #expect(try w.size() == before)
        #expect(try Ledger(path: w.ledger, readOnly: true).info().root == checksumBefore)
        #expect(try w.run(["verify", "--deep"]).status == 0)
    }
}
