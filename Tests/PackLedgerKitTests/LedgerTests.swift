import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Ledger: lifecycle, idempotency, tampering")
struct LedgerTests {
    /// `EventKind.named` is the decoding path's stand-in for `init(rawValue:)`: they must agree
    /// on every spelling and on near misses (prefixes, case, same length, a trailing byte).
    /// `LifecycleRule.rule(for:)` indexes a table by kind: every kind must get its own rule.
    /// The page size is set before the file enters WAL mode, after which SQLite ignores it.
    @Test func aNewLedgerHasItsPageSizeAndWAL() throws {
        let w = try World(parties: [])
        let db = try Database(path: w.path, readOnly: true)
        #expect(try db.pragmaInt("page_size") == Int64(Ledger.pageSize))
        #expect(Ledger.pageSize != 4_096)
        let mode = try db.prepare("PRAGMA journal_mode")
        #expect(try mode.step() && mode.text(0) == "wal")
    }

    @Test func lifecycleTableIndexesEveryKind() {
        for kind in EventKind.allCases {
            let indexed = LifecycleRule.rule(for: kind), built = LifecycleRule.build(kind)
            #expect(indexed?.roles == built?.roles && indexed?.from == built?.from && indexed?.to == built?.to, "\(kind)")
            #expect((indexed == nil) == (kind.isRegistry || kind == .batch), "\(kind)")
        }
    }

    /// The masks the rules test agree with the sets they were built from, for every role and
    /// status, and no two roles or statuses share a bit.
    @Test func lifecycleMasksMatchSets() throws {
        #expect(Set(Role.allCases.map(\.bit)).count == Role.allCases.count)
        #expect(Set(PackStatus.allCases.map(\.bit)).count == PackStatus.allCases.count)
        for kind in EventKind.allCases {
            guard let rule = LifecycleRule.rule(for: kind) else { continue }
            for role in Role.allCases {
                #expect((rule.roleBits & role.bit != 0) == rule.roles.contains(role), "\(kind) \(role)")
            }
            for status in PackStatus.allCases {
                #expect((rule.fromBits & status.bit != 0) == (rule.from?.contains(status) ?? false), "\(kind) \(status)")
            }
        }
    }

    /// The material maps a pack state keeps are the canonical encoding of the object, though
    /// written from the checked pairs: names of every length and character class the rules
    /// allow, numbers small, large, fractional and zero.
    @Test func materialMapJSONIsCanonical() throws {
        var rng = SystemRandomNumberGenerator()
        let names = ["li", "co", "ni", "cu", "pb", "mn", "al", "graphite", "a", "0x", "b.c", "d_e", "f-g", "z9",
                     String(repeating: "m", count: 32)]
        let numbers: [Double] = [0, 0.1, 0.2 + 0.1, 1, 12.5, 1e-7, 12345.6789, 49_999.999999, Double.leastNonzeroMagnitude, 1e-6, 7]
        for _ in 0..<300 {
            var map: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                map[names.randomElement(using: &rng) ?? "li"] = .number(numbers.randomElement(using: &rng) ?? 1)
            }
            let event = try Event(json: ["event_id": "00000000-0000-4000-8000-000000000001", "kind": "recovered", "pack": "P-1",
                                         "actor": "rec", "at": "2024-01-01T00:00:00Z", "data": ["recovered_kg": .object(map)]])
            let pairs = try #require(try DataReader(event).materialMap("recovered_kg", allowed: nil, max: 50_000))
            #expect(DataReader.canonicalJSON(pairs) == CanonicalJSON.encodeString(.object(map)), "\(map)")
        }
    }

    /// Party, key and pack states share their fields between copies, yet stay values: changing
    /// one copy leaves the others as they were, and equality compares fields, not boxes.
    @Test func statesAreValuesThoughShared() throws {
        let original = PackState(pack: "P-1", status: .new, custodian: "maker", producer: "maker", category: "ev", chemistry: "nmc",
                                 massKg: 400, energyKwh: 70, producedSeq: 3, lastSeq: 3, lastAt: Timestamp(nanoseconds: 1),
                                 derivedFrom: [], materialsJSON: #"{"li":1}"#)
        var changed = original
        #expect(changed == original)
        changed.status = .removed
        changed.custodian = "dismantler-1"
        #expect(original.status == .new && original.custodian == "maker")
        #expect(changed.status == .removed && changed.custodian == "dismantler-1" && changed.materialsJSON == #"{"li":1}"#)
        #expect(changed != original)
        var rebuilt = PackState(pack: "P-1", status: .new, custodian: "maker", producer: "maker", category: "ev", chemistry: "nmc",
                                massKg: 400, energyKwh: 70, producedSeq: 3, lastSeq: 3, lastAt: Timestamp(nanoseconds: 1),
                                derivedFrom: [], materialsJSON: #"{"li":1}"#)
        #expect(rebuilt == original)
        rebuilt.intakeKg = 399
        #expect(rebuilt != original && original.intakeKg == nil)

        let party = PartyState(id: "rec", name: "Recycler", roles: [.recycler], registeredSeq: 2)
        var renamed = party
        renamed.roles.append(.collector)
        #expect(party.roles == [.recycler] && renamed.roles == [.recycler, .collector])

        let key = KeyState(keyID: "0123456789abcdef", party: "rec", publicKey: try Ed25519PrivateKey.generate().publicKey,
                           validFrom: Timestamp(nanoseconds: 0), addedSeq: 2)
        var revoked = key
        revoked.validUntil = Timestamp(nanoseconds: 10)
        #expect(key.validUntil == nil && key.isValid(at: Timestamp(nanoseconds: 20)))
        #expect(!revoked.isValid(at: Timestamp(nanoseconds: 20)) && revoked.isValid(at: Timestamp(nanoseconds: 5)))
    }

    /// PRODUCT.md §2 identifier syntax, at its edges.
    @Test func identifierSyntax() {
        let party = ["a", "maker", "rec-1.de_x", "0abc", String(repeating: "a", count: 64)]
        let notParty = ["", "-a", ".a", "_a", "Maker", "a b", "a/b", "a:b", "caf\u{e9}", String(repeating: "a", count: 65)]
        #expect(party.allSatisfy(Identifiers.isPartyID))
        #expect(!notParty.contains(where: Identifiers.isPartyID))
        let pack = ["P", "PACK-1", "BENCH-00000998", "a:b/c.d_e-f", "-x", String(repeating: "Z", count: 64)]
        let notPack = ["", "a b", "a#b", "\u{c5}", "a\nb", String(repeating: "Z", count: 65)]
        #expect(pack.allSatisfy(Identifiers.isPackID))
        #expect(!notPack.contains(where: Identifiers.isPackID))
    }

    @Test func kindNamesMatchRawValues() {
        var names = EventKind.allCases.map(\.rawValue)
        for kind in EventKind.allCases {
            let raw = kind.rawValue
            names += [String(raw.dropLast()), raw + "s", raw.uppercased(), String(raw.reversed()), " " + raw, raw + "\u{0}"]
        }
        names += ["", "party.key", "party.key-addeD", "producéd", "ledger_init"]
        for name in names {
            #expect(EventKind.named(name) == EventKind(rawValue: name), "\(name)")
        }
        #expect(EventKind.allCases.allSatisfy { EventKind.named($0.rawValue) == $0 })
    }

    @Test func fullLifecycleVerifies() throws {
        let world = try World()
        try world.recycleFully("PACK-1")
        #expect(try world.ledger.pack("PACK-1")?.status == .recycled)
        #expect(try world.ledger.pack("PACK-1")?.custodian == "rec")
        #expect(try world.ledger.pack("PACK-1")?.placedMarket == "DE")
        // Second life: removed, repurposed into a new pack that is produced from it.
        try world.record("produced", pack: "PACK-2", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack)
        try world.record("installed", pack: "PACK-2", actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000002", "market": "FR"])
        try world.record("removed", pack: "PACK-2", actor: "dis", at: "2025-01-10T08:00:00Z", data: ["reason": "vehicle-scrapped"])
        try world.record("repurposed", pack: "PACK-2", actor: "rep", at: "2025-02-10T08:00:00Z", data: ["into": "PACK-2-SL"])
        try world.record("produced", pack: "PACK-2-SL", actor: "rep", at: "2025-03-10T08:00:00Z", data: [
            "category": "industrial", "chemistry": "nmc", "mass_kg": 480, "energy_kwh": 60, "derived_from": ["PACK-2"],
        ])
        try world.record("installed", pack: "PACK-2-SL", actor: "rep", at: "2025-03-20T08:00:00Z", data: ["asset": "BESS-7 Hamburg"])
        // Reuse: removed for a swap, back to new, installed again.
        try world.record("produced", pack: "PACK-3", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack)
        try world.record("installed", pack: "PACK-3", actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000003"])
        try world.record("removed", pack: "PACK-3", actor: "svc", at: "2025-01-10T08:00:00Z", data: ["reason": "swap"])
        try world.record("reused", pack: "PACK-3", actor: "svc", at: "2025-01-11T08:00:00Z")
        try world.record("installed", pack: "PACK-3", actor: "svc", at: "2025-01-12T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000004"])
        #expect(try world.ledger.pack("PACK-2")?.status == .repurposed)
        #expect(try world.ledger.pack("PACK-2-SL")?.derivedFrom == ["PACK-2"])
        #expect(try world.ledger.predecessors(of: "PACK-2-SL") == ["PACK-2"])
        #expect(try world.ledger.pack("PACK-3")?.status == .inService)
        let report = try Verifier().verify(world.ledger)
        #expect(report.entries == (try world.ledger.size()))
        #expect(report.packs == 4)
        #expect(report.parties == World.parties.count)
        #expect(report.root == (try world.ledger.info().root))
        #expect(try world.ledger.history("PACK-1").map(\.event.kind) == [.produced, .sold, .installed, .serviced, .removed, .assessed, .collected, .transferred, .intake, .recovered])
    }

    @Test func sameEventTwiceIsANoOpAndDifferentContentIsAConflict() throws {
        let world = try World()
        let id = "6f1c1a0e-1b7e-4c43-9d1e-2f7f0c1b9a01"
        let first = try world.record("produced", pack: "P", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack, eventID: id)
        let size = try world.ledger.size()
        let again = try world.record("produced", pack: "P", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack, eventID: id)
        #expect(again.seq == first.seq && !again.isNew)
        // Upper-case spelling of the same id is the same event id.
        #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "P", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack, eventID: id.uppercased())
        }
        var changed = World.evPack
        changed["mass_kg"] = 451
        let error = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "P", actor: "maker", at: "2024-01-10T08:00:00Z", data: changed, eventID: id)
        }
        #expect(error?.code == .conflict)
        #expect(try world.ledger.size() == size)
    }

    @Test func plainSQLCannotUpdateOrDeleteEntries() throws {
        let world = try World()
        let db = try Database(path: world.path)
        for sql in ["UPDATE entries SET bytes = x'00' WHERE seq = 1", "DELETE FROM entries WHERE seq = 1", "DELETE FROM entries",
                    "INSERT INTO entries (seq, bytes) VALUES (1, x'00')",
                    "INSERT INTO entries (seq, bytes) VALUES (100, x'00')", "INSERT INTO entries (seq, bytes) VALUES (-1, x'00')"] {
            // Refused by the schema's triggers (their messages start with "packledger:").
            let error = #expect(throws: LedgerError.self, "\(sql)") { try db.execute(sql) }
            #expect(error?.reason.contains("packledger:") == true, "\(sql): \(String(describing: error))")
        }
        _ = try Verifier().verify(world.ledger)
    }

    /// A small ledger whose triggers were dropped by hand, so tampering is possible.
    static func tamperable() throws -> World {
        let world = try World(parties: [("maker", [.manufacturer]), ("oem", [.oem])])
        try world.record("produced", pack: "P", actor: "maker", at: "2024-01-10T08:00:00Z", data: ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50])
        try world.record("installed", pack: "P", actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000001"])
        // Signed by the operator as an operator would, so that the last entry too is covered:
        // no later entry's prev commits to it.
        _ = try world.ledger.checkpoint(signingWith: world.operatorKey)
        try world.ledger.db.execute("DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete; DROP TRIGGER entries_extend_chain; PRAGMA synchronous = OFF;")
        return world
    }

    /// The leaf hash is not stored, so a change that leaves an entry well-formed and its
    /// signature valid (a header digit) shows where the next entry's prev no longer matches, and
    /// for the last entry in the checkpoint; either way the message names the changed entry.
    @Test func everySingleByteChangeOfEveryEntryIsFoundAtThatEntry() throws {
        let world = try Self.tamperable()
        let db = world.ledger.db
        let size = try world.ledger.size()
        var checked = 0
        for seq in 0..<size {
            let original = try world.ledger.entry(seq).bytes
            // Every position, and a flip of a low bit and of the whole byte.
            for position in 0..<original.count {
                for mask: UInt8 in [0x01, 0xff] {
                    var tampered = original
                    tampered[position] ^= mask
                    try db.prepare("UPDATE entries SET bytes = ? WHERE seq = ?").bind(tampered, seq).run()
                    let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
                    let named = error?.location.entry == seq || (error?.location.entry == seq + 1 && error?.reason.contains("entry \(seq) ") == true)
                    #expect(named, "byte \(position) of entry \(seq): \(String(describing: error))")
                    checked += 1
                }
            }
            try db.prepare("UPDATE entries SET bytes = ? WHERE seq = ?").bind(original, seq).run()
        }
        #expect(checked > 1_000)
        _ = try Verifier().verify(world.ledger)
    }

    @Test func aSignatureReplacedWithAValidOneFromAnotherKeyIsFound() throws {
        let world = try Self.tamperable()
        // Re-sign entry 3's event (the maker's produced) with the oem key but keep the maker's key id, recomputing
        // the entry hash so that only the signature check can notice.
        let entry = try world.ledger.entry(3)
        let forged = Entry(seq: 3, recordedAt: entry.recordedAt, prev: entry.prev, keyID: entry.keyID,
                           signature: try #require(world.keys["oem"]).sign(Event.signedMessage(entry.eventBytes)), eventBytes: entry.eventBytes)
        try world.ledger.db.prepare("UPDATE entries SET bytes = ? WHERE seq = 3").bind(forged.bytes).run()
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
        #expect(error?.location.entry == 3)
        #expect(error?.code == .badSignature)
    }

    @Test func deletingAnEntryFromTheMiddleIsFound() throws {
        let world = try Self.tamperable()
        try world.ledger.db.execute("DELETE FROM entries WHERE seq = 3")
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
        #expect(error?.location.entry == 3)
        #expect(error?.reason.contains("missing") == true)
    }

    @Test func aRewrittenButConsistentlyRehashedEntryBreaksTheChainOrItsSignature() throws {
        let world = try Self.tamperable()
        // Change the record time of entry 3 and recompute its hash: the signature still holds
        // (it covers the event, not the header) but entry 4's prev no longer matches. The new
        // time is a neighbour's, so record times stay in order and only the chain can tell.
        let entry = try world.ledger.entry(3)
        var newTime = try world.ledger.entry(2).recordedAt
        if newTime == entry.recordedAt { newTime = try world.ledger.entry(4).recordedAt }
        try #require(newTime != entry.recordedAt)
        let rewritten = Entry(seq: 3, recordedAt: newTime, prev: entry.prev, keyID: entry.keyID,
                              signature: entry.signature, eventBytes: entry.eventBytes)
        try world.ledger.db.prepare("UPDATE entries SET bytes = ? WHERE seq = 3").bind(rewritten.bytes).run()
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
        #expect(error?.location.entry == 4)
        #expect(error?.reason.contains("the chain is broken") == true)
    }

    /// Reads trust the projections; `verify --deep` checks them against the entries.
    @Test(arguments: [
        ("UPDATE packs SET status = 'recycled' WHERE pack = 'P'", "pack P differs"),
        ("UPDATE packs SET custodian = 'maker' WHERE pack = 'P'", "pack P differs"),
        ("UPDATE parties SET roles = 'manufacturer,recycler' WHERE id = 'maker'", "party maker differs"),
        ("UPDATE keys SET valid_until_ns = 1 WHERE party = 'oem'", "differs"),
        ("UPDATE event_ids SET seq = 3 WHERE seq = 4", "event_ids does not map"),
        ("DELETE FROM event_ids WHERE seq = 4", "event_ids does not map"),
        ("DELETE FROM pack_entries WHERE seq = 4", "pack_entries lacks entry 4"),
        ("INSERT INTO pack_entries VALUES ('GHOST', 4)", "pack_entries has"),
        ("INSERT INTO party_entries VALUES ('maker', 4)", "party_entries has"),
        ("INSERT INTO packs SELECT 'GHOST', status, custodian, producer, category, chemistry, mass_kg, energy_kwh, produced_seq, last_seq, last_at_ns, placed_at_ns, placed_market, repurposed_into, derived_from, materials_json, collected_at_ns, intake_at_ns, intake_kg, intake_by, recovered_at_ns, input_kg, output_kg, recovered_json FROM packs WHERE pack = 'P'", "packs stored"),
    ])
    func deepVerifyFindsProjectionsOutOfStep(sql: String, message: String) throws {
        let world = try Self.tamperable()
        _ = try Verifier().verify(world.ledger, deep: true)
        try world.ledger.db.execute(sql)
        _ = try Verifier().verify(world.ledger) // the entries themselves are intact
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger, deep: true) }
        #expect(error?.reason.contains(message) == true, "\(String(describing: error))")
    }

    @Test func deepVerifyFindsAWrongTreeNode() throws {
        let world = try World(parties: [("maker", [.manufacturer])])
        for i in 0..<40 {
            try world.record("produced", pack: "T\(i)", actor: "maker", at: "2024-01-10T08:00:00Z", data: ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50])
        }
        _ = try Verifier().verify(world.ledger, deep: true)
        try world.ledger.db.execute("DROP TRIGGER tree_no_update; UPDATE tree SET hash = zeroblob(32) WHERE level = 4 AND idx = 0")
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger, deep: true) }
        #expect(error?.reason.contains("tree node (level 4, index 0)") == true, "\(String(describing: error))")
    }

    @Test func keyValidityWindowsAreEnforced() throws {
        let world = try World()
        let makerKey = try #require(world.keys["maker"])
        _ = try world.registry(.partyKeyRevoked, party: "maker", data: ["key_id": .string(makerKey.publicKey.keyID), "valid_until": "2024-06-01T00:00:00Z"])
        try world.record("produced", pack: "OLD", actor: "maker", at: "2024-05-31T23:59:59Z", data: World.evPack)
        let revoked = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "NEW", actor: "maker", at: "2024-06-01T00:00:00Z", data: World.evPack)
        }
        #expect(revoked?.code == .invalidKey)
        #expect(revoked?.reason.contains("revoked") == true)
        let next = try Ed25519PrivateKey.generate()
        _ = try world.registry(.partyKeyAdded, party: "maker", data: ["key": .string(Base64.encode(next.publicKey.raw)), "valid_from": "2024-07-01T00:00:00Z"])
        let early = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "NEW", actor: "maker", at: "2024-06-15T00:00:00Z", data: World.evPack, key: next)
        }
        #expect(early?.reason.contains("not yet valid") == true)
        try world.record("produced", pack: "NEW", actor: "maker", at: "2024-07-01T00:00:00Z", data: World.evPack, key: next)
        _ = try Verifier().verify(world.ledger)
    }

    /// Regression: sums over materials once followed Dictionary order, which changes from process
    /// to process, so 0.3 + 0.5 + 0.4 against a 1.2 kg limit was accepted or not at random.
    /// They now add in ascending name order: ((al + co) + li) = (0.8 + 0.4) = 1.2000000000000002 > 1.2.
    @Test func materialSumsAddInNameOrder() throws {
        let world = try World()
        let error = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "SUM", actor: "maker", at: "2024-01-10T08:00:00Z", data: [
                "category": "portable", "chemistry": "nmc", "mass_kg": 1.2, "energy_kwh": 0.01, "materials_kg": ["li": 0.4, "co": 0.5, "al": 0.3],
            ])
        }
        #expect(error?.location.field == "data.materials_kg")
        #expect((0.3 + 0.5) + 0.4 > 1.2)
    }

    /// Lengths are Unicode code points, so every verifier counts the same whatever its Unicode version.
    @Test func textLengthsCountCodePoints() throws {
        let world = try World()
        let combining = String(repeating: "e\u{301}", count: 101) // 101 graphemes, 202 code points
        #expect(combining.count == 101)
        #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "TXT", actor: "maker", at: "2024-01-10T08:00:00Z", data: ["category": "ev", "chemistry": "nmc", "mass_kg": 1, "energy_kwh": 1, "plant": .string(combining)])
        }
        try world.record("produced", pack: "TXT", actor: "maker", at: "2024-01-10T08:00:00Z", data: ["category": "ev", "chemistry": "nmc", "mass_kg": 1, "energy_kwh": 1, "plant": .string(String(repeating: "e\u{301}", count: 100))])
    }

    /// An event signed after its key's end cannot be imported; forced into the file by hand
    /// (correctly chained), `verify` flags it.
    @Test func anEntryForcedInWithARevokedKeyIsFlagged() throws {
        let world = try World(parties: [("maker", [.manufacturer])])
        let key = try #require(world.keys["maker"])
        _ = try world.registry(.partyKeyRevoked, party: "maker", data: ["key_id": .string(key.publicKey.keyID), "valid_until": "2024-06-01T00:00:00Z"])
        let json = world.event("produced", pack: "LATE", actor: "maker", at: "2024-07-01T00:00:00Z",
                               data: ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50])
        let signed = try SignedEvent(signing: Event(json: json), with: key)
        #expect(throws: LedgerError.self) { try world.ledger.append(signed) }
        let head = try world.ledger.entry(try world.ledger.size() - 1)
        let forced = Entry(seq: head.seq + 1, recordedAt: head.recordedAt, prev: head.hash, keyID: signed.keyID,
                           signature: signed.signature, eventBytes: signed.bytes)
        try world.ledger.db.prepare("INSERT INTO entries (seq, bytes) VALUES (?, ?)").bind(forced.seq, forced.bytes).run()
        let error = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
        #expect(error?.location.entry == forced.seq)
        #expect(error?.code == .invalidKey && error?.reason.contains("revoked") == true, "\(String(describing: error))")
    }

    @Test func derivedFromMustNameAPackRepurposedIntoThisOne() throws {
        let world = try World()
        try world.record("produced", pack: "A", actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack)
        let error = #expect(throws: LedgerError.self) {
            try world.record("produced", pack: "B", actor: "rep", at: "2024-03-10T08:00:00Z", data: [
                "category": "industrial", "chemistry": "nmc", "mass_kg": 480, "energy_kwh": 60, "derived_from": ["A"],
            ])
        }
        #expect(error?.code == .forbiddenTransition)
        #expect(error?.location.field == "data.derived_from[0]")
    }
}
