import Foundation
import Testing
@testable import PackLedgerKit

/// Runs Tools/plverify.py — a verifier written in Python from Schema/FORMAT.md alone — on the
/// demo ledger and on tampered copies, when python3 with the `cryptography` package is present.
@Suite("Independent verifier (Python)")
struct IndependentVerifierTests {
    static let pythonReady: Bool = {
        guard let r = try? runCLIProcess("/usr/bin/env", ["python3", "-c", "import cryptography"], in: "/") else { return false }
        return r.status == 0
    }()

    @Test(.enabled(if: pythonReady, "python3 with the cryptography package is not installed"))
    func plverifyAgreesOnTheDemoLedgerAndRejectsTampering() throws {
        let dir = try TemporaryDirectory()
        let demo = dir.path("demo")
        let env = ["PACKLEDGER_BIN": packledgerBinary]
        let built = try runCLIProcess("/bin/bash", [repositoryRoot.appendingPathComponent("Tools/demo.sh").path, demo], in: dir.url.path, environment: env)
        #expect(built.status == 0, "demo.sh failed: \(built.stderr)")
        let script = repositoryRoot.appendingPathComponent("Tools/test_plverify.py").path
        let result = try runCLIProcess("/usr/bin/env", ["python3", script, demo], in: dir.url.path, environment: env)
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\n\(result.stderr.suffix(2000))")
        #expect(last.hasSuffix(" 0 failed") && !last.hasPrefix("0 passed"), "last line: \(last)")
    }
}
