import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Compliance report")
struct ComplianceReportTests {
    static func day(_ date: String) -> Int { Timestamp(dateOrTime: date)?.dayNumber ?? 0 }

    @Test func workingDaysOnKnownDates() {
        // 2026-11-20 is a Friday, 2026-11-23 a Monday.
        #expect(WorkingDays.isWorkingDay(Self.day("2026-11-20")) && !WorkingDays.isWorkingDay(Self.day("2026-11-21")))
        #expect(!WorkingDays.isWorkingDay(Self.day("2026-11-22")) && WorkingDays.isWorkingDay(Self.day("2026-11-23")))
        // Friday → Saturday/Sunday: no working day passes; → Monday: one.
        #expect(WorkingDays.count(from: Self.day("2026-11-20"), to: Self.day("2026-11-22")) == 0)
        #expect(WorkingDays.count(from: Self.day("2026-11-20"), to: Self.day("2026-11-23")) == 1)
        // 15 working days after Monday 2026-11-02 is Monday 2026-11-23 (three full weeks).
        let at = Timestamp(rfc3339: "2026-11-02T10:00:00Z") ?? Timestamp(nanoseconds: 0)
        #expect(WorkingDays.deadlineDay(after: at, workingDays: 15) == Self.day("2026-11-23"))
        // An event on Thursday 2026-11-19 with 1 working day: deadline Friday; uploaded Saturday is on
        // time (still 1 working day), Monday is one working day late across the weekend.
        #expect(WorkingDays.count(from: Self.day("2026-11-19"), to: Self.day("2026-11-21")) == 1)
        #expect(WorkingDays.count(from: Self.day("2026-11-19"), to: Self.day("2026-11-23")) == 2)
        // Whole-week shortcut agrees with walking day by day.
        for span in 0..<60 {
            let from = Self.day("2026-01-01")
            let walked = (0..<span).filter { WorkingDays.isWorkingDay(from + 1 + $0) }.count
            #expect(WorkingDays.count(from: from, to: from + span) == walked)
        }
    }

    /// The day `n` working days before today: an event then, recorded now, is exactly on time.
    static func workingDaysBeforeToday(_ n: Int) -> Int {
        let today = Timestamp.now().dayNumber
        var d = today
        while WorkingDays.count(from: d, to: today) < n { d -= 1 }
        // The earliest such day keeps exactly n working days in (d, today].
        while WorkingDays.count(from: d - 1, to: today) == n { d -= 1 }
        return d
    }

    static func noon(_ day: Int) -> String { Timestamp.startOfDay(day).adding(seconds: 12 * 3600).rfc3339 }

    @Test func findingsNameThePacksAndEntries() throws {
        let world = try World()
        let now = Timestamp.now().dayNumber
        // Exactly at the deadline: produced 15 working days before today → on time.
        let onTime = Self.workingDaysBeforeToday(15)
        let onTimeSeq = try world.record("produced", pack: "ONTIME", actor: "maker", at: Self.noon(onTime), data: World.evPack).seq
        // One working day later than allowed → late by one working day.
        let lateDay = Self.workingDaysBeforeToday(16)
        let lateSeq = try world.record("produced", pack: "LATE", actor: "maker", at: Self.noon(lateDay), data: World.evPack).seq
        // Removed for end of life 100 days ago, nothing since → missing.
        try world.record("produced", pack: "GONE", actor: "maker", at: Self.noon(now - 400), data: World.evPack)
        try world.record("installed", pack: "GONE", actor: "oem", at: Self.noon(now - 300), data: ["vin": "WVWZZZ1JZXW000001"])
        let goneSeq = try world.record("removed", pack: "GONE", actor: "oem", at: Self.noon(now - 100), data: ["reason": "end-of-life"]).seq
        // Removed 100 days ago but collected 50 days later → accounted for.
        try world.record("produced", pack: "FOUND", actor: "maker", at: Self.noon(now - 400), data: World.evPack)
        try world.record("installed", pack: "FOUND", actor: "oem", at: Self.noon(now - 300), data: ["vin": "WVWZZZ1JZXW000002"])
        try world.record("removed", pack: "FOUND", actor: "oem", at: Self.noon(now - 100), data: ["reason": "end-of-life"])
        try world.record("collected", pack: "FOUND", actor: "coll", at: Self.noon(now - 50))
        // Removed for a swap 100 days ago → not an end-of-life removal.
        try world.record("produced", pack: "SWAP", actor: "maker", at: Self.noon(now - 400), data: World.evPack)
        try world.record("installed", pack: "SWAP", actor: "oem", at: Self.noon(now - 300), data: ["vin": "WVWZZZ1JZXW000003"])
        try world.record("removed", pack: "SWAP", actor: "oem", at: Self.noon(now - 100), data: ["reason": "swap"])
        // Intake by "rec", registered without an authorization window → unauthorized.
        let intakeSeq = try world.record("intake", pack: "FOUND", actor: "rec", at: Self.noon(now - 40), data: ["mass_kg": 440]).seq

        let report = try ComplianceReport.compute(ledger: world.ledger)
        let lateProduced = report.late.filter { $0.kind == "produced" }
        #expect(!lateProduced.contains { $0.seq == onTimeSeq }, "exactly at the deadline is on time")
        #expect(lateProduced.first { $0.seq == lateSeq }?.workingDaysLate == 1)
        #expect(report.missing.map(\.pack) == ["GONE"])
        #expect(report.missing.first?.seq == goneSeq)
        #expect(report.unauthorized.map(\.seq) == [intakeSeq])
        // As of 20 days ago GONE's 90 days had not yet run out, and the intake was not yet recorded.
        let earlier = try ComplianceReport.compute(ledger: world.ledger, asOf: Timestamp.startOfDay(now - 20))
        #expect(earlier.missing.isEmpty && earlier.unauthorized.isEmpty && earlier.late.isEmpty)
        #expect(report.lateByActorAndKind.contains { $0.actor == "maker" && $0.kind == "produced" })
    }

    @Test func cliJSON() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        let json = try JSONParser.parse(w.ok(["report", "compliance", "--format", "json"]))
        let entries = try #require(json["late_uploads"]?["entries"]?.arrayValue)
        #expect(entries.first?["pack"]?.stringValue == "X" && entries.first?["seq"]?.doubleValue == 8)
        #expect(try w.run(["report", "compliance", "--as-of", "soon"]).status == 64)
    }
}
