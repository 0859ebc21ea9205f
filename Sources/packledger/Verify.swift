import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger verify`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every hash, the chain, every signature and key, and replay the lifecycle rules.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            var verifier = Verifier()
            verifier.progress = { Console.progress("verified \($0) entries") }
            let report: VerifyReport
            do {
                report = try verifier.verify(ledger)
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
                    "parties": .count(UInt64(report.parties)), "packs": .count(UInt64(report.packs)),
                ]))
            case .table:
                print("OK: \(report.entries) entries verified (origin \(report.origin), \(report.parties) parties, \(report.packs) packs)")
                print("root \(report.root.base64)")
            }
        }
    }
}
