import ArgumentParser
import PackLedgerKit

extension PackStatus: ExpressibleByArgument {}

extension PackLedgerCommand {
    /// `packledger packs [--status S] [--producer P] [--category C]`
    struct Packs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List packs, optionally filtered.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Option(help: "Only packs in this status.") var status: PackStatus?
        @Option(help: "Only packs of this producer.") var producer: String?
        @Option(help: "Only packs of this category.") var category: String?

        func run() throws {
            let packs = try ledger.open(readOnly: true).packs(status: status, producer: producer, category: category)
            switch output.format {
            case .json:
                Console.json(.array(packs.map(\.json)))
            case .table:
                Console.table(["PACK", "STATUS", "CUSTODIAN", "PRODUCER", "CATEGORY", "CHEMISTRY", "MASS_KG"], packs.map {
                    [$0.pack, $0.status.rawValue, $0.custodian, $0.producer, $0.category, $0.chemistry, CanonicalJSON.formatNumber($0.massKg)]
                })
            }
        }
    }
}
