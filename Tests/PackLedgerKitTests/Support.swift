import Foundation
import Testing
@testable import PackLedgerKit

/// A directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("packledger-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `packledger` binary built beside the test bundle (or `$PACKLEDGER_BIN`).
let packledgerBinary: String = {
    if let explicit = ProcessInfo.processInfo.environment["PACKLEDGER_BIN"] { return explicit }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // On some toolchains the test binary sits inside PackLedgerPackageTests.xctest/…
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("packledger").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir.deleteLastPathComponent()
    }
    return repositoryRoot.appendingPathComponent(".build/debug/packledger").path
}()

/// What one run of the binary did.
struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the real `packledger` binary with `arguments`, in `directory`.
func runCLI(_ arguments: [String], in directory: String, environment: [String: String] = [:], stdin: String? = nil) throws -> RunResult {
    try runCLIProcess(packledgerBinary, arguments, in: directory, environment: environment, stdin: stdin)
}

/// Runs any program and captures its output, with the ledger variables of the test run's own
/// environment removed so that nothing reaches a ledger by accident.
func runCLIProcess(_ program: String, _ arguments: [String], in directory: String, environment: [String: String] = [:], stdin: String? = nil) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "PACKLEDGER_LEDGER")
    env.removeValue(forKey: "PACKLEDGER_OPERATOR_KEY")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Read both pipes before waiting so a large output cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}
