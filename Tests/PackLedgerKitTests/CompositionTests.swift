import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Composition: packs, modules, cells")
struct CompositionTests {
    static let module: [String: JSONValue] = ["category": "ev", "chemistry": "nmc", "mass_kg": 40, "energy_kwh": 7]

    @Test func moduleEventsAreVisibleFromTheirPack() throws {
        let world = try World()
        // Cells, then a module made of them, then a pack of modules (GB/T codes: C, M, P levels).
        try world.record("produced", pack: "CATCE01A000001R5A0000001", actor: "maker", at: "2024-01-01T08:00:00Z", data: ["category": "ev", "chemistry": "nmc", "mass_kg": 1, "energy_kwh": 0.2])
        try world.record("produced", pack: "CATME01A000001R5A0000001", actor: "maker", at: "2024-01-02T08:00:00Z",
                         data: Self.module.merging(["components": ["CATCE01A000001R5A0000001", "CATCE01A000001R5A0000002"]]) { $1 })
        try world.record("produced", pack: "CATPE01A000001R5A0000001", actor: "maker", at: "2024-01-03T08:00:00Z",
                         data: World.evPack.merging(["components": ["CATME01A000001R5A0000001", "M-2"]]) { $1 })
        // An event on the module.
        try world.record("assessed", pack: "CATME01A000001R5A0000001", actor: "svc", at: "2024-03-01T08:00:00Z", data: ["soh_pct": 97, "grade": "reuse"])
        let history = try world.ledger.history("CATPE01A000001R5A0000001")
        #expect(history.map(\.event.pack) == ["CATCE01A000001R5A0000001", "CATME01A000001R5A0000001", "CATPE01A000001R5A0000001", "CATME01A000001R5A0000001"])
        #expect(try world.ledger.descendants(of: "CATPE01A000001R5A0000001") == ["CATME01A000001R5A0000001", "M-2", "CATCE01A000001R5A0000001", "CATCE01A000001R5A0000002"])
        let passport = try Passport.json(ledger: world.ledger, pack: "CATPE01A000001R5A0000001")
        let tree = try #require(passport["materialComposition"]?["components"]?.arrayValue)
        #expect(tree.map { $0["id"]?.stringValue ?? "" } == ["CATME01A000001R5A0000001", "M-2"])
        #expect(tree.first?["components"]?.arrayValue?.count == 2)
        #expect(tree.first?["status"]?.stringValue == "new" && tree.last?["status"]?.isNull == true)
        // The pack's own state of health is not the module's.
        #expect(passport["performanceAndDurability"]?["stateOfHealth"]?.isNull == true)
        _ = try Verifier().verify(world.ledger, deep: true)
    }

    @Test func componentsBelongToOnePackAndMakeNoCycles() throws {
        let world = try World()
        try world.record("produced", pack: "P1", actor: "maker", at: "2024-01-01T08:00:00Z", data: World.evPack.merging(["components": ["M-1"]]) { $1 })
        let twice = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "P2", actor: "maker", at: "2024-01-01T08:00:00Z", data: World.evPack.merging(["components": ["M-1"]]) { $1 })
        }
        #expect(twice?.code == .conflict && twice?.location.field == "data.components[0]")
        // M-1 produced listing P1 would make P1 ⊃ M-1 ⊃ P1.
        let cycle = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "M-1", actor: "maker", at: "2024-01-02T08:00:00Z", data: Self.module.merging(["components": ["P1"]]) { $1 })
        }
        #expect(cycle?.reason.contains("cycle") == true)
        // A pack-level GB/T code cannot be a component; a bad code names its position.
        let packCode = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "P3", actor: "maker", at: "2024-01-01T08:00:00Z", data: World.evPack.merging(["components": ["CATPE01A000001R5A0000009"]]) { $1 })
        }
        #expect(packCode?.reason.contains("level P") == true)
        let badCode = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "P3", actor: "maker", at: "2024-01-01T08:00:00Z", data: World.evPack.merging(["components": ["CATME01A000001R5Z0000001"]]) { $1 })
        }
        #expect(badCode?.reason.contains("position 17") == true)
        _ = try Verifier().verify(world.ledger, deep: true)
    }
}
