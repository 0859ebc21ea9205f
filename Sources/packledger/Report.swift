import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger report epr|…`
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Extended-producer-responsibility and compliance reports.", subcommands: [EPR.self, Compliance.self])
    }
}

/// Report output: format, destination, and the operator's signature.
struct ReportOutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv, markdown, html }

    @Option(help: "Output format: table, json, csv, markdown or html (one self-contained file with charts).") var format: Format = .table
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Sign the report with the operator key: writes OUT.sig, a signed note binding the report's bytes to the ledger state.")
    var sign = false
    @OptionGroup var operatorKey: OperatorKeyOptions

    func validate() throws {
        if sign, out == nil { throw ValidationError("--sign needs --out FILE (the signature goes to FILE.sig)") }
    }

    /// Writes the formats every report shares (JSON, CSV, Markdown); false for the ones the
    /// command renders itself (table, HTML).
    func emitText(_ report: some TextReport, ledger: LedgerOptions) throws -> Bool {
        switch format {
        case .json: try emit(JSONPretty.render(report.json), ledger: ledger, info: report.ledger)
        case .csv: try emit(report.csv, ledger: ledger, info: report.ledger)
        case .markdown: try emit(report.markdown, ledger: ledger, info: report.ledger)
        case .table, .html: return false
        }
        return true
    }

    /// Writes `text` and, with --sign, its signature.
    func emit(_ text: String, ledger: LedgerOptions, info: LedgerInfo) throws {
        let bytes = Array(text.utf8)
        guard let out else {
            print(text, terminator: "")
            return
        }
        try writeFile(bytes, to: out)
        if sign {
            let note = try ReportSignature.sign(ledger: info, report: bytes, key: operatorKey.load(for: ledger))
            try writeFile(note, to: out + ".sig")
            Console.error("wrote \(out) and its signature \(out).sig")
        }
    }
}

/// What the shared report formats need.
protocol TextReport {
    var json: JSONValue { get }
    var csv: String { get }
    var markdown: String { get }
    var ledger: LedgerInfo { get }
}

extension EPRReport: TextReport {}
extension ComplianceReport: TextReport {}

extension PackLedgerCommand.Report {
    /// `packledger report epr --producer P --year Y [--market CC]`
    struct EPR: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "epr", abstract: "EU 2023/1542 figures for one producer and year, per category and chemistry, against the targets in force.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: ReportOutputOptions
        @Option(help: "The producer (party id).") var producer: String
        @Option(help: "The reporting year.") var year: Int
        @Option(help: "Only packs first placed on this market (ISO 3166-1 alpha-2).") var market: String?

        func run() throws {
            let opened = try ledger.open(readOnly: true)
            let report = try EPRReport.compute(ledger: opened, producer: producer, year: year, market: market)
            if try output.emitText(report, ledger: ledger) { return }
            switch output.format {
            case .json, .csv, .markdown:
                return
            case .html:
                var history: [EPRReport] = []
                for y in (year - 4)...year where y > 1970 {
                    history.append(try EPRReport.compute(ledger: opened, producer: producer, year: y, market: market))
                }
                try output.emit(report.html(history: history, statusCounts: opened.statusCounts(producer: producer)), ledger: ledger, info: report.ledger)
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

extension PackLedgerCommand.Report {
    /// `packledger report compliance [--as-of DATE]`
    struct Compliance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Late uploads, packs missing after removal, intake outside authorization, with the entries behind each.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: ReportOutputOptions
        @Option(name: .customLong("as-of"), help: "Compute as of this date (YYYY-MM-DD, end of day UTC) or RFC 3339 time; default now.")
        var asOf: String?

        func run() throws {
            var when = Timestamp.now()
            if let asOf {
                guard let t = Timestamp(dateOrTime: asOf) else { throw LedgerError(.usage, "--as-of \"\(asOf)\" is not a date or RFC 3339 time") }
                when = asOf.utf8.count == 10 ? t.adding(seconds: 86_400 - 1) : t
            }
            let report = try ComplianceReport.compute(ledger: ledger.open(readOnly: true), asOf: when)
            if try output.emitText(report, ledger: ledger) { return }
            switch output.format {
            case .json, .csv, .markdown:
                return
            case .html:
                try output.emit(report.html, ledger: ledger, info: report.ledger)
            case .table:
                print("Compliance report as of \(report.asOf.rfc3339); ledger \(report.ledger.origin), size \(report.ledger.size), root \(report.ledger.root.base64)")
                print("\nlate uploads (\(report.late.count))")
                Console.table(["ACTOR", "KIND", "COUNT"], report.lateByActorAndKind.map { [$0.actor, $0.kind, String($0.count)] })
                if !report.late.isEmpty {
                    Console.table(["SEQ", "PACK", "KIND", "ACTOR", "AT", "RECORDED", "DAYS_LATE"], report.late.map {
                        [String($0.seq), $0.pack, $0.kind, $0.actor, $0.at.rfc3339, $0.recordedAt.rfc3339, String($0.workingDaysLate)]
                    })
                }
                print("\npacks removed for end of life and unaccounted for after \(ComplianceReport.accountingDays) days (\(report.missing.count))")
                Console.table(["PACK", "REMOVED_SEQ", "REMOVED_AT", "REMOVED_BY"], report.missing.map { [$0.pack, String($0.seq), $0.removedAt.rfc3339, $0.actor] })
                print("\nintake outside the recycler's authorization (\(report.unauthorized.count))")
                Console.table(["PACK", "SEQ", "RECYCLER", "AT"], report.unauthorized.map { [$0.pack, String($0.seq), $0.recycler, $0.at.rfc3339] })
            }
        }
    }
}
