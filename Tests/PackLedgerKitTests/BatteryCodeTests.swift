import Foundation
import Testing
@testable import PackLedgerKit

@Suite("GB/T 34014 battery codes")
struct BatteryCodeTests {
    @Test(arguments: [
        ("05BPB01ABC1234R5A0000123", BatteryCode.Level.pack),   // LFP pack
        ("CATME2X00000019CY9999999", .module),                    // ternary module, 31 December
        ("ZZ9CZ00AAAAAAAY1Y0000000", .cell),                      // "other" cell, day 31 of January
        ("000PA99ZZZZZZZ1120000001", .pack),
    ])
    func validCodes(code: String, level: BatteryCode.Level) throws {
        let parsed = try BatteryCode(code)
        #expect(parsed.level == level)
        #expect(BatteryCode.hasShape(code))
    }

    @Test func fieldsAreExplained() throws {
        let c = try BatteryCode("CATME2X00000019CY9999999")
        #expect(c.manufacturer == "CAT" && c.batteryType == "E" && c.specification == "2X" && c.traceability == "0000001")
        #expect(c.year == "9" && c.monthNumber == 12 && c.dayNumber == 31 && c.serial == "9999999")
        #expect(c.json["level"]?.stringValue == "module")
        #expect(c.json["battery_type"]?["meaning"]?.stringValue == "ternary lithium (NCM/NCA)")
    }

    /// Each position with a character its class forbids, and lengths.
    @Test(arguments: [
        ("05bPB01ABC1234R5A0000123", 3), ("05BXB01ABC1234R5A0000123", 4), ("05BPH01ABC1234R5A0000123", 5),
        ("05BPB0-ABC1234R5A0000123", 7), ("05BPBa1ABC1234R5A0000123", 6), ("05BPB01ABC12_4R5A0000123", 13),
        ("05BPB01ABC1234I5A0000123", 15), ("05BPB01ABC1234O5A0000123", 15), ("05BPB01ABC1234QDA0000123", 15),
        ("05BPB01ABC1234RDA0000123", 16), ("05BPB01ABC1234R0A0000123", 16), ("05BPB01ABC1234R5Z0000123", 17),
        ("05BPB01ABC1234R5I0000123", 17), ("05BPB01ABC1234R2X0000123", 17), ("05BPB01ABC1234R4Y0000123", 17),
        ("05BPB01ABC1234R5A000012X", 24), ("05BPB01ABC1234R5AA000123", 18),
    ])
    func invalidPositions(code: String, position: Int) {
        let error = #expect(throws: LedgerError.self) { try BatteryCode(code) }
        #expect(error?.reason.contains("position \(position) ") == true, "\(code): \(String(describing: error))")
    }

    @Test(arguments: ["05BPB01ABC1234R5A000012", "05BPB01ABC1234R5A00001234", ""])
    func invalidLengths(code: String) {
        let error = #expect(throws: LedgerError.self) { try BatteryCode(code) }
        #expect(error?.reason.contains("24 characters") == true)
    }

    @Test func producedValidatesCodeShapedIdsOnly() throws {
        let world = try World(parties: [("maker", [.manufacturer])])
        let data: [String: JSONValue] = ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50]
        let error = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "05BPB01ABC1234R2X0000123", actor: "maker", at: "2024-01-10T08:00:00Z", data: data)
        }
        #expect(error?.location.field == "pack" && error?.reason.contains("position 17") == true)
        try world.record("produced", pack: "05BPB01ABC1234R5A0000123", actor: "maker", at: "2024-01-10T08:00:00Z", data: data)
        // Not code-shaped (a hyphen, or 23 characters): taken as an ordinary id.
        try world.record("produced", pack: "05BPB01ABC1234R2X-000123", actor: "maker", at: "2024-01-10T08:00:00Z", data: data)
    }

    @Test func cliExplainsAndNamesTheBadPosition() throws {
        let dir = try TemporaryDirectory()
        let ok = try runCLI(["code", "parse", "05BPB01ABC1234R5A0000123", "--format", "json"], in: dir.url.path)
        #expect(ok.status == 0)
        #expect(try JSONParser.parse(ok.stdout)["production_date"]?["day"]?.doubleValue == 10)
        let bad = try runCLI(["code", "parse", "05BPB01ABC1234R5A00001X3"], in: dir.url.path)
        #expect(bad.status == 1 && bad.stderr.contains("position 23 'X' is not a digit"), "\(bad.stderr)")
    }
}
