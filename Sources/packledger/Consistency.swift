import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger consistency --from CHECKPOINT [--to CHECKPOINT]`
    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "RFC 6962 consistency proof between two checkpoints, one base64 hash a line.")

        @OptionGroup var ledger: LedgerOptions
        @Option(help: "The older checkpoint note file.") var from: String
        @Option(help: "The newer checkpoint note file (default: the latest stored checkpoint).") var to: String?

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            let old = try loadCheckpoint(from, ledger: ledger).checkpoint
            let new: Checkpoint
            if let to {
                new = try loadCheckpoint(to, ledger: ledger).checkpoint
            } else if let latest = try ledger.latestCheckpoint() {
                new = latest.checkpoint
            } else {
                throw LedgerError(.notFound, "the ledger has no checkpoint yet; run `packledger checkpoint` first")
            }
            guard old.size <= new.size else {
                throw LedgerError(.outOfRange, "--from (size \(old.size)) is newer than --to (size \(new.size))")
            }
            guard old.size > 0 else { throw LedgerError(.outOfRange, "a proof from the empty tree proves nothing; any tree extends it") }
            for cp in [old, new] where try ledger.root(size: cp.size) != cp.root {
                throw LedgerError(.integrity, "this ledger's first \(cp.size) entries do not match the checkpoint of size \(cp.size)", at: ErrorLocation(entry: cp.size - 1))
            }
            for hash in try ledger.consistencyProof(oldSize: old.size, newSize: new.size) { print(hash.base64) }
        }
    }
}
