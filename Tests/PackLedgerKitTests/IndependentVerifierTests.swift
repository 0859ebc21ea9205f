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

/// Runs any program (not only packledger) and captures its output.
func runCLIProcess(_ program: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "PACKLEDGER_LEDGER")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}
