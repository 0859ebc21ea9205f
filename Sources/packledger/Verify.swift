import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger verify`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every hash, the chain, every signature and key, and replay the lifecycle rules.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Option(help: "A checkpoint note kept from an earlier visit: the ledger must extend it.") var trusted: String?
        @Flag(help: "Also run SQLite's integrity check and compare every projection (packs, parties, keys, events, tree) with the entries.")
        var deep = false

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            let trustedCheckpoint = try trusted.map { path throws(LedgerError) in try loadCheckpoint(path, ledger: ledger).checkpoint }
            var verifier = Verifier()
            verifier.progress = { Console.progress("verified \($0) entries") }
            let report: VerifyReport
            do {
                report = try verifier.verify(ledger, trusted: trustedCheckpoint, deep: deep)
                Console.endProgress()
            } catch {
                Console.endProgress()
                throw LedgerError(error.code, "verification failed: \(error.reason)", at: error.location)
            }
            switch output.format {
            case .json:
                Console.json(.object([
                    "ok": .bool(true), "origin": .string(report.origin), "entries": .count(report.entries),
                    "root": .string(report.root.base64), "head_hash": .string(report.headHash.hex),
                    "checkpoints": .count(UInt64(report.checkpoints)), "parties": .count(UInt64(report.parties)), "packs": .count(UInt64(report.packs)),
                ]))
            case .table:
                print("OK: \(report.entries) entries verified (origin \(report.origin), \(report.parties) parties, \(report.packs) packs, \(report.checkpoints) stored checkpoints)")
                if let trustedCheckpoint { print("extends the trusted checkpoint of size \(trustedCheckpoint.size)") }
                print("root \(report.root.base64)")
            }
        }
    }
}
