import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Battery passport")
struct PassportTests {
    static let ev: [String: JSONValue] = ["category": "ev", "chemistry": "nmc", "mass_kg": 450, "energy_kwh": 75, "plant": "Leipzig-2",
                                          "model": "CC-75", "materials_kg": ["co": 12, "li": 9], "recycled_share": ["co": 0.16]]

    func passport(_ world: World, _ pack: String) throws -> JSONValue { try Passport.json(ledger: world.ledger, pack: pack) }

    /// One pack taken step by step through its life; the passport is read after every step.
    @Test func statusAndDynamicDataAtEachStage() throws {
        let world = try World()
        let p = "PASS-1"
        try world.record("produced", pack: p, actor: "maker", at: "2024-01-10T08:00:00Z", data: Self.ev)
        var pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "original")
        #expect(pass["generalProductInformation"]?["manufacturingPlace"]?.stringValue == "Leipzig-2")
        #expect(pass["generalProductInformation"]?["placedOnMarket"]?.isNull == true)
        #expect(pass["materialComposition"]?["batteryMaterials"]?["co"]?.doubleValue == 12)
        #expect(pass["circularity"]?["recycledContent"]?["co"]?.doubleValue == 0.16)
        #expect(pass["performanceAndDurability"]?["stateOfHealth"]?.isNull == true)
        #expect(pass["lifecycle"]?["custodian"]?["id"]?.stringValue == "maker")

        try world.record("installed", pack: p, actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000001", "market": "DE"])
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "original")
        #expect(pass["generalProductInformation"]?["placedOnMarket"]?["market"]?.stringValue == "DE")
        #expect(pass["lifecycle"]?["custodian"]?["id"]?.stringValue == "oem")

        try world.record("serviced", pack: p, actor: "svc", at: "2024-09-10T08:00:00Z", data: ["work": "cell balancing"])
        try world.record("removed", pack: p, actor: "svc", at: "2025-01-10T08:00:00Z", data: ["reason": "swap"])
        try world.record("assessed", pack: p, actor: "svc", at: "2025-01-11T08:00:00Z", data: ["soh_pct": 91, "grade": "reuse"])
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "original")
        #expect(pass["performanceAndDurability"]?["stateOfHealth"]?["value"]?.doubleValue == 91)
        #expect(pass["lifecycle"]?["ledgerStatus"]?.stringValue == "removed")

        try world.record("reused", pack: p, actor: "svc", at: "2025-01-12T08:00:00Z")
        try world.record("installed", pack: p, actor: "svc", at: "2025-01-13T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000002"])
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "reused")
        // The placing on the market stays the first one.
        #expect(pass["generalProductInformation"]?["placedOnMarket"]?["date"]?.stringValue == "2024-02-10T08:00:00Z")

        try world.record("removed", pack: p, actor: "svc", at: "2025-06-10T08:00:00Z", data: ["reason": "end-of-life"])
        try world.record("assessed", pack: p, actor: "svc", at: "2025-06-11T08:00:00Z", data: ["soh_pct": 58.5, "grade": "recycle"])
        try world.record("collected", pack: p, actor: "coll", at: "2025-06-12T08:00:00Z")
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "waste")
        #expect(pass["performanceAndDurability"]?["stateOfHealth"]?["value"]?.doubleValue == 58.5) // the latest assessment

        try world.record("transferred", pack: p, actor: "coll", at: "2025-06-13T08:00:00Z", data: ["to": "rec"])
        try world.record("intake", pack: p, actor: "rec", at: "2025-06-14T08:00:00Z", data: ["mass_kg": 449])
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "waste")
        #expect(pass["lifecycle"]?["custodian"]?["id"]?.stringValue == "rec")

        try world.record("recovered", pack: p, actor: "rec", at: "2025-07-01T08:00:00Z", data: ["input_kg": 449, "recycled_output_kg": 300, "recovered_kg": ["co": 11]])
        pass = try passport(world, p)
        #expect(pass["batteryStatus"]?.stringValue == "recycled")
        #expect(pass["lifecycle"]?["events"]?.arrayValue?.count == 12) // every event after `produced`
        #expect(pass["ledger"]?["size"]?.doubleValue == Double(try world.ledger.size()))
    }

    @Test func repurposedPackAndSuccessorPointAtEachOther() throws {
        let world = try World()
        try world.record("produced", pack: "ORIG", actor: "maker", at: "2024-01-10T08:00:00Z", data: Self.ev)
        try world.record("installed", pack: "ORIG", actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000001"])
        try world.record("removed", pack: "ORIG", actor: "dis", at: "2025-01-10T08:00:00Z", data: ["reason": "vehicle-scrapped"])
        try world.record("repurposed", pack: "ORIG", actor: "rep", at: "2025-02-10T08:00:00Z", data: ["into": "SL"])
        try world.record("produced", pack: "SL", actor: "rep", at: "2025-03-10T08:00:00Z", data: [
            "category": "industrial", "chemistry": "nmc", "mass_kg": 480, "energy_kwh": 60, "derived_from": ["ORIG"],
        ])
        let original = try passport(world, "ORIG"), successor = try passport(world, "SL")
        #expect(original["batteryStatus"]?.stringValue == "repurposed")
        #expect(original["circularity"]?["lineage"]?["repurposedInto"]?.stringValue == "SL")
        #expect(successor["batteryStatus"]?.stringValue == "repurposed")
        #expect(successor["circularity"]?["lineage"]?["derivedFrom"]?.arrayValue == ["ORIG"])
        #expect(successor["circularity"]?["lineage"]?["repurposedFrom"]?.arrayValue == ["ORIG"])
        // Responsibility moves to the repurposer.
        #expect(successor["generalProductInformation"]?["economicOperator"]?["id"]?.stringValue == "rep")
        // Events after repurposing are refused on the original.
        let refused = #expect(throws: LedgerError.self) {
            try world.record("assessed", pack: "ORIG", actor: "rep", at: "2025-04-10T08:00:00Z", data: ["soh_pct": 80, "grade": "repurpose"])
        }
        #expect(refused?.reason.contains("terminal") == true)
    }

    @Test func gbtCodeIsExplainedAndCLIWorks() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "05BPB01ABC1234R5A0000123", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        let json = try JSONParser.parse(w.ok(["passport", "05BPB01ABC1234R5A0000123", "--format", "json"]))
        #expect(json["identification"]?["gbt34014"]?["manufacturer"]?.stringValue == "05B")
        #expect(json["batteryStatus"]?.stringValue == "original")
        #expect(try w.run(["passport", "NOPE"]).status == 1)
    }
}
