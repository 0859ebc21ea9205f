import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger checkpoint [--out FILE]`
    struct CheckpointCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Sign and store a checkpoint (C2SP signed note) for the current tree.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var operatorKey: OperatorKeyOptions
        @Option(help: "Also write the checkpoint note to this file.") var out: String?

        func run() throws {
            let key = try operatorKey.load(for: ledger)
            let stored = try ledger.open().checkpoint(signingWith: key)
            if let out {
                try writeFile(stored.note, to: out)
                Console.error("wrote checkpoint for size \(stored.checkpoint.size) to \(out)")
            } else {
                print(String(decoding: stored.note, as: UTF8.self), terminator: "")
            }
        }
    }
}

/// Writes a file whole, replacing it.
func writeFile(_ bytes: [UInt8], to path: String) throws(LedgerError) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw LedgerError(.storage, "cannot write \(path)", at: ErrorLocation(file: path))
    }
}

/// Reads a checkpoint note file and checks it was signed by this ledger's operator.
func loadCheckpoint(_ path: String, ledger: Ledger) throws(LedgerError) -> SignedCheckpoint {
    do {
        return try SignedCheckpoint(bytes: KeyFiles.read(path), logKey: ledger.logKey())
    } catch {
        throw error.located(file: path)
    }
}
