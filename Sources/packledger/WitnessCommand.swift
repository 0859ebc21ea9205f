import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger witness init|cosign`
    struct WitnessCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "witness",
            abstract: "A witness that cosigns only checkpoints consistent with what it saw before.",
            subcommands: [Init.self, Cosign.self]
        )
    }
}

extension PackLedgerCommand.WitnessCommand {
    /// `packledger witness init --state FILE --name N --key FILE --log VKEY`
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a witness state file; prints the witness's verifier key.")

        @Option(help: "State file to create.") var state: String
        @Option(help: "The witness's name (its cosignature key name).") var name: String
        @Option(help: "The witness's private key (from `packledger keygen`).") var key: String
        @Option(help: "The log's verifier key NAME+KEYID+BASE64.") var log: String

        func run() throws {
            try Witness.initialize(statePath: state, name: name, keyFile: key, log: log)
            print(try Witness.verifierKey(statePath: state).description)
        }
    }

    /// `packledger witness cosign CHECKPOINT --state FILE [--proof FILE]`
    struct Cosign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a checkpoint against the witness state and print a cosignature line to append to it.")

        @Argument(help: "The checkpoint note file.") var checkpoint: String
        @Option(help: "The witness state file.") var state: String
        @Option(help: "Consistency proof from the last witnessed size (output of `packledger consistency`).") var proof: String?

        func run() throws {
            var hashes: [Digest] = []
            if let proof {
                let text = String(decoding: try KeyFiles.read(proof), as: UTF8.self)
                for (i, line) in text.split(separator: "\n").enumerated() {
                    guard let d = Base64.decode(line).flatMap(Digest.init) else {
                        throw LedgerError(.malformed, "not a base64 hash", at: ErrorLocation(file: proof, line: i + 1))
                    }
                    hashes.append(d)
                }
            }
            let signature = try Witness.cosign(checkpointNote: KeyFiles.read(checkpoint), statePath: state, proof: hashes,
                                               now: UInt64(max(0, Timestamp.now().nanoseconds / 1_000_000_000)))
            print(signature.line, terminator: "")
        }
    }
}
