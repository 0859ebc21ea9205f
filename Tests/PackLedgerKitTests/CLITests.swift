import Foundation
import Testing
@testable import PackLedgerKit

/// A ledger directory driven only through the `packledger` binary.
final class CLIWorld {
    let dir: TemporaryDirectory
    var ledger: String { dir.path("ledger.db") }

    static let roles = [("maker", "manufacturer"), ("oem", "oem"), ("svc", "service"), ("coll", "collector"),
                        ("rep", "repurposer"), ("rec", "recycler"), ("dis", "dismantler,collector")]

    /// Built once per test run by the binary itself, then copied for each test.
    static let template: Result<String, any Error> = Result {
        let world = try CLIWorld(fresh: ())
        _ = try world.ok(["init", "--origin", "cli.test/ledger"])
        for (id, role) in roles {
            _ = try world.ok(["keygen", "--out", "\(id).key"])
            _ = try world.ok(["party", "add", id, "--name", "Party \(id)", "--role", role, "--key", "\(id).key.pub",
                              "--valid-from", "2020-01-01T00:00:00Z", "--authorized-from", "2020-01-01"])
        }
        let keep = world.dir
        CLIWorld.retained.append(keep)
        return keep.url.path
    }

    nonisolated(unsafe) static var retained: [TemporaryDirectory] = []

    private init(fresh: ()) throws { dir = try TemporaryDirectory() }

    /// A copy of the template world.
    init() throws {
        dir = try TemporaryDirectory()
        let source = try CLIWorld.template.get()
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: dir.path(name))
        }
    }

    func run(_ args: [String], stdin: String? = nil) throws -> RunResult {
        try runCLI(args, in: dir.url.path, environment: ["PACKLEDGER_LEDGER": ledger], stdin: stdin)
    }

    /// Runs and requires exit 0.
    @discardableResult
    func ok(_ args: [String]) throws -> String {
        let result = try run(args)
        if result.status != 0 {
            throw LedgerError(.usage, "\(args.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    func record(_ kind: String, _ pack: String, _ actor: String, at: String, data: String = "{}", extra: [String] = []) throws -> RunResult {
        try run(["record", kind, "--pack", pack, "--actor", actor, "--key", "\(actor).key", "--at", at, "--data", data] + extra)
    }

    func size() throws -> UInt64 { try Ledger(path: ledger, readOnly: true).size() }

    static let evData = #"{"category":"ev","chemistry":"nmc","mass_kg":450.5,"energy_kwh":75,"materials_kg":{"co":12.5,"li":9.1}}"#

    /// Requires that `args` exit 1 with `message` in stderr and leave the ledger unchanged.
    func expectRejected(_ result: () throws -> RunResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try size()
        let r = try result()
        #expect(r.status == 1, "exit status; stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(message), "stderr was: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(try size() == before, "entry count changed", sourceLocation: sourceLocation)
    }
}

@Suite("CLI end to end")
struct CLITests {
    @Test func wholeLifecycleAndHistoryJSON() throws {
        let w = try CLIWorld()
        let steps: [(String, String, String, String)] = [
            ("produced", "maker", "2024-01-10T08:00:00Z", CLIWorld.evData),
            ("sold", "maker", "2024-02-01T08:00:00Z", #"{"market":"DE"}"#),
            ("installed", "oem", "2024-02-10T08:00:00Z", #"{"vin":"WVWZZZ1JZXW000001"}"#),
            ("serviced", "svc", "2024-09-10T08:00:00Z", #"{"work":"cell balancing"}"#),
            ("removed", "svc", "2025-03-01T08:00:00Z", #"{"reason":"end-of-life"}"#),
            ("collected", "coll", "2025-03-05T08:00:00Z", #"{"site":"Leipzig"}"#),
            ("transferred", "coll", "2025-03-06T08:00:00Z", #"{"to":"rec"}"#),
            ("intake", "rec", "2025-03-07T08:00:00Z", #"{"mass_kg":449}"#),
            ("recovered", "rec", "2025-04-01T08:00:00Z", #"{"input_kg":449,"recycled_output_kg":310,"recovered_kg":{"co":11.3,"li":4.6}}"#),
        ]
        for (kind, actor, at, data) in steps {
            let r = try w.record(kind, "PACK-1", actor, at: at, data: data)
            #expect(r.status == 0, "\(kind): \(r.stderr)")
        }
        let json = try JSONParser.parse(w.ok(["history", "PACK-1", "--format", "json"]))
        #expect(json["status"]?.stringValue == "recycled")
        let events = try #require(json["events"]?.arrayValue)
        #expect(events.map { $0["kind"]?.stringValue ?? "" } == steps.map(\.0))
        #expect(events.map { $0["actor"]?.stringValue ?? "" } == steps.map(\.1))
        #expect(events.map { $0["at"]?.stringValue ?? "" } == steps.map(\.2))
        let seqs = events.compactMap { $0["seq"]?.doubleValue }
        #expect(seqs.count == steps.count && seqs == seqs.sorted() && Set(seqs).count == seqs.count)
        #expect(events[0]["data"]?["mass_kg"]?.doubleValue == 450.5)
        #expect(events[8]["data"]?["recovered_kg"]?["co"]?.doubleValue == 11.3)
        // Each listed seq really holds that event.
        let entry = try JSONParser.parse(w.ok(["entry", String(Int(seqs[2])), "--format", "json"]))
        #expect(entry["event"]?["kind"]?.stringValue == "installed")
        let verify = try w.run(["verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("OK"))
        let status = try JSONParser.parse(w.ok(["status", "PACK-1", "--format", "json"]))
        #expect(status["custodian"]?.stringValue == "rec")
        let info = try JSONParser.parse(w.ok(["info", "--format", "json"]))
        #expect(info["verifier_key"]?.stringValue?.hasPrefix("cli.test/ledger+") == true)
        let packs = try JSONParser.parse(w.ok(["packs", "--status", "recycled", "--format", "json"]))
        #expect(packs.arrayValue?.count == 1)
        let parties = try JSONParser.parse(w.ok(["party", "list", "--format", "json"]))
        #expect(parties.arrayValue?.count == CLIWorld.roles.count)
    }

    @Test func secondLifeLineageShowsBothWays() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "ORIG", "maker", at: "2024-01-10T08:00:00Z", data: CLIWorld.evData)
        _ = try w.record("installed", "ORIG", "oem", at: "2024-02-10T08:00:00Z", data: #"{"vin":"WVWZZZ1JZXW000001"}"#)
        _ = try w.record("removed", "ORIG", "dis", at: "2025-01-10T08:00:00Z", data: #"{"reason":"vehicle-scrapped"}"#)
        #expect(try w.record("repurposed", "ORIG", "rep", at: "2025-02-10T08:00:00Z", data: #"{"into":"SL-1"}"#).status == 0)
        let r = try w.record("produced", "SL-1", "rep", at: "2025-03-10T08:00:00Z",
                             data: #"{"category":"industrial","chemistry":"nmc","mass_kg":480,"energy_kwh":60,"derived_from":["ORIG"]}"#)
        #expect(r.status == 0, "\(r.stderr)")
        let successor = try JSONParser.parse(w.ok(["history", "SL-1", "--format", "json"]))
        #expect(successor["lineage"]?["derived_from"]?.arrayValue == ["ORIG"])
        #expect(successor["lineage"]?["repurposed_from"]?.arrayValue == ["ORIG"])
        let original = try JSONParser.parse(w.ok(["history", "ORIG", "--format", "json"]))
        #expect(original["lineage"]?["repurposed_into"]?.stringValue == "SL-1")
        #expect(try w.run(["verify"]).status == 0)
    }

    @Test func unknownActor() throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.run(["record", "produced", "--pack", "X", "--actor", "ghost", "--key", "maker.key", "--at", "2024-01-01T00:00:00Z", "--data", CLIWorld.evData]) },
                             "actor \"ghost\" is not a registered party")
    }

    @Test func missingRole() throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.record("produced", "X", "oem", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData) }, "may not record produced")
    }

    @Test func revokedKey() throws {
        let w = try CLIWorld()
        try w.ok(["party", "key", "revoke", "maker", "--key", "maker.key.pub", "--at", "2024-06-01T00:00:00Z"])
        #expect(try w.record("produced", "BEFORE", "maker", at: "2024-05-31T00:00:00Z", data: CLIWorld.evData).status == 0)
        try w.expectRejected({ try w.record("produced", "X", "maker", at: "2024-06-01T00:00:00Z", data: CLIWorld.evData) }, "is revoked at")
    }

    @Test func notYetValidKey() throws {
        let w = try CLIWorld()
        try w.ok(["keygen", "--out", "maker2.key"])
        try w.ok(["party", "key", "add", "maker", "--key", "maker2.key.pub", "--at", "2025-01-01T00:00:00Z"])
        try w.expectRejected({ try w.run(["record", "produced", "--pack", "X", "--actor", "maker", "--key", "maker2.key", "--at", "2024-12-31T23:59:59Z", "--data", CLIWorld.evData]) },
                             "is not yet valid at")
        #expect(try w.run(["record", "produced", "--pack", "X", "--actor", "maker", "--key", "maker2.key", "--at", "2025-01-01T00:00:00Z", "--data", CLIWorld.evData]).status == 0)
    }

    @Test func keyOfAnotherParty() throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.run(["record", "produced", "--pack", "X", "--actor", "maker", "--key", "oem.key", "--at", "2024-01-01T00:00:00Z", "--data", CLIWorld.evData]) },
                             "belongs to oem, not to maker")
    }

    @Test func wrongSignature() throws {
        let w = try CLIWorld()
        let maker = try KeyFiles.loadPrivateKey(w.dir.path("maker.key"))
        let eventID = "0b7d8e4a-3f0c-4e4d-8a57-7d6b1f2a9c31"
        let event = try Event(json: JSONParser.parse(#"{"actor":"maker","at":"2024-01-01T00:00:00Z","data":\#(CLIWorld.evData),"event_id":"\#(eventID)","kind":"produced","pack":"X"}"#))
        let good = try maker.sign(Event.signedMessage(event.canonicalBytes))
        var bad = good
        bad[20] ^= 0x04
        let args = ["record", "produced", "--pack", "X", "--actor", "maker", "--at", "2024-01-01T00:00:00Z", "--event-id", eventID,
                    "--data", CLIWorld.evData, "--key-id", maker.publicKey.keyID]
        try w.expectRejected({ try w.run(args + ["--signature", Base64.encode(bad)]) }, "does not verify")
        // The same bytes with the real offline signature are accepted.
        let r = try w.run(args + ["--signature", Base64.encode(good)])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func forbiddenTransition() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        try w.expectRejected({ try w.record("intake", "X", "rec", at: "2024-02-01T00:00:00Z", data: #"{"mass_kg":400}"#) },
                             "intake is not allowed for pack X in status new")
        try w.expectRejected({ try w.record("sold", "NOPE", "maker", at: "2024-02-01T00:00:00Z", data: #"{"market":"DE"}"#) },
                             "pack NOPE is unknown")
    }

    @Test func eventAfterTerminalStatus() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        _ = try w.record("installed", "X", "oem", at: "2024-01-02T00:00:00Z", data: #"{"asset":"forklift 7"}"#)
        _ = try w.record("collected", "X", "coll", at: "2024-01-03T00:00:00Z")
        _ = try w.record("intake", "X", "rec", at: "2024-01-04T00:00:00Z", data: #"{"mass_kg":400}"#)
        #expect(try w.record("recovered", "X", "rec", at: "2024-01-05T00:00:00Z", data: #"{"input_kg":400,"recycled_output_kg":300,"recovered_kg":{"co":10}}"#).status == 0)
        try w.expectRejected({ try w.record("assessed", "X", "rec", at: "2024-01-06T00:00:00Z", data: #"{"soh_pct":10,"grade":"recycle"}"#) },
                             "terminal status")
    }

    @Test func timeGoingBackwards() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-06-01T00:00:00Z", data: CLIWorld.evData)
        try w.expectRejected({ try w.record("sold", "X", "maker", at: "2024-05-31T23:59:59Z", data: #"{"market":"DE"}"#) },
                             "is earlier than the pack's previous event")
    }

    @Test func timeInTheFuture() throws {
        let w = try CLIWorld()
        let future = Timestamp.now().adding(seconds: 600).rfc3339
        try w.expectRejected({ try w.record("produced", "X", "maker", at: future, data: CLIWorld.evData) }, "more than 5 minutes after")
    }

    @Test(arguments: [
        (#"{"category":"ev","chemistry":"nmc","mass_kg":-5,"energy_kwh":75}"#, "data.mass_kg"),
        (#"{"category":"ev","chemistry":"nmc","mass_kg":0,"energy_kwh":75}"#, "data.mass_kg"),
        (#"{"category":"ev","chemistry":"nmc","mass_kg":1e9,"energy_kwh":75}"#, "data.mass_kg"),
        (#"{"category":"ev","chemistry":"nmc","mass_kg":400,"energy_kwh":75,"recycled_share":{"co":1.5}}"#, "data.recycled_share.co"),
        (#"{"category":"ev","chemistry":"nmc","mass_kg":400,"energy_kwh":75,"materials_kg":{"co":500}}"#, "data.materials_kg.co"),
        (#"{"category":"ev","chemistry":"nmc","mass_kg":400,"energy_kwh":-1}"#, "data.energy_kwh"),
    ])
    func outOfRangeNumbers(data: String, field: String) throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: data) }, "field \(field)")
    }

    @Test func outOfRangeStateOfHealth() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        try w.expectRejected({ try w.record("assessed", "X", "svc", at: "2024-01-02T00:00:00Z", data: #"{"soh_pct":150,"grade":"reuse"}"#) },
                             "data.soh_pct is 150; it must be at least 0 and at most 100")
    }

    @Test(arguments: [#"{"mass_kg":"#, #"{"mass_kg":1,"mass_kg":2}"#, "[1,2", #"{"a":NaN}"#])
    func malformedJSON(data: String) throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: data) }, "--data is not valid JSON")
    }

    @Test func unknownKind() throws {
        let w = try CLIWorld()
        try w.expectRejected({ try w.record("exploded", "X", "maker", at: "2024-01-01T00:00:00Z") }, "unknown kind \"exploded\"")
    }

    @Test func reusedEventID() throws {
        let w = try CLIWorld()
        let id = ["--event-id", "5e3a9b1c-7d2f-4a8e-b6c0-1f9e8d7c6b5a"]
        let first = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData, extra: id)
        #expect(first.status == 0)
        let before = try w.size()
        let same = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData, extra: id + ["--format", "json"])
        #expect(same.status == 0)
        let answer = try JSONParser.parse(same.stdout)
        #expect(answer["new"]?.boolValue == false)
        #expect(answer["seq"]?.doubleValue == Double(before - 1))
        #expect(try w.size() == before)
        try w.expectRejected({ try w.record("produced", "X", "maker", at: "2024-01-01T00:00:01Z", data: CLIWorld.evData, extra: id) },
                             "is already entry \(before - 1) with different content")
    }

    @Test func aPrivateKeyReadableByOthersIsWarnedAbout() throws {
        let w = try CLIWorld()
        #expect(chmod(w.dir.path("maker.key"), 0o644) == 0)
        let r = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        #expect(r.status == 0)
        #expect(r.stderr.contains("warning: maker.key can be read by other users"), "\(r.stderr)")
        #expect(chmod(w.dir.path("maker.key"), 0o600) == 0)
        #expect(try w.record("produced", "Y", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData).stderr.isEmpty)
    }

    @Test func usageErrorsExit64() throws {
        let w = try CLIWorld()
        let missing = try w.run(["record", "produced", "--actor", "maker", "--key", "maker.key"])
        #expect(missing.status == 64)
        let badSeq = try w.run(["entry", "minus-one"])
        #expect(badSeq.status == 64)
        let noLedger = try runCLI(["info", "--ledger", w.dir.path("nope.db")], in: w.dir.url.path)
        #expect(noLedger.status == 1)
        #expect(noLedger.stderr.contains("no ledger at"))
    }

    @Test func verifyFailsWithExit1NamingTheEntry() throws {
        let w = try CLIWorld()
        _ = try w.record("produced", "X", "maker", at: "2024-01-01T00:00:00Z", data: CLIWorld.evData)
        let db = try Database(path: w.ledger)
        try db.execute("DROP TRIGGER entries_no_update")
        // Change one character of the event (450.5 kg → 950.5 kg) in entry 8.
        let read = try db.prepare("SELECT bytes FROM entries WHERE seq = 8")
        _ = try read.step()
        var bytes = read.blob(0)
        let index = try #require(bytes.indices.first { bytes[$0] == UInt8(ascii: "4") && bytes[$0 + 1] == UInt8(ascii: "5") && bytes[$0 + 2] == UInt8(ascii: "0") })
        bytes[index] = UInt8(ascii: "9")
        try db.prepare("UPDATE entries SET bytes = ? WHERE seq = 8").bind(bytes).run()
        let r = try w.run(["verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("entry 8"), "\(r.stderr)")
    }
}
