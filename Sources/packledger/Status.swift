import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger status PACK`
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A pack's current status, custodian and declared data.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Pack id.") var pack: String

        func run() throws {
            guard let state = try ledger.open(readOnly: true).pack(pack) else {
                throw LedgerError(.notFound, "pack \(pack) is not in the ledger")
            }
            switch output.format {
            case .json:
                Console.json(state.json)
            case .table:
                guard case .object(let fields) = state.json else { return }
                for key in fields.keys.sorted() {
                    let value = fields[key].map { $0.stringValue ?? CanonicalJSON.encodeString($0) } ?? ""
                    print(key.padding(toLength: 24, withPad: " ", startingAt: 0) + value)
                }
            }
        }
    }
}
