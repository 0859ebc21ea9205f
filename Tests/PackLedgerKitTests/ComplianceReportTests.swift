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

    /// The JSON output, member by member. The ledger assigns record times when entries are
    /// appended, so those are read back; everything else is written out by hand.
    @Test func jsonOutputMatchesExactly() throws {
        let world = try World(parties: [("maker", [.manufacturer]), ("oem", [.oem]), ("rec", [.recycler])])
        let now = Timestamp.now().dayNumber
        let onTime = Self.workingDaysBeforeToday(15), lateDay = Self.workingDaysBeforeToday(17)
        // seq 4: A produced on time; seq 5: C produced two working days late.
        try world.record("produced", pack: "A", actor: "maker", at: Self.noon(onTime), data: World.evPack)
        try world.record("produced", pack: "C", actor: "maker", at: Self.noon(lateDay), data: World.evPack)
        // seq 6–8: B produced 140 days ago, installed 130 and removed for end of life 120 days ago,
        // all uploaded today (late); nothing followed within 90 days, so B is missing.
        try world.record("produced", pack: "B", actor: "maker", at: Self.noon(now - 140), data: World.evPack)
        try world.record("installed", pack: "B", actor: "oem", at: Self.noon(now - 130), data: ["vin": "WVWZZZ1JZXW000001"])
        try world.record("removed", pack: "B", actor: "oem", at: Self.noon(now - 120), data: ["reason": "end-of-life"])
        // seq 9: B taken in yesterday (on time, but too late to account for it) by a recycler
        // registered without an authorization window.
        try world.record("intake", pack: "B", actor: "rec", at: Self.noon(now - 1), data: ["mass_kg": 440])
        let asOf = Timestamp.now()
        let report = try ComplianceReport.compute(ledger: world.ledger, asOf: asOf)
        var recorded: [UInt64: String] = [:]
        for seq: UInt64 in [5, 6, 7, 8] { recorded[seq] = try world.ledger.entry(seq).recordedAt.rfc3339 }
        func lateEntry(_ seq: UInt64, _ pack: String, _ kind: String, _ actor: String, _ atDay: Int, _ n: Int, _ late: Int) -> JSONValue {
            .object(["seq": .number(Double(seq)), "pack": .string(pack), "kind": .string(kind), "actor": .string(actor),
                     "at": .string(Self.noon(atDay)), "recorded_at": .string(recorded[seq] ?? ""),
                     "deadline": .string(String(Timestamp.startOfDay(WorkingDays.deadlineDay(after: Timestamp.startOfDay(atDay), workingDays: n)).rfc3339.prefix(10))),
                     "working_days_late": .number(Double(late))])
        }
        let late = { (daysAgo: Int) in WorkingDays.count(from: now - daysAgo, to: now) - 15 }
        let info = try world.ledger.info()
        let expected: JSONValue = .object([
            "report": "compliance", "as_of": .string(asOf.rfc3339),
            "ledger": ["origin": "test.example/ledger", "size": .number(Double(info.size)), "root": .string(info.root.base64), "checkpointed": false],
            "late_uploads": [
                "by_actor_and_kind": [["actor": "maker", "kind": "produced", "count": 2], ["actor": "oem", "kind": "installed", "count": 1],
                                      ["actor": "oem", "kind": "removed", "count": 1]],
                "entries": .array([lateEntry(5, "C", "produced", "maker", lateDay, 15, 2),
                                   lateEntry(6, "B", "produced", "maker", now - 140, 15, late(140)),
                                   lateEntry(7, "B", "installed", "oem", now - 130, 15, late(130)),
                                   lateEntry(8, "B", "removed", "oem", now - 120, 15, late(120))]),
            ],
            "missing_after_removal": [["pack": "B", "seq": 8, "removed_at": .string(Self.noon(now - 120)), "removed_by": "oem"]],
            "unauthorized_intake": [["pack": "B", "seq": 9, "recycler": "rec", "at": .string(Self.noon(now - 1))]],
        ])
        #expect(CanonicalJSON.encodeString(report.json) == CanonicalJSON.encodeString(expected))
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
