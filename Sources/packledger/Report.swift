import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger report epr|…`
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Extended-producer-responsibility and compliance reports.", subcommands: [EPR.self])
    }
}

extension PackLedgerCommand.Report {
    /// `packledger report epr --producer P --year Y [--market CC]`
    struct EPR: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "epr", abstract: "EU 2023/1542 figures for one producer and year, per category and chemistry, against the targets in force.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Option(help: "The producer (party id).") var producer: String
        @Option(help: "The reporting year.") var year: Int
        @Option(help: "Only packs first placed on this market (ISO 3166-1 alpha-2).") var market: String?

        func run() throws {
            let report = try EPRReport.compute(ledger: ledger.open(readOnly: true), producer: producer, year: year, market: market)
            switch output.format {
            case .json:
                Console.json(report.json)
            case .table:
                print("EPR report: producer \(producer), \(year)\(market.map { ", market \($0)" } ?? "")")
                print("ledger \(report.ledger.origin), size \(report.ledger.size), root \(report.ledger.root.base64)\(report.checkpoint == nil ? " (not checkpointed at this size)" : ", checkpointed")")
                func pct(_ r: EPRReport.Rate) -> String {
                    guard let v = r.value else { return "n/a" }
                    let target = r.target.map { String(format: " (target %.0f%%: %@)", $0 * 100, r.met == true ? "met" : "not met") } ?? ""
                    return String(format: "%.1f%%", v * 100) + target
                }
                func kg(_ v: Double) -> String { String(format: "%.1f", v) }
                let rows = report.groups + [report.totals]
                Console.table(["CATEGORY", "CHEMISTRY", "PLACED", "PLACED_KG", "COLLECTED", "COLLECTED_KG", "COLLECTION_RATE", "TO_RECYCLERS_KG", "UNAUTHORIZED_KG", "REUSED", "REPURPOSED", "RECYCLING_EFFICIENCY"],
                              rows.map { f in
                                  [f.category ?? "total", f.chemistry ?? "", String(f.placedUnits), kg(f.placedKg), String(f.collectedUnits), kg(f.collectedKg),
                                   pct(f.category == nil ? report.collectionRate(f).withoutTarget : report.collectionRate(f)),
                                   kg(f.deliveredKg), kg(f.unauthorizedKg), String(f.reused), String(f.repurposed),
                                   pct(f.category == nil ? report.recyclingEfficiency(f).withoutTarget : report.recyclingEfficiency(f))]
                              })
                print("\nmaterial recovery (recovered ÷ declared content, packs recovered in \(year))")
                for f in rows {
                    let rates = report.materialRecovery(f).filter { $0.value.value != nil }.sorted { $0.key < $1.key }
                    guard !rates.isEmpty else { continue }
                    print("  \(f.category ?? "total") \(f.chemistry ?? ""): " + rates.map { "\($0.key) \(pct($0.value))" }.joined(separator: ", "))
                }
            }
        }
    }
}
