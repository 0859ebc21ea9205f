import Foundation
import Testing
@testable import PackLedgerKit

/// An import writes entries, index rows, tree nodes and flushed pack states on a writer thread
/// (`RowWriter`) while it appends. These tests run imports with tiny chunks, a two-chunk queue and
/// small flush limits, so that every hand-over, wait and flush path runs within a few hundred
/// events, and compare the result with the same import written on the appending thread.
@Suite("Background writes")
struct BackgroundWriteTests {
    static let packs = 60

    /// Signed lines for a lifecycle step of every pack, step by step, so that each pack's events
    /// lie far apart (its state is flushed and read back in between).
    static func lines(_ world: World, steps: [(kind: String, actor: String, at: String, data: (Int) -> [String: JSONValue])],
                      packs: Range<Int>, seed: Int) throws -> [String] {
        var out: [String] = []
        for (n, step) in steps.enumerated() {
            for i in packs {
                let id = String(format: "00000000-0000-4000-8%03d-%012d", seed + n, i)
                let json = world.event(step.kind, pack: "BG-\(i)", actor: step.actor, at: step.at, data: step.data(i), eventID: id)
                guard let key = world.keys[step.actor] else { throw LedgerError(.usage, "no key for \(step.actor)") }
                let signed = try SignedEvent(signing: Event(json: json), with: key)
                // `signedLine` ends with its newline; the files are joined with newlines.
                out.append(String(decoding: Ingest.signedLine(signed), as: UTF8.self).trimmingCharacters(in: .newlines))
            }
        }
        return out
    }

    /// First import: every pack produced, sold and installed, and five events repeated. With
    /// lookup rows flushed every 23 appends (after the 23rd, 46th, 69th, 92nd), the repeat of the
    /// 41st event finds it among the rows not yet flushed; that of the 26th, after the third
    /// flush, among rows handed to the writer thread one flush earlier (which must be written by
    /// then, with nothing else having made the writer write since the 41st); that of the 51st
    /// among those just handed over; those of the 4th and 6th in the table.
    static func firstFile(_ world: World) throws -> [String] {
        let b = try lines(world, steps: [
            ("produced", "maker", "2024-01-10T08:00:00Z", { _ in World.evPack }),
            ("sold", "maker", "2024-02-01T08:00:00Z", { _ in ["market": "DE"] }),
            ("installed", "oem", "2024-02-10T08:00:00Z", { i in ["vin": .string(String(format: "WVWZZZ1JZXW%06d", i))] }),
        ], packs: 0..<packs, seed: 0)
        var out = Array(b)
        // From the back, so that the earlier positions stay put.
        for (position, repeated) in [(99, 3), (78, 50), (72, 25), (43, 40)] { out.insert(b[repeated], at: position) }
        out.append(b[5])
        return out
    }

    static let firstFileRepeats = 5

    /// Second import: packs known only from before it. In groups of ten, each pack removed, then
    /// reused (a third of them) or collected: with pack states flushed every 7 packs, the second
    /// event of a group's first packs finds their state handed to the writer thread. Then the
    /// collected ones are transferred and taken in, each far from its last event.
    static func secondFile(_ world: World) throws -> [String] {
        var out: [String] = []
        for group in stride(from: 0, to: packs, by: 10) {
            let members = group..<min(group + 10, packs)
            out += try lines(world, steps: [("removed", "svc", "2025-03-01T08:00:00Z", { _ in ["reason": "end-of-life"] })], packs: members, seed: 10)
            for i in members {
                out += try i % 3 == 0
                    ? lines(world, steps: [("reused", "svc", "2025-03-02T08:00:00Z", { _ in [:] })], packs: i..<i + 1, seed: 20)
                    : lines(world, steps: [("collected", "coll", "2025-03-05T08:00:00Z", { _ in [:] })], packs: i..<i + 1, seed: 21)
            }
        }
        let recycled = (0..<packs).filter { $0 % 3 != 0 }
        for (n, step) in [
            ("transferred", "coll", "2025-03-06T08:00:00Z", ["to": "rec"] as [String: JSONValue]),
            ("intake", "rec", "2025-03-07T08:00:00Z", ["mass_kg": 449]),
        ].enumerated() {
            for i in recycled {
                out += try lines(world, steps: [(step.0, step.1, step.2, { _ in step.3 })], packs: i..<i + 1, seed: 30 + n)
            }
        }
        return out
    }

    /// A ledger file copied from `world`'s, with the import settings under test.
    static func copy(_ world: World, _ name: String, background: Bool, lazy: Bool = false, packLimit: Int = 7) throws -> Ledger {
        try world.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let path = world.dir.path(name)
        try FileManager.default.copyItem(atPath: world.path, toPath: path)
        let ledger = try Ledger(path: path)
        ledger.state.backgroundWritesEnabled = background
        ledger.state.dirtyPackLimit = packLimit
        ledger.state.pendingRowLimit = 23
        ledger.state.rows.chunkRows = 5
        ledger.state.rows.maxQueued = lazy ? 1_000 : 2
        ledger.state.rows.lazyForTesting = lazy
        return ledger
    }

    static func importLines(_ lines: [String], into ledger: Ledger, in world: World, name: String) throws -> ImportSummary {
        let path = world.dir.path(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return try ledger.importRecords(from: RecordReader(path: path, format: .jsonl), chunkSize: 37)
    }

    /// Every projection row, and every entry's event and signature, as text.
    static func contents(_ ledger: Ledger) throws -> [String: [String]] {
        func rows(_ sql: String, _ columns: Int32) throws -> [String] {
            let s = try ledger.db.prepare(sql)
            var out: [String] = []
            while try s.step() { out.append((0..<columns).map { s.text($0) ?? "NULL" }.joined(separator: "|")) }
            return out
        }
        var entries: [String] = []
        for seq in 0..<(try ledger.size()) {
            let e = try ledger.entry(seq)
            entries.append("\(e.keyID) \(Base64.encode(e.signature)) \(String(decoding: e.eventBytes, as: UTF8.self))")
        }
        return [
            "entries": entries,
            "event_ids": try rows("SELECT hex(event_key), seq FROM event_ids ORDER BY event_key", 2),
            "pack_entries": try rows("SELECT pack, seq FROM pack_entries ORDER BY pack, seq", 2),
            "party_entries": try rows("SELECT party, seq FROM party_entries ORDER BY party, seq", 2),
            "second_life": try rows("SELECT seq, pack, kind, at_ns FROM second_life ORDER BY seq", 4),
            "packs": try rows("SELECT \(SQLState.packColumns) FROM packs ORDER BY pack", 24),
            "tree": try rows("SELECT level, idx FROM tree ORDER BY level, idx", 2),
        ]
    }

    /// Four ways: a writer thread that keeps up; one that writes only when made to, so that rows
    /// stay queued as long as they can (twice: with pack states flushed often, which makes it
    /// write often, and never); and no writer thread.
    @Test func aWriterThreadWritesWhatTheAppendingThreadWould() throws {
        let world = try World()
        let first = try Self.firstFile(world), second = try Self.secondFile(world)
        var results: [[String: [String]]] = []
        let ways = [("eager", true, false, 7), ("lazy", true, true, 7), ("lazy, packs kept", true, true, 1_000), ("none", false, false, 7)]
        for (name, background, lazy, packLimit) in ways {
            let ledger = try Self.copy(world, name + ".db", background: background, lazy: lazy, packLimit: packLimit)
            let a = try Self.importLines(first, into: ledger, in: world, name: "first.jsonl")
            #expect(a.appended == 3 * Self.packs && a.duplicates == Self.firstFileRepeats, "\(name): \(a)")
            let b = try Self.importLines(second, into: ledger, in: world, name: "second.jsonl")
            #expect(b.appended == second.count && b.duplicates == 0, "\(name): \(b)")
            // Importing both again finds every event, through the table this time.
            let again = try Self.importLines(first + second, into: ledger, in: world, name: "again.jsonl")
            #expect(again.appended == 0 && again.duplicates == first.count + second.count)
            #expect(try Verifier().verify(ledger).entries == ledger.size())
            results.append(try Self.contents(ledger))
        }
        let fg = results[3]
        #expect(fg["second_life"]?.count == 20 && fg["packs"]?.count == Self.packs)
        #expect(fg["tree"]?.isEmpty == false)
        for ((name, _, _, _), bg) in zip(ways, results.prefix(3)) {
            for table in fg.keys.sorted() {
                #expect(bg[table] == fg[table], "\(name): \(table) differs")
            }
        }
    }

    /// An event of this import repeated after its row was handed to the writer thread, under an
    /// id in another case with other content: a conflict, and nothing written.
    @Test(arguments: [false, true]) func aConflictWithARowStillQueuedIsFound(lazy: Bool) throws {
        let world = try World()
        let ledger = try Self.copy(world, "bg.db", background: true, lazy: lazy)
        var lines = try Self.firstFile(world)
        let original = try #require(JSONParser.parse(Array(lines[4].utf8))["event_id"]?.stringValue)
        let changed = lines[4].replacingOccurrences(of: original, with: original.uppercased())
            .replacingOccurrences(of: "\"BG-4\"", with: "\"BG-999\"")
        lines.insert(changed, at: 70)
        let before = try ledger.size()
        let error = #expect(throws: LedgerError.self) { try Self.importLines(lines, into: ledger, in: world, name: "conflict.jsonl") }
        #expect(error?.location.line == 71, "\(String(describing: error)) \(error?.reason ?? "")")
        #expect(try ledger.size() == before)
        #expect(try ledger.pack("BG-0") == nil)
    }

    /// A failure on the writer thread (here a tree node that is already there) fails the import
    /// at the next hand-over or at the end, and the transaction rolls back whole.
    @Test func aFailedWriteOnTheWriterThreadFailsTheImportAndWritesNothing() throws {
        let world = try World()
        let ledger = try Self.copy(world, "bg.db", background: true)
        let before = try ledger.size()
        // The node at level 4, index 5 covers leaves 80–95: the import's 80-somethingth entry.
        try ledger.db.execute("INSERT INTO tree (level, idx, hash) VALUES (4, 5, zeroblob(32))")
        let error = #expect(throws: LedgerError.self) {
            try Self.importLines(try Self.firstFile(world), into: ledger, in: world, name: "first.jsonl")
        }
        #expect(error?.code == .storage, "\(String(describing: error))")
        #expect(error?.reason.contains("UNIQUE") == true, "\(String(describing: error))")
        #expect(try ledger.size() == before)
        #expect(try ledger.pack("BG-0") == nil)
        let planted = try ledger.db.prepare("SELECT count(*) FROM tree WHERE level = 4 AND idx = 5")
        #expect(try planted.step() && planted.int64(0) == 1)
    }

    /// The filter that lets the appends take a pack's state from the look-ups made before the
    /// import: a pack changed in the import must always come back "maybe" (or its stale state
    /// would be used), and others mostly "no", or every pack event would read the table.
    @Test func touchedPacksNeverForgetsAndRarelyImagines() {
        var filter = TouchedPacks()
        #expect(!filter.mayContain("P-1"))
        for i in 0..<150_000 { filter.insert("BENCH-\(i)") }
        #expect((0..<150_000).allSatisfy { filter.mayContain("BENCH-\($0)") })
        let imagined = (0..<100_000).filter { filter.mayContain("OTHER-\($0)") }.count
        #expect(imagined < 1_000, "\(imagined) false positives in 100,000")
        filter.removeAll()
        #expect(!filter.mayContain("BENCH-7"))
    }
}
