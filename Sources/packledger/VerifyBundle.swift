import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger verify-bundle FILE --trust VKEY [--witness VKEY…] [--min-witnesses K]`
    struct VerifyBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-bundle",
            abstract: "Verify an evidence bundle or a tlog-proof offline, with public keys only (no ledger file)."
        )

        @OptionGroup var output: FormatOptions
        @Argument(help: "Bundle (from `prove PACK`) or tlog-proof (from `prove --seq N --format tlog-proof`).") var file: String
        @Option(help: "The log's verifier key NAME+KEYID+BASE64 (from `packledger info`).") var trust: String
        @Option(parsing: .upToNextOption, help: "Witness verifier keys.") var witness: [String] = []
        @Option(name: .customLong("min-witnesses"), help: "How many witness cosignatures must verify.") var minWitnesses: Int = 0

        func validate() throws {
            guard minWitnesses >= 0, minWitnesses <= witness.count else {
                throw ValidationError("--min-witnesses must be between 0 and the number of --witness keys")
            }
        }

        func run() throws {
            let trustKey = try NoteVerifierKey(parsing: trust)
            guard trustKey.type == .ed25519 else { throw LedgerError(.usage, "--trust must be a log key (type 0x01)") }
            var witnesses: [NoteVerifierKey] = []
            for w in witness {
                let key = try NoteVerifierKey(parsing: w)
                guard key.type == .cosignature else { throw LedgerError(.usage, "--witness \(w) is not a cosignature key (type 0x04)") }
                witnesses.append(key)
            }
            let bytes = try KeyFiles.read(file)
            if bytes.starts(with: Array((TlogProof.header + "\n").utf8)) {
                let (signed, entry, verified) = try TlogProof(parsing: bytes).verify(trust: trustKey, witnesses: witnesses, minWitnesses: minWitnesses)
                let event = try Ledger.event(of: entry)
                switch output.format {
                case .json:
                    Console.json(.object([
                        "ok": .bool(true), "index": .count(entry.seq), "leaf_hash": .string(entry.hash.hex),
                        "checkpoint": .object(["origin": .string(signed.checkpoint.origin), "size": .count(signed.checkpoint.size), "root": .string(signed.checkpoint.root.base64)]),
                        "witnesses": .array(verified.map { .string($0.name) }), "event": event.json,
                    ]))
                case .table:
                    print("OK: entry \(entry.seq) is in \(signed.checkpoint.origin) at size \(signed.checkpoint.size) (\(verified.count) witness(es))")
                    print(JSONPretty.render(event.json), terminator: "")
                }
                return
            }
            let report = try EvidenceBundle.verify(bytes, trust: trustKey, witnesses: witnesses, minWitnesses: minWitnesses)
            switch output.format {
            case .json:
                Console.json(.object([
                    "ok": .bool(true), "pack": .string(report.pack), "status": .string(report.status.rawValue),
                    "entries": .count(UInt64(report.entries)),
                    "checkpoint": .object(["origin": .string(report.checkpoint.origin), "size": .count(report.checkpoint.size), "root": .string(report.checkpoint.root.base64)]),
                    "witnesses": .array(report.witnesses.map { .string($0.name) }),
                    "history": .array(report.history.map { .object(["kind": .string($0.kind.rawValue), "actor": .string($0.actor), "at": .string($0.at.rfc3339), "data": .object($0.data)]) }),
                ]))
            case .table:
                print("OK: pack \(report.pack) is \(report.status.rawValue); \(report.entries) entries proven against \(report.checkpoint.origin) size \(report.checkpoint.size); \(report.witnesses.count) witness(es)")
                Console.table(["AT", "KIND", "ACTOR"], report.history.map { [$0.at.rfc3339, $0.kind.rawValue, $0.actor] })
            }
        }
    }
}
