import ArgumentParser
import Foundation
import PackLedgerKit

/// The `packledger` command line: a thin layer that parses arguments, calls PackLedgerKit and
/// prints. Exit status: 0 success, 1 rejected input or a verification fault, 64 usage error.
@main
struct PackLedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packledger",
        abstract: "An append-only, signed, hash-chained ledger of battery packs from production to recycling.",
        subcommands: [
            Init.self, Info.self, Keygen.self, Party.self, Record.self, Sign.self, Import.self, EntryCommand.self,
            History.self, Status.self, Packs.self, Verify.self, CheckpointCommand.self, Prove.self,
            Consistency.self, VerifyBundle.self, WitnessCommand.self, Report.self, Code.self, PassportCommand.self,
        ]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as LedgerError {
            Console.error("packledger: error: \(error)")
            Foundation.exit(error.code == .usage ? 64 : 1)
        } catch {
            exit(withError: error)
        }
    }
}
