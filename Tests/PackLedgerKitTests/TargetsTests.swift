import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Legal targets")
struct TargetsTests {
    @Test func embeddedTargetsEqualSchemaFile() throws {
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("Schema/targets.json"), encoding: .utf8)
        #expect(Targets.json == file)
        _ = try Targets(json: file)
    }

    // DOMAIN.md: EU 2023/1542 figures and the Chinese upload deadlines.
    @Test func targetsInForceByYear() {
        let t = Targets.eu
        #expect(Targets.inForce(t.collectionRate["portable"], year: 2022) == nil)
        #expect(Targets.inForce(t.collectionRate["portable"], year: 2024)?.target == 0.45)
        #expect(Targets.inForce(t.collectionRate["portable"], year: 2027)?.target == 0.63)
        #expect(Targets.inForce(t.collectionRate["portable"], year: 2031)?.target == 0.73)
        #expect(Targets.inForce(t.collectionRate["lmt"], year: 2028)?.target == 0.51)
        #expect(t.collectionRate["ev"] == nil) // take-back of all, no rate
        #expect(Targets.inForce(t.recyclingEfficiency["lithium-based"], year: 2026)?.target == 0.65)
        #expect(Targets.inForce(t.recyclingEfficiency["lead-acid"], year: 2030)?.target == 0.80)
        #expect(Targets.inForce(t.materialRecovery["li"], year: 2027)?.target == 0.50)
        #expect(Targets.inForce(t.materialRecovery["co"], year: 2031)?.target == 0.95)
        #expect(Targets.inForce(t.materialRecovery["ni"], year: 2026) == nil)
        #expect(t.efficiencyGroups["nmc"] == "lithium-based" && t.efficiencyGroups["lead-acid"] == "lead-acid")
        #expect(t.uploadDeadlines["produced"] == 15 && t.uploadDeadlines["intake"] == 30)
    }
}
