import Foundation
import Testing
@testable import PackLedgerKit

@Suite("EPR report")
struct EPRReportTests {
    /// Two producers over 2023–2025. Every figure below is worked out by hand in the comments.
    static func scenario() throws -> World {
        let world = try World(parties: [
            ("maker", [.manufacturer]), ("maker2", [.manufacturer]), ("oem", [.oem]), ("coll", [.collector]),
            ("rep", [.repurposer]), ("svc", [.service]),
        ])
        // Recyclers: "rec" authorized 2020 → 2024-07-01 (lapses mid-2024); "rec2" from 2021, open-ended.
        let rec = try Ed25519PrivateKey.generate(), rec2 = try Ed25519PrivateKey.generate()
        for (id, key, from, until) in [("rec", rec, "2020-01-01T00:00:00Z", "2024-07-01T00:00:00Z" as String?), ("rec2", rec2, "2021-01-01T00:00:00Z", nil)] {
            var data: [String: JSONValue] = ["name": .string(id), "roles": ["recycler"], "key": .string(Base64.encode(key.publicKey.raw)),
                                             "key_valid_from": "2020-01-01T00:00:00Z", "authorized_from": .string(from)]
            if let until { data["authorized_until"] = .string(until) }
            _ = try world.registry(.partyRegistered, party: id, data: data)
        }
        func produce(_ pack: String, by actor: String = "maker", category: String = "portable", chemistry: String = "nimh", mass: Double,
                     materials: [String: JSONValue] = [:], at: String = "2022-12-01T00:00:00Z") throws {
            var data: [String: JSONValue] = ["category": .string(category), "chemistry": .string(chemistry), "mass_kg": .number(mass), "energy_kwh": 0.01]
            if !materials.isEmpty { data["materials_kg"] = .object(materials) }
            try world.record("produced", pack: pack, actor: actor, at: at, data: data)
        }
        // Portable NiMH packs of "maker", placed on the market (sold) in 2023, 2024, 2025:
        //   P1 2 kg sold 2023 (DE), P2 4 kg sold 2024 (DE), P3 6 kg sold 2025 (FR), P4 1 kg sold 2025 (DE)
        for (pack, mass, sold, market) in [("P1", 2.0, "2023-03-01T00:00:00Z", "DE"), ("P2", 4.0, "2024-03-01T00:00:00Z", "DE"),
                                           ("P3", 6.0, "2025-03-01T00:00:00Z", "FR"), ("P4", 1.0, "2025-12-31T23:59:59Z", "DE")] {
            try produce(pack, mass: mass, materials: ["ni": .number(mass / 4)])
            try world.record("sold", pack: pack, actor: "maker", at: sold, data: ["market": .string(market)])
        }
        // P1: installed 2023, collected 2025-01-10 (a pack sold in one year, collected in another),
        // taken in by rec2 2025-02-01 weighing 1.9 kg, recovered 2025-03-01: input 1.9, output 1.5, ni 0.45.
        try world.record("installed", pack: "P1", actor: "oem", at: "2023-04-01T00:00:00Z", data: ["asset": "drill 1"])
        try world.record("collected", pack: "P1", actor: "coll", at: "2025-01-10T00:00:00Z")
        try world.record("transferred", pack: "P1", actor: "coll", at: "2025-01-20T00:00:00Z", data: ["to": "rec2"])
        try world.record("intake", pack: "P1", actor: "rec2", at: "2025-02-01T00:00:00Z", data: ["mass_kg": 1.9], key: rec2)
        try world.record("recovered", pack: "P1", actor: "rec2", at: "2025-03-01T00:00:00Z",
                         data: ["input_kg": 1.9, "recycled_output_kg": 1.5, "recovered_kg": ["ni": 0.45]], key: rec2)
        // P2: installed, removed, taken in without a `collected` by rec in 2025 — rec's authorization
        // lapsed on 2024-07-01, so its 3.8 kg is unauthorized; it counts as collected in 2025 (its intake).
        try world.record("installed", pack: "P2", actor: "oem", at: "2024-04-01T00:00:00Z", data: ["asset": "drill 2"])
        try world.record("removed", pack: "P2", actor: "oem", at: "2024-10-01T00:00:00Z", data: ["reason": "end-of-life"])
        try world.record("intake", pack: "P2", actor: "rec", at: "2025-05-01T00:00:00Z", data: ["mass_kg": 3.8], key: rec)
        // P3: installed 2025, removed for a swap, reused (second life: reused in 2025).
        try world.record("installed", pack: "P3", actor: "oem", at: "2025-04-01T00:00:00Z", data: ["asset": "drill 3"])
        try world.record("removed", pack: "P3", actor: "svc", at: "2025-06-01T00:00:00Z", data: ["reason": "swap"])
        try world.record("reused", pack: "P3", actor: "svc", at: "2025-06-02T00:00:00Z")
        // An EV pack of "maker" placed 2025, removed and repurposed in 2025 into SL (which belongs to "rep").
        try produce("EV1", category: "ev", chemistry: "nmc", mass: 400, materials: ["co": 10, "li": 8])
        try world.record("installed", pack: "EV1", actor: "oem", at: "2025-01-15T00:00:00Z", data: ["vin": "WVWZZZ1JZXW000001", "market": "DE"])
        try world.record("removed", pack: "EV1", actor: "oem", at: "2025-07-01T00:00:00Z", data: ["reason": "end-of-life"])
        try world.record("repurposed", pack: "EV1", actor: "rep", at: "2025-08-01T00:00:00Z", data: ["into": "SL"])
        try world.record("produced", pack: "SL", actor: "rep", at: "2025-09-01T00:00:00Z", data: [
            "category": "industrial", "chemistry": "nmc", "mass_kg": 420, "energy_kwh": 50, "derived_from": ["EV1"],
        ])
        // "maker2" has one pack, never sold.
        try produce("Q1", by: "maker2", mass: 3)
        return world
    }

    func figures(_ report: EPRReport, _ category: String, _ chemistry: String) throws -> EPRReport.Figures {
        try #require(report.groups.first { $0.category == category && $0.chemistry == chemistry })
    }

    @Test func figuresMatchTheHandComputation() throws {
        let world = try Self.scenario()
        let report = try EPRReport.compute(ledger: world.ledger, producer: "maker", year: 2025)
        let nimh = try figures(report, "portable", "nimh")
        // Placed in 2025: P3 (6 kg) and P4 (1 kg, at 23:59:59 on 31 Dec) → 2 units, 7 kg.
        #expect(nimh.placedUnits == 2 && nimh.placedKg == 7)
        // By year: 2023 P1 2 kg, 2024 P2 4 kg, 2025 7 kg.
        #expect(nimh.placedKgByYear == [2, 4, 7])
        // Collected in 2025: P1 (collected 2025-01-10) and P2 (never collected; intake 2025-05-01) → 2 units, 6 kg.
        #expect(nimh.collectedUnits == 2 && nimh.collectedKg == 6)
        // Collection rate: 6 ÷ ((2 + 4 + 7) / 3) = 18 / 13 = 1.3846…; portable target in force in 2025: 45 %.
        let rate = report.collectionRate(nimh)
        #expect(rate.value == 6 / (13.0 / 3))
        #expect(rate.target == 0.45 && rate.met == true)
        // Delivered: P1 1.9 kg to rec2 (authorized); P2 3.8 kg to rec, whose authorization ended 2024-07-01.
        #expect(nimh.deliveredKg == 1.9 && nimh.unauthorizedKg == 3.8)
        // Second life in 2025: P3 reused once.
        #expect(nimh.reused == 1 && nimh.repurposed == 0)
        // Recycling efficiency: P1 recovered 2025: 1.5 ÷ 1.9 = 0.789…; NiMH is "other": 50 % in force from 2024.
        let efficiency = report.recyclingEfficiency(nimh)
        #expect(efficiency.value == 1.5 / 1.9 && efficiency.target == 0.5 && efficiency.met == true)
        // Material recovery: ni 0.45 ÷ declared 0.5 (P1: 2 kg / 4) = 0.9; target for ni from 2027 only → none in 2025.
        let recovery = report.materialRecovery(nimh)
        #expect(recovery["ni"]?.value == 0.45 / 0.5)
        #expect(recovery["ni"]?.target == nil && recovery["ni"]?.met == nil)
        // Cobalt: nothing declared for the packs recovered → no value, and it says why.
        #expect(recovery["co"]?.value == nil && recovery["co"]?.reason?.contains("no co content declared") == true)

        let ev = try figures(report, "ev", "nmc")
        // EV1 placed 2025 (installed, DE) 400 kg; repurposed 2025 → second life; never collected.
        #expect(ev.placedUnits == 1 && ev.placedKg == 400 && ev.repurposed == 1 && ev.collectedUnits == 0)
        // EV: no collection-rate target (take-back of all); the rate is 0 ÷ (400/3) = 0.
        #expect(report.collectionRate(ev).value == 0 && report.collectionRate(ev).target == nil)
        #expect(report.recyclingEfficiency(ev).value == nil)
        // The successor belongs to the repurposer, not to "maker".
        #expect(report.groups.allSatisfy { $0.category != "industrial" })
        let successor = try EPRReport.compute(ledger: world.ledger, producer: "rep", year: 2025)
        #expect(successor.groups.map(\.category) == ["industrial"])
        // Totals: 7 + 400 placed; 6 collected.
        #expect(report.totals.placedKg == 407 && report.totals.collectedKg == 6)
    }

    /// The whole JSON output, member by member, as computed by hand above.
    @Test func jsonOutputMatchesExactly() throws {
        let world = try Self.scenario()
        let report = try EPRReport.compute(ledger: world.ledger, producer: "maker", year: 2025)
        func rate(_ value: Double?, _ reason: String?, _ target: Double?, _ met: Bool?) -> JSONValue {
            .object(["value": value.map { .number($0) } ?? .null, "reason": reason.map { .string($0) } ?? .null,
                     "target": target.map { .number($0) } ?? .null, "met": met.map { .bool($0) } ?? .null])
        }
        let noneDeclared = { (m: String) in rate(nil, "no \(m) content declared for the packs recovered in 2025", nil, nil) }
        let noneRecovered = rate(nil, "no packs recovered in 2025", nil, nil)
        // EV NMC: EV1 placed 2025 (400 kg), repurposed 2025, never collected or recovered. EVs have
        // no collection-rate target; lithium-based recycling efficiency 65 % from 2025; material
        // targets only from 2027.
        let ev: JSONValue = .object([
            "category": "ev", "chemistry": "nmc",
            "placed_on_market": ["units": 1, "kg": 400],
            "placed_on_market_kg_by_year": ["2023": 0, "2024": 0, "2025": 400],
            "collected": ["units": 0, "kg": 0],
            "collection_rate": rate(0, nil, nil, nil),
            "delivered_to_recyclers_kg": 0, "delivered_unauthorized_kg": 0,
            "second_life": ["reused": 0, "repurposed": 1],
            "recycling_efficiency": rate(nil, "no packs recovered in 2025", 0.65, nil),
            "material_recovery": ["li": noneRecovered, "co": noneRecovered, "ni": noneRecovered, "cu": noneRecovered, "pb": noneRecovered],
        ])
        // Portable NiMH: see figuresMatchTheHandComputation.
        let nimh: JSONValue = .object([
            "category": "portable", "chemistry": "nimh",
            "placed_on_market": ["units": 2, "kg": 7],
            "placed_on_market_kg_by_year": ["2023": 2, "2024": 4, "2025": 7],
            "collected": ["units": 2, "kg": 6],
            "collection_rate": rate(6 / (13.0 / 3), nil, 0.45, true),
            "delivered_to_recyclers_kg": 1.9, "delivered_unauthorized_kg": 3.8,
            "second_life": ["reused": 1, "repurposed": 0],
            "recycling_efficiency": rate(1.5 / 1.9, nil, 0.5, true),
            "material_recovery": ["ni": rate(0.9, nil, nil, nil), "li": noneDeclared("li"), "co": noneDeclared("co"),
                                  "cu": noneDeclared("cu"), "pb": noneDeclared("pb")],
        ])
        // Totals: both groups added; 6 ÷ ((2 + 4 + 407) / 3) = 18 / 413; no targets on totals.
        let totals: JSONValue = .object([
            "placed_on_market": ["units": 3, "kg": 407],
            "placed_on_market_kg_by_year": ["2023": 2, "2024": 4, "2025": 407],
            "collected": ["units": 2, "kg": 6],
            "collection_rate": rate(6 / (413.0 / 3), nil, nil, nil),
            "delivered_to_recyclers_kg": 1.9, "delivered_unauthorized_kg": 3.8,
            "second_life": ["reused": 1, "repurposed": 1],
            "recycling_efficiency": rate(1.5 / 1.9, nil, nil, nil),
            "material_recovery": ["ni": rate(0.9, nil, nil, nil), "li": noneDeclared("li"), "co": noneDeclared("co"),
                                  "cu": noneDeclared("cu"), "pb": noneDeclared("pb")],
        ])
        let info = try world.ledger.info()
        let expected: JSONValue = .object([
            "report": "epr", "producer": "maker", "year": 2025, "market": .null,
            "ledger": ["origin": "test.example/ledger", "size": .number(Double(info.size)), "root": .string(info.root.base64), "checkpointed": false],
            "groups": [ev, nimh], "totals": totals,
        ])
        #expect(CanonicalJSON.encodeString(report.json) == CanonicalJSON.encodeString(expected))
    }

    @Test func marketFilterAndEmptyProducer() throws {
        let world = try Self.scenario()
        // Market DE: P1 (2023), P2 (2024), P4 (2025), EV1 (2025, DE) — P3 was placed in FR.
        let de = try EPRReport.compute(ledger: world.ledger, producer: "maker", year: 2025, market: "DE")
        #expect(try figures(de, "portable", "nimh").placedKg == 1)
        #expect(try figures(de, "portable", "nimh").reused == 0) // P3's reuse is FR
        // A producer with no data: no groups, and rates say why instead of 0 or NaN.
        let none = try EPRReport.compute(ledger: world.ledger, producer: "maker2", year: 2025)
        let q1 = try figures(none, "portable", "nimh")
        #expect(q1.placedUnits == 0)
        #expect(none.collectionRate(q1).value == nil && none.collectionRate(q1).reason?.contains("no packs placed") == true)
        let stranger = try EPRReport.compute(ledger: world.ledger, producer: "nobody", year: 2025)
        #expect(stranger.groups.isEmpty)
        let json = CanonicalJSON.encodeString(stranger.json)
        #expect(!json.contains("NaN") && !json.contains("Infinity"))
    }

    @Test func cliJSONOutput() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2023-01-01T00:00:00Z", data: CLIWorld.evData)
        _ = try w.record("sold", "X", "maker", at: "2023-02-01T00:00:00Z", data: #"{"market":"DE"}"#)
        let json = try JSONParser.parse(w.ok(["report", "epr", "--producer", "maker", "--year", "2023", "--format", "json"]))
        #expect(json["groups"]?.arrayValue?.first?["placed_on_market"]?["kg"]?.doubleValue == 450.5)
        #expect(json["ledger"]?["size"]?.doubleValue == Double(try w.size()))
        #expect(try w.run(["report", "epr", "--producer", "maker", "--year", "1900"]).status == 1)
    }
}

@Suite("Report renderings and signatures")
struct ReportRenderingTests {
    @Test func htmlIsSelfContainedWithCharts() throws {
        let world = try EPRReportTests.scenario()
        let report = try EPRReport.compute(ledger: world.ledger, producer: "maker", year: 2025)
        let history = try (2021...2025).map { try EPRReport.compute(ledger: world.ledger, producer: "maker", year: $0) }
        let html = report.html(history: history, statusCounts: try world.ledger.statusCounts(producer: "maker"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg").count - 1 >= 3)
        // No scripts and nothing fetched: the only URL is the SVG namespace name.
        for forbidden in ["<script", "https://", "src=", "<link"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http://") == false)
        #expect(html.contains("Collection rate, portable, 2021–2025"))
        // A rate without a value never claims the target is not met.
        #expect(!html.contains("n/a (target 50 %, not met)"))
        let csv = report.csv.split(separator: "\n")
        #expect(csv.first?.hasPrefix("category,chemistry,placed_units,placed_kg") == true)
        #expect(csv.count == report.groups.count + 2)
        #expect(report.markdown.contains("| portable | nimh | 2 / 7 | 2 / 6 |"))
        let compliance = try ComplianceReport.compute(ledger: world.ledger)
        #expect(compliance.csv.hasPrefix("finding,seq,pack,party,kind,at,recorded_at,working_days_late,ledger_origin,ledger_size,ledger_root\n"))
        #expect(report.csv.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(report.ledger.root.base64) })
        #expect(compliance.html.contains("<svg") && !compliance.html.contains("<script"))
    }

    @Test func signedReportBindsBytesToTheLedgerState() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        try w.ok(["report", "epr", "--producer", "maker", "--year", "2024", "--format", "json", "--out", "r.json", "--sign"])
        let vkey = try NoteVerifierKey(parsing: #require(JSONParser.parse(w.ok(["info", "--format", "json"]))["verifier_key"]?.stringValue))
        let note = try Note(parsing: KeyFiles.read(w.dir.path("r.json.sig")))
        #expect(try note.verify([vkey]) == [vkey])
        let lines = String(decoding: note.text, as: UTF8.self).split(separator: "\n").map(String.init)
        let report = try KeyFiles.read(w.dir.path("r.json"))
        let info = try Ledger(path: w.ledger, readOnly: true).info()
        #expect(lines == ["packledger-report/v1", info.origin, String(info.size), info.root.base64, SHA256.hash(report).base64])
        #expect(try w.run(["report", "epr", "--producer", "maker", "--year", "2024", "--sign"]).status == 64)
    }
}
