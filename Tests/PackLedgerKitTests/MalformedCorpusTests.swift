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

    @Test func everyMalformedInputIsRefusedClearlyAndChangesNothing() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 40)
        let w = try CLIWorld()
        let before = try w.size()
        let checksumBefore = try Ledger(path: w.ledger, readOnly: true).info().root
        for (file, expect) in cases {
            try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent(file), to: URL(fileURLWithPath: w.dir.path(file)))
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
