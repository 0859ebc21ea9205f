/// Working days: Monday to Friday, UTC. Public holidays differ by country and are not modelled;
/// a deadline that falls on one is therefore a day early, never late.
public enum WorkingDays {
    /// Day of the week of a day number since 1970-01-01: 0 Monday … 6 Sunday (1970-01-01 was a Thursday).
    static func weekday(_ day: Int) -> Int { ((day % 7) + 7 + 3) % 7 }

    /// Whether a day number is a working day.
    public static func isWorkingDay(_ day: Int) -> Bool { weekday(day) < 5 }

    /// The day number of the `n`th working day after the day of `t` (that day not counted).
    public static func deadlineDay(after t: Timestamp, workingDays n: Int) -> Int {
        var day = t.dayNumber
        var left = n
        while left > 0 {
            day += 1
            if isWorkingDay(day) { left -= 1 }
        }
        return day
    }

    /// Working days strictly after day `from` up to and including day `to`.
    public static func count(from: Int, to: Int) -> Int {
        guard to > from else { return 0 }
        let span = to - from
        // Whole weeks hold 5 working days each; only the remainder is walked.
        var total = span / 7 * 5
        var day = from + span / 7 * 7
        while day < to {
            day += 1
            if isWorkingDay(day) { total += 1 }
        }
        return total
    }
}

extension Timestamp {
    /// Days since 1970-01-01 (UTC), rounding down.
    public var dayNumber: Int {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        return Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// Midnight (UTC) starting day number `day`.
    public static func startOfDay(_ day: Int) -> Timestamp { Timestamp(nanoseconds: Int64(day) * 86_400 * 1_000_000_000) }
}

/// The compliance findings of PRODUCT.md §5, each naming the packs and entries behind it.
public struct ComplianceReport: Sendable {
    /// An event recorded after its upload deadline.
    public struct LateUpload: Sendable, Equatable {
        /// The entry.
        public let seq: UInt64
        /// The pack.
        public let pack: String
        /// The event kind.
        public let kind: String
        /// Who stated it.
        public let actor: String
        /// When it happened.
        public let at: Timestamp
        /// When the ledger recorded it.
        public let recordedAt: Timestamp
        /// The last day on time (UTC date).
        public let deadline: Timestamp
        /// Working days after the deadline.
        public let workingDaysLate: Int
    }

    /// A pack removed for end of life and not accounted for within 90 days.
    public struct MissingPack: Sendable, Equatable {
        /// The pack.
        public let pack: String
        /// The removal entry.
        public let seq: UInt64
        /// When it was removed.
        public let removedAt: Timestamp
        /// Who removed it.
        public let actor: String
    }

    /// Intake by a recycler outside its authorization window.
    public struct UnauthorizedIntake: Sendable, Equatable {
        /// The pack.
        public let pack: String
        /// The intake entry.
        public let seq: UInt64
        /// The recycler.
        public let recycler: String
        /// When.
        public let at: Timestamp
    }

    /// The date the findings are computed for.
    public let asOf: Timestamp
    /// Late uploads, by entry.
    public let late: [LateUpload]
    /// Packs missing after removal.
    public let missing: [MissingPack]
    /// Unauthorized intakes.
    public let unauthorized: [UnauthorizedIntake]
    /// The ledger state the findings come from.
    public let ledger: LedgerInfo
    /// Whether the latest checkpoint covers exactly that state.
    public let checkpointed: Bool

    /// How long after an end-of-life removal a pack must be collected, taken in, reused or repurposed.
    public static let accountingDays = 90

    /// Computes the findings as of `asOf` (default now): only entries recorded by then count.
    public static func compute(ledger: Ledger, asOf: Timestamp = .now()) throws(LedgerError) -> ComplianceReport {
        try ledger.db.readTransaction { () throws(LedgerError) -> ComplianceReport in
            let info = try ledger.info()
            let deadlines = Targets.eu.uploadDeadlines
            var late: [LateUpload] = []
            var removals: [(seq: UInt64, pack: String, at: Timestamp, actor: String)] = []
            var unauthorized: [UnauthorizedIntake] = []
            var parties: [String: PartyState?] = [:]
            let window = Int64(accountingDays) * 86_400 * 1_000_000_000
            // One pass over the entries (record times never decrease, so it stops at the first
            // one recorded after as-of), decoding them on all cores a chunk at a time.
            let rows = try ledger.db.prepare("SELECT seq, bytes FROM entries ORDER BY seq")
            var done = false
            while !done {
                var chunk: [(UInt64, [UInt8])] = []
                while chunk.count < 4_096 {
                    guard try rows.step() else { done = true; break }
                    chunk.append((UInt64(rows.int64(0)), rows.blob(1)))
                }
                let decoded = try Ingest.parallelMap(chunk) { row throws(LedgerError) -> (Entry, Event) in
                    let entry: Entry
                    do throws(LedgerError) { entry = try Entry(decoding: row.1) } catch { throw error.located(entry: row.0) }
                    return (entry, try Ledger.event(of: entry))
                }
                for (entry, event) in decoded {
                    guard entry.recordedAt <= asOf else { done = true; break }
                    guard let pack = event.pack else { continue }
                    let kind = event.kind.rawValue
                    if let days = deadlines[kind] {
                        // Late means recorded more than `days` working days after the day it
                        // happened: an upload on the Saturday after a Friday deadline is on time.
                        let elapsed = WorkingDays.count(from: event.at.dayNumber, to: entry.recordedAt.dayNumber)
                        if elapsed > days {
                            late.append(LateUpload(seq: entry.seq, pack: pack, kind: kind, actor: event.actor, at: event.at, recordedAt: entry.recordedAt,
                                                   deadline: .startOfDay(WorkingDays.deadlineDay(after: event.at, workingDays: days)),
                                                   workingDaysLate: elapsed - days))
                        }
                    }
                    if event.kind == .removed, event.dataValue("reason")?.stringValue == "end-of-life", event.at.nanoseconds <= asOf.nanoseconds - window {
                        removals.append((entry.seq, pack, event.at, event.actor))
                    }
                    if event.kind == .intake {
                        let recycler = event.actor
                        if parties[recycler] == nil { parties[recycler] = try ledger.party(recycler) }
                        let p = parties[recycler] ?? nil
                        let authorized = p?.authorizedFrom.map { $0 <= event.at } == true && (p?.authorizedUntil.map { event.at < $0 } ?? true)
                        if !authorized { unauthorized.append(UnauthorizedIntake(pack: pack, seq: entry.seq, recycler: recycler, at: event.at)) }
                    }
                }
            }
            // End-of-life removals at least 90 days before as-of, with nothing that accounts for
            // the pack within 90 days after them (recorded by as-of), read through the pack index.
            // Only later entries can qualify: the rules keep a pack's `at` from going backwards,
            // so an entry before the removal is never after it in time.
            var missing: [MissingPack] = []
            let accounting: Set<EventKind> = [.collected, .intake, .reused, .repurposed]
            let packEntries = try ledger.db.prepare("SELECT n.bytes FROM pack_entries e JOIN entries n ON n.seq = e.seq WHERE e.pack = ? AND e.seq > ? ORDER BY e.seq")
            for removal in removals {
                try packEntries.bind(removal.pack, removal.seq)
                var found = false
                while !found, try packEntries.step() {
                    let entry = try Entry(decoding: packEntries.blob(0))
                    guard entry.recordedAt <= asOf else { break }
                    let event = try Ledger.event(of: entry)
                    let at = event.at.nanoseconds
                    found = accounting.contains(event.kind) && at > removal.at.nanoseconds && at <= removal.at.nanoseconds + window
                }
                packEntries.reset()
                if !found { missing.append(MissingPack(pack: removal.pack, seq: removal.seq, removedAt: removal.at, actor: removal.actor)) }
            }
            let latest = try ledger.latestCheckpoint()?.checkpoint
            return ComplianceReport(asOf: asOf, late: late, missing: missing, unauthorized: unauthorized, ledger: info,
                                    checkpointed: latest.map { $0.size == info.size && $0.root == info.root } ?? false)
        }
    }

    /// Late uploads counted per actor and kind.
    public var lateByActorAndKind: [(actor: String, kind: String, count: Int)] {
        var counts: [String: Int] = [:]
        for l in late { counts["\(l.actor)\u{0}\(l.kind)", default: 0] += 1 }
        return counts.map { key, count in
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "", count)
        }.sorted { ($0.actor, $0.kind) < ($1.actor, $1.kind) }
    }

    /// The stable JSON structure of `report compliance --format json`.
    public var json: JSONValue {
        .object([
            "report": "compliance", "as_of": .string(asOf.rfc3339),
            "ledger": .object(["origin": .string(ledger.origin), "size": .number(Double(ledger.size)), "root": .string(ledger.root.base64),
                               "checkpointed": .bool(checkpointed)]),
            "late_uploads": .object([
                "by_actor_and_kind": .array(lateByActorAndKind.map { .object(["actor": .string($0.actor), "kind": .string($0.kind), "count": .number(Double($0.count))]) }),
                "entries": .array(late.map { l in
                    .object(["seq": .number(Double(l.seq)), "pack": .string(l.pack), "kind": .string(l.kind), "actor": .string(l.actor),
                             "at": .string(l.at.rfc3339), "recorded_at": .string(l.recordedAt.rfc3339), "deadline": .string(String(l.deadline.rfc3339.prefix(10))),
                             "working_days_late": .number(Double(l.workingDaysLate))])
                }),
            ]),
            "missing_after_removal": .array(missing.map { m in
                .object(["pack": .string(m.pack), "seq": .number(Double(m.seq)), "removed_at": .string(m.removedAt.rfc3339), "removed_by": .string(m.actor)])
            }),
            "unauthorized_intake": .array(unauthorized.map { u in
                .object(["pack": .string(u.pack), "seq": .number(Double(u.seq)), "recycler": .string(u.recycler), "at": .string(u.at.rfc3339)])
            }),
        ])
    }
}
