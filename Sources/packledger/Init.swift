import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger init --origin NAME [--operator-key FILE]`
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a ledger; writes an operator key if none is given.")

        @OptionGroup var ledger: LedgerOptions
        @Option(help: "The ledger's origin, e.g. ledger.example-recycling.org/eu-2026.") var origin: String
        @Option(name: .customLong("operator-key"), help: "Existing operator private key to use (default: generate LEDGER.operator.key).")
        var operatorKey: String?

        func run() throws {
            let key: Ed25519PrivateKey
            let keyPath: String
            if let operatorKey {
                key = try loadPrivateKey(operatorKey)
                keyPath = operatorKey
            } else {
                key = try Ed25519PrivateKey.generate()
                keyPath = ledger.defaultOperatorKeyPath
                try KeyFiles.write(key, to: keyPath)
            }
            let created = try Ledger.create(path: ledger.path, origin: origin, operatorKey: key)
            let info = try created.info()
            print("created \(ledger.path) with origin \(info.origin)")
            print("operator key: \(keyPath) (public: \(keyPath).pub)")
            print("verifier key: \(NoteKey.verifierKey(name: info.origin, key: info.operatorKey))")
        }
    }
}
