import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger info`
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Origin, size, root and the operator's verifier key.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let info = try ledger.open(readOnly: true).info()
            let vkey = NoteKey.verifierKey(name: info.origin, key: info.operatorKey)
            switch output.format {
            case .json:
                Console.json(.object([
                    "origin": .string(info.origin), "size": .count(info.size), "root": .string(info.root.base64),
                    "root_hex": .string(info.root.hex), "head_hash": .string(info.headHash.hex),
                    "operator_key_id": .string(info.operatorKey.keyID), "verifier_key": .string(vkey),
                ]))
            case .table:
                print("origin        \(info.origin)")
                print("size          \(info.size)")
                print("root          \(info.root.base64)")
                print("head hash     \(info.headHash.hex)")
                print("operator key  \(info.operatorKey.keyID)")
                print("verifier key  \(vkey)")
            }
        }
    }
}
