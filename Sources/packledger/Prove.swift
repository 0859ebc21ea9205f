import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger prove PACK [--out FILE]` and `packledger prove --seq N [--format tlog-proof]`
    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Evidence bundle for a pack, or an inclusion proof for one entry, against the latest checkpoint.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, tlogProof = "tlog-proof" }

        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "Pack id (for an evidence bundle).") var pack: String?
        @Option(help: "Entry sequence number (for a single inclusion proof).") var seq: UInt64?
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Option(help: "Use this checkpoint note (e.g. with witness cosignatures) instead of the latest stored one.") var checkpoint: String?
        @Option(help: "With --seq: table, json or tlog-proof.") var format: Format = .table

        func validate() throws {
            guard (pack == nil) != (seq == nil) else { throw ValidationError("give either a PACK or --seq N") }
        }

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            let note = try checkpoint.map { path throws(LedgerError) in try loadCheckpoint(path, ledger: ledger).note.bytes }
            let output: [UInt8]
            if let pack {
                output = try EvidenceBundle.build(ledger: ledger, pack: pack, checkpointNote: note)
            } else {
                let seq = seq ?? 0
                guard let noteBytes = try note ?? ledger.latestCheckpoint()?.note else {
                    throw LedgerError(.notFound, "the ledger has no checkpoint yet; run `packledger checkpoint` first")
                }
                let cp = try SignedCheckpoint(bytes: noteBytes, logKey: ledger.logKey()).checkpoint
                guard seq < cp.size else {
                    throw LedgerError(.notFound, "entry \(seq) is not covered by the checkpoint (size \(cp.size)); run `packledger checkpoint`", at: ErrorLocation(entry: seq))
                }
                let entry = try ledger.entry(seq)
                let proof = try ledger.inclusionProof(seq: seq, size: cp.size)
                switch format {
                case .tlogProof:
                    output = TlogProof(extra: entry.bytes, index: seq, proof: proof, note: noteBytes).bytes
                case .json:
                    output = Array(JSONPretty.render(.object([
                        "index": .count(seq), "leaf_hash": .string(entry.hash.base64), "tree_size": .count(cp.size),
                        "root": .string(cp.root.base64), "proof": .array(proof.map { .string($0.base64) }),
                        "checkpoint": .string(String(decoding: noteBytes, as: UTF8.self)),
                    ])).utf8)
                case .table:
                    let lines = ["entry \(seq) leaf hash \(entry.hash.base64)", "tree size \(cp.size) root \(cp.root.base64)", "proof:"]
                        + proof.map { "  " + $0.base64 }
                    output = Array((lines.joined(separator: "\n") + "\n").utf8)
                }
            }
            if let out {
                try writeFile(output, to: out)
            } else {
                print(String(decoding: output, as: UTF8.self), terminator: "")
            }
        }
    }
}
