import Foundation

/// Text renderings of the reports: CSV, Markdown and one self-contained HTML file with SVG
/// charts (no scripts, no network), plus the operator's signature over a report.
public enum ReportRendering {
    /// Escapes text for HTML.
    static func html(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A CSV field, quoted when it must be.
    static func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A quantity for people: rounded to three decimals (grams, for kilograms), so that sums of
    /// declared masses do not show binary floating-point residue. JSON keeps the exact values.
    static func number(_ v: Double?) -> String { v.map { CanonicalJSON.formatNumber(($0 * 1000).rounded() / 1000) } ?? "" }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        let tenths = (v * 1000).rounded() / 10
        return CanonicalJSON.formatNumber(tenths) + " %"
    }

    /// One bar of a chart, with an optional target to mark.
    public struct Bar: Sendable {
        /// The bar's label.
        public let label: String
        /// Its value (nil: drawn as "n/a").
        public let value: Double?
        /// A target to draw as a marker.
        public let target: Double?
    }

    /// A horizontal bar chart as inline SVG; values and targets as fractions when `percent`.
    static func barChart(title: String, bars: [Bar], percent: Bool) -> String {
        let width = 640, rowHeight = 28, left = 170, chartWidth = 380
        let height = 40 + bars.count * rowHeight + 20
        let maxValue = max(1.0, bars.compactMap { max($0.value ?? 0, $0.target ?? 0) }.max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(html(title))\">"
        svg += "<text x=\"0\" y=\"20\" font-size=\"15\" font-weight=\"bold\">\(html(title))</text>"
        for (i, bar) in bars.enumerated() {
            let y = 36 + i * rowHeight
            svg += "<text x=\"\(left - 8)\" y=\"\(y + 17)\" font-size=\"13\" text-anchor=\"end\">\(html(bar.label))</text>"
            if let value = bar.value {
                let w = Int((value / maxValue) * Double(chartWidth))
                let met = bar.target.map { value >= $0 }
                let color = met == nil ? "#4a78b5" : (met == true ? "#3a9a5b" : "#c2513d")
                svg += "<rect x=\"\(left)\" y=\"\(y + 4)\" width=\"\(max(w, 1))\" height=\"18\" fill=\"\(color)\"/>"
                let label = percent ? ReportRendering.percent(value) : CanonicalJSON.formatNumber((value * 10).rounded() / 10)
                svg += "<text x=\"\(left + max(w, 1) + 6)\" y=\"\(y + 17)\" font-size=\"12\">\(html(label))</text>"
            } else {
                svg += "<text x=\"\(left + 4)\" y=\"\(y + 17)\" font-size=\"12\" fill=\"#777\">n/a</text>"
            }
            if let target = bar.target {
                let x = left + Int((target / maxValue) * Double(chartWidth))
                svg += "<line x1=\"\(x)\" y1=\"\(y + 1)\" x2=\"\(x)\" y2=\"\(y + 25)\" stroke=\"#222\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>"
            }
        }
        svg += "<text x=\"\(left)\" y=\"\(height - 4)\" font-size=\"11\" fill=\"#555\">bars: value (green: target met, red: not met); dashed line: EU target in force</text>"
        return svg + "</svg>"
    }

    static let style = """
        <style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:24px;color:#222}
        table{border-collapse:collapse;margin:8px 0 20px;font-size:12px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}
        th{background:#f0f3f7}td:first-child,th:first-child,td:nth-child(2){text-align:left}.met{color:#2f7d4a;font-weight:bold}
        .notmet{color:#b03a2e;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:24px}code,pre{font-size:12px;background:#f6f6f6}</style>
        """

    static func page(title: String, body: String) -> String {
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(html(title))</title>\(style)</head><body>\n\(body)\n</body></html>\n"
    }
}

extension EPRReport {
    static let materialOrder = ["li", "co", "ni", "cu", "pb", "mn", "al", "graphite"]

    var materialsShown: [String] {
        let present = Set((groups + [totals]).flatMap { materialRecovery($0).keys })
        return EPRReport.materialOrder.filter(present.contains) + present.subtracting(EPRReport.materialOrder).sorted()
    }

    /// One CSV row per category and chemistry, then the totals.
    public var csv: String {
        var header = ["category", "chemistry", "placed_units", "placed_kg", "collected_units", "collected_kg", "collection_rate", "collection_target",
                      "delivered_to_recyclers_kg", "delivered_unauthorized_kg", "reused", "repurposed", "recycling_efficiency", "recycling_efficiency_target"]
        let materials = materialsShown
        for m in materials { header += ["recovery_\(m)", "recovery_\(m)_target"] }
        // Every row names the ledger state, so a row copied out of the file still says where it came from.
        header += ["ledger_origin", "ledger_size", "ledger_root"]
        var lines = [header.joined(separator: ",")]
        for f in groups + [totals] {
            let total = f.category == nil
            let c = collectionRate(f), e = recyclingEfficiency(f), r = materialRecovery(f)
            var row = [f.category ?? "total", f.chemistry ?? "", String(f.placedUnits), ReportRendering.number(f.placedKg), String(f.collectedUnits),
                       ReportRendering.number(f.collectedKg), ReportRendering.number(c.value), total ? "" : ReportRendering.number(c.target),
                       ReportRendering.number(f.deliveredKg), ReportRendering.number(f.unauthorizedKg), String(f.reused), String(f.repurposed),
                       ReportRendering.number(e.value), total ? "" : ReportRendering.number(e.target)]
            for m in materials { row += [ReportRendering.number(r[m]?.value), total ? "" : ReportRendering.number(r[m]?.target)] }
            row += [ledger.origin, String(ledger.size), ledger.root.base64]
            lines.append(row.map(ReportRendering.csv).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func cell(_ r: Rate, total: Bool) -> String {
        let value = ReportRendering.percent(r.value)
        guard !total, let target = r.target else { return value }
        guard let met = r.met else { return "\(value) (target \(ReportRendering.percent(target)))" }
        return "\(value) (target \(ReportRendering.percent(target)), \(met ? "met" : "not met"))"
    }

    /// GitHub-flavoured Markdown.
    public var markdown: String {
        var out = "# EPR report: \(producer), \(year)\(market.map { ", market \($0)" } ?? "")\n\n"
        out += "Ledger `\(ledger.origin)`, size \(ledger.size), root `\(ledger.root.base64)`\(checkpoint == nil ? " (not checkpointed at this size)" : ", checkpointed").\n\n"
        out += "| category | chemistry | placed (units / kg) | collected (units / kg) | collection rate | to recyclers kg | unauthorized kg | reused | repurposed | recycling efficiency |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|\n"
        for f in groups + [totals] {
            let total = f.category == nil
            out += "| \(f.category ?? "**total**") | \(f.chemistry ?? "") | \(f.placedUnits) / \(ReportRendering.number(f.placedKg)) | \(f.collectedUnits) / \(ReportRendering.number(f.collectedKg)) | \(cell(collectionRate(f), total: total)) | \(ReportRendering.number(f.deliveredKg)) | \(ReportRendering.number(f.unauthorizedKg)) | \(f.reused) | \(f.repurposed) | \(cell(recyclingEfficiency(f), total: total)) |\n"
        }
        out += "\n## Material recovery (recovered ÷ declared content of packs recovered in \(year))\n\n"
        let materials = materialsShown
        out += "| category | chemistry | " + materials.joined(separator: " | ") + " |\n|---|---|" + String(repeating: "---|", count: materials.count) + "\n"
        for f in groups + [totals] {
            let r = materialRecovery(f)
            out += "| \(f.category ?? "**total**") | \(f.chemistry ?? "") | " + materials.map { m in r[m].map { cell($0, total: f.category == nil) } ?? "n/a" }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// One self-contained HTML page: tables and charts (packs by status, collection rate over the
    /// years against the target, material recovery against the targets).
    public func html(history: [EPRReport], statusCounts: [(status: String, count: Int)]) -> String {
        var body = "<h1>EPR report: \(ReportRendering.html(producer)), \(year)\(market.map { ", market \(ReportRendering.html($0))" } ?? "")</h1>\n"
        body += "<p>Computed from ledger <code>\(ReportRendering.html(ledger.origin))</code>, size \(ledger.size), root <code>\(ledger.root.base64)</code>\(checkpoint == nil ? " (not checkpointed at this size)" : ", checkpointed").</p>\n"
        body += "<table><tr><th>category</th><th>chemistry</th><th>placed units</th><th>placed kg</th><th>collected units</th><th>collected kg</th><th>collection rate</th><th>to recyclers kg</th><th>unauthorized kg</th><th>reused</th><th>repurposed</th><th>recycling efficiency</th></tr>\n"
        for f in groups + [totals] {
            let total = f.category == nil
            func rateCell(_ r: Rate) -> String {
                let cls = total ? "" : (r.met == true ? " class=\"met\"" : (r.met == false ? " class=\"notmet\"" : ""))
                return "<td\(cls)>\(ReportRendering.html(cell(r, total: total)))</td>"
            }
            body += "<tr><td>\(ReportRendering.html(f.category ?? "total"))</td><td>\(ReportRendering.html(f.chemistry ?? ""))</td><td>\(f.placedUnits)</td><td>\(ReportRendering.number(f.placedKg))</td><td>\(f.collectedUnits)</td><td>\(ReportRendering.number(f.collectedKg))</td>\(rateCell(collectionRate(f)))<td>\(ReportRendering.number(f.deliveredKg))</td><td>\(ReportRendering.number(f.unauthorizedKg))</td><td>\(f.reused)</td><td>\(f.repurposed)</td>\(rateCell(recyclingEfficiency(f)))</tr>\n"
        }
        body += "</table>\n<div class=\"charts\">\n"
        body += ReportRendering.barChart(title: "Packs of \(producer) by lifecycle status", bars: statusCounts.map { ReportRendering.Bar(label: $0.status, value: Double($0.count), target: nil) }, percent: false)
        // Collection rate over the years, per category that has a target, else the totals.
        let categories = Set(history.flatMap { $0.groups.compactMap(\.category) }).filter { Targets.eu.collectionRate[$0] != nil }.sorted()
        for category in categories.isEmpty ? [nil] : categories.map(Optional.some) {
            var bars: [ReportRendering.Bar] = []
            for r in history {
                let groups = r.groups.filter { $0.category == category }
                var f = Figures(category: category, chemistry: nil)
                for g in groups {
                    f.collectedKg += g.collectedKg
                    for i in 0..<3 { f.placedKgByYear[i] += g.placedKgByYear[i] }
                }
                let rate = category == nil ? r.collectionRate(r.totals).withoutTarget : r.collectionRate(f)
                bars.append(ReportRendering.Bar(label: String(r.year), value: rate.value, target: rate.target))
            }
            body += ReportRendering.barChart(title: "Collection rate\(category.map { ", \($0)" } ?? ""), \(history.first?.year ?? year)–\(year)", bars: bars, percent: true)
        }
        let recovery = materialRecovery(totals)
        body += ReportRendering.barChart(title: "Material recovery in \(year)", bars: materialsShown.map { m in
            ReportRendering.Bar(label: m, value: recovery[m]?.value, target: Targets.inForce(Targets.eu.materialRecovery[m], year: year)?.target)
        }, percent: true)
        body += "\n</div>\n<p>Rates that cannot be computed say why in the JSON output (<code>--format json</code>). Targets: Regulation (EU) 2023/1542, as in <code>Schema/targets.json</code>.</p>"
        return ReportRendering.page(title: "EPR report \(producer) \(year)", body: body)
    }
}

extension ComplianceReport {
    /// One CSV row per finding.
    public var csv: String {
        var lines = ["finding,seq,pack,party,kind,at,recorded_at,working_days_late,ledger_origin,ledger_size,ledger_root"]
        let state = [ledger.origin, String(ledger.size), ledger.root.base64]
        func add(_ row: [String]) { lines.append((row + state).map(ReportRendering.csv).joined(separator: ",")) }
        for l in late { add(["late-upload", String(l.seq), l.pack, l.actor, l.kind, l.at.rfc3339, l.recordedAt.rfc3339, String(l.workingDaysLate)]) }
        for m in missing { add(["missing-after-removal", String(m.seq), m.pack, m.actor, "removed", m.removedAt.rfc3339, "", ""]) }
        for u in unauthorized { add(["unauthorized-intake", String(u.seq), u.pack, u.recycler, "intake", u.at.rfc3339, "", ""]) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// GitHub-flavoured Markdown.
    public var markdown: String {
        var out = "# Compliance report as of \(asOf.rfc3339)\n\nLedger `\(ledger.origin)`, size \(ledger.size), root `\(ledger.root.base64)`.\n\n"
        out += "## Late uploads (\(late.count))\n\n| actor | kind | count |\n|---|---|---|\n"
        for r in lateByActorAndKind { out += "| \(r.actor) | \(r.kind) | \(r.count) |\n" }
        out += "\n## Packs unaccounted for \(ComplianceReport.accountingDays) days after an end-of-life removal (\(missing.count))\n\n| pack | entry | removed at | by |\n|---|---|---|---|\n"
        for m in missing { out += "| \(m.pack) | \(m.seq) | \(m.removedAt.rfc3339) | \(m.actor) |\n" }
        out += "\n## Intake outside the recycler's authorization (\(unauthorized.count))\n\n| pack | entry | recycler | at |\n|---|---|---|---|\n"
        for u in unauthorized { out += "| \(u.pack) | \(u.seq) | \(u.recycler) | \(u.at.rfc3339) |\n" }
        return out
    }

    /// One self-contained HTML page.
    public var html: String {
        var body = "<h1>Compliance report as of \(asOf.rfc3339)</h1><p>Ledger <code>\(ReportRendering.html(ledger.origin))</code>, size \(ledger.size), root <code>\(ledger.root.base64)</code>.</p>\n<div class=\"charts\">"
        body += ReportRendering.barChart(title: "Late uploads by actor and kind", bars: lateByActorAndKind.map { ReportRendering.Bar(label: "\($0.actor) \($0.kind)", value: Double($0.count), target: nil) }, percent: false)
        body += "</div>\n<h2>Packs unaccounted for \(ComplianceReport.accountingDays) days after an end-of-life removal (\(missing.count))</h2><table><tr><th>pack</th><th>entry</th><th>removed at</th><th>by</th></tr>"
        for m in missing { body += "<tr><td>\(ReportRendering.html(m.pack))</td><td>\(m.seq)</td><td>\(m.removedAt.rfc3339)</td><td>\(ReportRendering.html(m.actor))</td></tr>" }
        body += "</table>\n<h2>Intake outside the recycler's authorization (\(unauthorized.count))</h2><table><tr><th>pack</th><th>entry</th><th>recycler</th><th>at</th></tr>"
        for u in unauthorized { body += "<tr><td>\(ReportRendering.html(u.pack))</td><td>\(u.seq)</td><td>\(ReportRendering.html(u.recycler))</td><td>\(u.at.rfc3339)</td></tr>" }
        body += "</table>\n<h2>Late uploads (\(late.count))</h2><table><tr><th>entry</th><th>pack</th><th>kind</th><th>actor</th><th>at</th><th>recorded</th><th>working days late</th></tr>"
        for l in late.prefix(5_000) { body += "<tr><td>\(l.seq)</td><td>\(ReportRendering.html(l.pack))</td><td>\(l.kind)</td><td>\(ReportRendering.html(l.actor))</td><td>\(l.at.rfc3339)</td><td>\(l.recordedAt.rfc3339)</td><td>\(l.workingDaysLate)</td></tr>" }
        body += "</table>" + (late.count > 5_000 ? "<p>First 5,000 of \(late.count) late uploads; the CSV and JSON outputs list all.</p>" : "")
        return ReportRendering.page(title: "Compliance report", body: body)
    }
}

/// The operator's signature over a report: a C2SP signed note binding the report's bytes to the
/// ledger state it was computed from.
public enum ReportSignature {
    /// The note text: a header line, the ledger origin, size and root, and the SHA-256 of the
    /// report bytes (base64).
    public static func text(ledger: LedgerInfo, report: [UInt8]) -> [UInt8] {
        Array("packledger-report/v1\n\(ledger.origin)\n\(ledger.size)\n\(ledger.root.base64)\n\(SHA256.hash(report).base64)\n".utf8)
    }

    /// Signs `report` with the operator key; returns the note.
    public static func sign(ledger: LedgerInfo, report: [UInt8], key: Ed25519PrivateKey) throws(LedgerError) -> [UInt8] {
        guard key.publicKey == ledger.operatorKey else {
            throw LedgerError(.invalidKey, "key \(key.publicKey.keyID) is not the ledger's operator key")
        }
        let text = text(ledger: ledger, report: report)
        return Note(text: text, signatures: [try Note.sign(text: text, name: ledger.origin, key: key)]).bytes
    }
}
