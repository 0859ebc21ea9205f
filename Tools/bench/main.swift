// packledger-bench: measures this machine's limits and PackLedger against them, in one run.
//
//   swift run -c release packledger-bench [--events N] [--runs N] [--dir DIR] [--json FILE]
//
// Limits: OpenSSL Ed25519 sign and verify per second on 1 and 2 threads, raw SQLite inserts of
// rows the size of a ledger entry. PackLedger: batched append of per-event-signed events, full
// verify, history and proof latency (p50/p99), bytes per entry. Each PackLedger figure is printed
// beside its limit as a ratio. Timings belong here, never in unit tests.
//
// Every timed figure, limits included, is the best of `--runs` runs (default 3): this machine's
// speed drifts by tens of percent over minutes, so a single run compares a limit taken in a fast
// minute with a figure taken in a slow one. All runs are printed and written to the JSON.
import CSQLite
import Dispatch
import Foundation
import PackLedgerKit

struct Options {
    var events = 1_000_000
    var runs = 3
    var dir = NSTemporaryDirectory() + "packledger-bench-\(getpid())"
    var json: String?

    init(_ args: [String]) throws {
        var i = 1
        while i < args.count {
            let a = args[i]
            guard i + 1 < args.count else { throw LedgerError(.usage, "\(a) needs a value") }
            switch a {
            case "--events": guard let n = Int(args[i + 1]), n >= 100 else { throw LedgerError(.usage, "--events N (N ≥ 100)") }; events = n
            case "--runs": guard let n = Int(args[i + 1]), n >= 1 else { throw LedgerError(.usage, "--runs N (N ≥ 1)") }; runs = n
            case "--dir": dir = args[i + 1]
            case "--json": json = args[i + 1]
            default: throw LedgerError(.usage, "unknown option \(a); use --events N --runs N --dir DIR --json FILE")
            }
            i += 2
        }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func peakRSSMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

/// The best of `runs` rates `measure` returns, and all of them.
func bestRate(_ runs: Int, _ measure: () throws -> Double) rethrows -> (best: Double, all: [Double]) {
    var all: [Double] = []
    for _ in 0..<runs { all.append(try measure()) }
    return (all.max() ?? 0, all)
}

/// Runs `work(i)` for i in 0..<count on `threads` threads; returns operations per second.
func rate(count: Int, threads: Int, _ work: @escaping @Sendable (Int) -> Void) -> Double {
    let start = now()
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        var i = t
        while i < count { work(i); i += threads }
    }
    return Double(count) / (now() - start)
}

final class Results: @unchecked Sendable {
    var rows: [(name: String, value: Double, unit: String, limitName: String?, ratio: Double?, runs: [Double])] = []
    /// Adds a figure; `runs` are the values of every run when it is the best of several.
    func add(_ name: String, _ value: Double, _ unit: String, against limit: (String, Double)? = nil, lowerIsBetter: Bool = false, runs: [Double] = []) {
        let ratio = limit.map { lowerIsBetter ? $0.1 / value : value / $0.1 }
        rows.append((name, value, unit, limit?.0, ratio, runs))
        let r = ratio.map { String(format: "  %.2f× ", $0) + (limit?.0 ?? "") } ?? ""
        let number = String(format: "%.1f", value)
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(repeating: " ", count: max(0, 14 - number.count)) + number + " "
              + unit.padding(toLength: 10, withPad: " ", startingAt: 0) + r
              + (runs.count > 1 ? "   (runs: " + runs.map { String(format: abs($0) >= 100 ? "%.0f" : "%.3g", $0) }.joined(separator: ", ") + ")" : ""))
        fflush(nil)
    }
    var json: JSONValue {
        .array(rows.map { row in
            .object(["name": .string(row.name), "value": .number(row.value), "unit": .string(row.unit),
                     "limit": row.limitName.map { .string($0) } ?? .null, "ratio": row.ratio.map { .number($0) } ?? .null,
                     "runs": .array(row.runs.map { .number($0) })])
        })
    }
}

func benchMain() throws {
    let options = try Options(CommandLine.arguments)
    try FileManager.default.createDirectory(atPath: options.dir, withIntermediateDirectories: true)
    let results = Results()
    print("PackLedger benchmark: \(options.events) events, \(ProcessInfo.processInfo.activeProcessorCount) cores, best of \(options.runs) runs, dir \(options.dir)\n")

    // --- Machine limits -------------------------------------------------------------------
    let key = try Ed25519PrivateKey.generate()
    let message = [UInt8](repeating: 0x41, count: 300)
    let signature = try key.sign(message)
    let probe = 20_000
    let sign1 = bestRate(options.runs) { rate(count: probe, threads: 1) { _ in _ = try? key.sign(message) } }
    let sign2 = bestRate(options.runs) { rate(count: probe, threads: 2) { _ in _ = try? key.sign(message) } }
    let verify1 = bestRate(options.runs) { rate(count: probe, threads: 1) { _ in _ = key.publicKey.isValidSignature(signature, for: message) } }
    let verify2All = bestRate(options.runs) { rate(count: probe, threads: 2) { _ in _ = key.publicKey.isValidSignature(signature, for: message) } }
    let verify2 = verify2All.best
    results.add("limit: Ed25519 sign, 1 thread", sign1.best, "ops/s", runs: sign1.all)
    results.add("limit: Ed25519 sign, 2 threads", sign2.best, "ops/s", runs: sign2.all)
    results.add("limit: Ed25519 verify, 1 thread", verify1.best, "ops/s", runs: verify1.all)
    results.add("limit: Ed25519 verify, 2 threads", verify2, "ops/s", runs: verify2All.all)
    let rawPath = options.dir + "/raw.db"
    let row = [UInt8](repeating: 0x61, count: 560), hash = [UInt8](repeating: 7, count: 32)
    let rawCount = min(options.events, 200_000)
    let sqlite = try bestRate(options.runs) { () throws -> Double in
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rawPath + suffix) }
        let raw = try Database(path: rawPath, create: true)
        try raw.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL, h BLOB NOT NULL)")
        let insert = try raw.prepare("INSERT INTO t (seq, bytes, h) VALUES (?, ?, ?)")
        let t0 = now()
        var seq = 0
        while seq < rawCount {
            try raw.writeTransaction { () throws(LedgerError) in
                for _ in 0..<10_000 where seq < rawCount { try insert.bind(seq, row, hash).run(); seq += 1 }
            }
        }
        return Double(rawCount) / (now() - t0)
    }
    let sqliteRate = sqlite.best
    results.add("limit: raw SQLite insert (560 B rows)", sqliteRate, "rows/s", runs: sqlite.all)
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rawPath + suffix) }

    // --- Input files: the same events signed one by one, and in batches --------------------
    let roles: [(String, Role)] = [("maker", .manufacturer), ("oem", .oem), ("coll", .collector), ("rec", .recycler)]
    var keys: [String: Ed25519PrivateKey] = [:]
    for (id, _) in roles { keys[id] = try Ed25519PrivateKey.generate() }
    let steps: [(String, String, JSONValue)] = [
        ("produced", "maker", .object(["category": "ev", "chemistry": "nmc", "mass_kg": 452.5, "energy_kwh": 77, "materials_kg": .object(["li": 9.2, "co": 12.1, "ni": 36.4]), "plant": "Leipzig-2"])),
        ("sold", "maker", .object(["market": "DE"])),
        ("installed", "oem", .object(["vin": "WAUZZZ8V3KA000123", "market": "DE"])),
        ("removed", "oem", .object(["reason": "end-of-life"])),
        ("collected", "coll", .object(["site": "Halle"])),
        ("intake", "rec", .object(["mass_kg": 451.8])),
        ("recovered", "rec", .object(["input_kg": 451.8, "recycled_output_kg": 318.4, "recovered_kg": .object(["li": 4.9, "co": 11.2, "ni": 34.1])])),
    ]
    let base = Timestamp(rfc3339: "2021-01-01T00:00:00Z") ?? Timestamp(nanoseconds: 0)
    let total = options.events - options.events % steps.count
    let packs = total / steps.count
    // One file per actor step would not import (a pack's events span actors), so each round of
    // `roundPacks` packs is written step by step: all produced, then all sold, … then the next round.
    let roundPacks = 10_000 / steps.count * steps.count
    let singlePath = options.dir + "/single.jsonl", batchPath = options.dir + "/batch.jsonl"
    guard FileManager.default.createFile(atPath: singlePath, contents: nil), FileManager.default.createFile(atPath: batchPath, contents: nil),
          let single = FileHandle(forWritingAtPath: singlePath), let batched = FileHandle(forWritingAtPath: batchPath) else {
        throw LedgerError(.storage, "cannot create the input files in \(options.dir)")
    }
    let keysCopy = keys
    let t0 = now()
    var signSeconds = 0.0
    var roundStart = 0
    while roundStart < packs {
        let roundEnd = min(packs, roundStart + roundPacks)
        for (stepIndex, step) in steps.enumerated() {
            let ids = Array(roundStart..<roundEnd)
            let events = try Ingest.parallelMap(ids) { pack throws(LedgerError) -> Event in
                let at = base.adding(seconds: Int64(pack % 100_000) * 600 + Int64(stepIndex) * 60)
                let bytes = withUnsafeBytes(of: UInt64(pack * 8 + stepIndex).bigEndian) { Array($0) }
                let h = Hex.encode(Array(SHA256.hash(bytes).bytes.prefix(16)))
                let uuid = "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-4\(h.dropFirst(13).prefix(3))-8\(h.dropFirst(17).prefix(3))-\(h.dropFirst(20))"
                return try Event(json: .object([
                    "event_id": .string(uuid), "kind": .string(step.0), "pack": .string(String(format: "BENCH-%08d", pack)),
                    "actor": .string(step.1), "at": .string(at.rfc3339), "data": step.2,
                ]))
            }
            guard let key = keysCopy[step.1] else { continue }
            let s0 = now()
            let lines = try Ingest.parallelMap(events) { event throws(LedgerError) -> [UInt8] in
                Ingest.signedLine(try SignedEvent(signing: event, with: key))
            }
            signSeconds += now() - s0
            single.write(Data(lines.joined()))
            let members = events.map { $0.canonicalBytes }
            let manifest = try Ingest.batchManifest(actor: step.1, events: events, members: members, key: key)
            batched.write(Data(Ingest.signedLine(manifest) + members.flatMap { $0 + [0x0a] }))
        }
        roundStart = roundEnd
    }
    try single.close()
    try batched.close()
    results.add("sign per event (2 threads)", Double(total) / signSeconds, "events/s", against: ("sign×2", sign2.best))
    print("  wrote \(total) events to \(singlePath) and \(batchPath) in \(String(format: "%.1f", now() - t0)) s")

    // --- Import each file with the real CLI, in a child process --------------------------------
    let packledger = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("packledger").path
    func makeLedger(_ path: String) throws -> Ledger {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let operatorKey = try Ed25519PrivateKey.generate()
        let ledger = try Ledger.create(path: path, origin: "bench.packledger.example/log", operatorKey: operatorKey)
        for (id, role) in roles {
            guard let k = keys[id] else { continue }
            let json: JSONValue = .object([
                "event_id": .string(UUID().uuidString.lowercased()), "kind": "party.registered", "actor": "operator", "party": .string(id),
                "at": .string(Timestamp.now().rfc3339),
                "data": .object(["name": .string(id), "roles": .array([.string(role.rawValue)]), "key": .string(Base64.encode(k.publicKey.raw)), "key_valid_from": "2020-01-01T00:00:00Z"]),
            ])
            try ledger.append(SignedEvent(signing: Event(json: json), with: operatorKey))
        }
        return ledger
    }
    /// Runs packledger with `args`; returns seconds and peak resident memory in MB.
    func run(_ args: [String]) throws -> (seconds: Double, peakMB: Double) {
        var pid: pid_t = 0
        // BENCH_PERF_DIR=DIR records a perf profile of each child, for finding hot spots.
        var program = packledger
        var full = [packledger] + args
        if let dir = ProcessInfo.processInfo.environment["BENCH_PERF_DIR"] {
            program = "/usr/bin/perf"
            full = ["perf", "record", "-F", "1999", "-g", "-o", "\(dir)/\(args[0])-\(args[1].split(separator: "/").last ?? "x").data", packledger] + args
        }
        let argv = full.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let start = now()
        guard posix_spawn(&pid, program, nil, nil, argv, environ) == 0 else { throw LedgerError(.storage, "cannot run \(packledger)") }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = now() - start
        guard status == 0 else { throw LedgerError(.storage, "\(args.joined(separator: " ")) failed (status \(status))") }
        return (seconds, Double(usage.ru_maxrss) / 1024)
    }
    /// Runs packledger with `args` `options.runs` times (after `prepare` each time): the
    /// fastest run, every run's seconds, and the highest peak memory of any run.
    func best(_ args: [String], prepare: () throws -> Void = {}) throws -> (seconds: Double, all: [Double], peakMB: Double) {
        var all: [Double] = [], peak = 0.0
        for _ in 0..<options.runs {
            try prepare()
            let r = try run(args)
            all.append(r.seconds)
            peak = max(peak, r.peakMB)
        }
        return (all.min() ?? 0, all, peak)
    }
    let singleDB = options.dir + "/single.db", batchDB = options.dir + "/batch.db"
    // Each import starts from a copy of its ledger as it was before the first (*.empty.db),
    // which is also kept for re-running and profiling an import on its own.
    for path in [singleDB, batchDB] {
        _ = try makeLedger(path)
        try? FileManager.default.removeItem(atPath: path + ".empty.db")
        try Database(path: path).execute("VACUUM INTO '\(path).empty.db'")
    }
    func restore(_ path: String) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: path + ".empty.db", toPath: path)
    }
    let importSingle = try best(["import", singlePath, "--ledger", singleDB]) { try restore(singleDB) }
    results.add("import per-event-signed", Double(total) / importSingle.seconds, "events/s", against: ("verify×2", verify2),
                runs: importSingle.all.map { Double(total) / $0 })
    results.add("  peak memory during that import", importSingle.peakMB, "MB", against: ("256 MB", 256), lowerIsBetter: true)
    let importBatch = try best(["import", batchPath, "--ledger", batchDB]) { try restore(batchDB) }
    let batchRate = Double(total) / importBatch.seconds
    results.add("import batch-signed", batchRate, "events/s", against: ("150k/s", 150_000), runs: importBatch.all.map { Double(total) / $0 })
    results.add("import batch-signed vs raw SQLite", batchRate, "events/s", against: ("sqlite", sqliteRate))
    results.add("  peak memory during that import", importBatch.peakMB, "MB", against: ("256 MB", 256), lowerIsBetter: true)
    let verifySingle = try best(["verify", "--ledger", singleDB])
    results.add("full verify, per-event-signed", Double(total) / verifySingle.seconds, "entries/s", against: ("verify×2", verify2),
                runs: verifySingle.all.map { Double(total) / $0 })
    let verifyBatch = try best(["verify", "--ledger", batchDB])
    results.add("full verify, batch-signed", Double(total) / verifyBatch.seconds, "entries/s", against: ("300k/s", 300_000),
                runs: verifyBatch.all.map { Double(total) / $0 })
    let eprRun = try best(["report", "epr", "--producer", "maker", "--year", "2021", "--format", "json", "--out", options.dir + "/epr.json", "--ledger", batchDB])
    results.add("report epr (all \(packs) packs of one producer)", eprRun.seconds, "s", against: ("5 s", 5), lowerIsBetter: true, runs: eprRun.all)
    let complianceRun = try best(["report", "compliance", "--format", "json", "--out", options.dir + "/compliance.json", "--ledger", batchDB])
    results.add("report compliance (every event)", complianceRun.seconds, "s", runs: complianceRun.all)
    // Opened after the imports: the file it was created as has been replaced by a copy since.
    let ledger = try Ledger(path: batchDB)
    let size = try ledger.size()

    // --- Proofs and reads at full size ---------------------------------------------------
    var rng = SystemRandomNumberGenerator()
    var incl: [Double] = [], cons: [Double] = [], hist: [Double] = [], root: [Double] = []
    for _ in 0..<2_000 {
        let seq = UInt64.random(in: 0..<size, using: &rng)
        var t = now()
        let proof = try ledger.inclusionProof(seq: seq, size: size)
        incl.append((now() - t) * 1e6)
        _ = proof
        let old = UInt64.random(in: 1..<size, using: &rng)
        t = now()
        _ = try ledger.consistencyProof(oldSize: old, newSize: size)
        cons.append((now() - t) * 1e6)
        let pack = String(format: "BENCH-%08d", Int.random(in: 0..<packs, using: &rng))
        t = now()
        _ = try ledger.history(pack)
        hist.append((now() - t) * 1e6)
        t = now()
        _ = try ledger.root(size: UInt64.random(in: 1...size, using: &rng))
        root.append((now() - t) * 1e6)
    }
    results.add("inclusion proof p50", percentile(incl, 0.5), "µs")
    results.add("inclusion proof p99", percentile(incl, 0.99), "µs", against: ("2 ms", 2_000), lowerIsBetter: true)
    results.add("consistency proof p50", percentile(cons, 0.5), "µs")
    results.add("consistency proof p99", percentile(cons, 0.99), "µs", against: ("2 ms", 2_000), lowerIsBetter: true)
    results.add("root of a random size p99", percentile(root, 0.99), "µs")
    results.add("history of a pack p50", percentile(hist, 0.5), "µs")
    results.add("history of a pack p99", percentile(hist, 0.99), "µs", against: ("2 ms", 2_000), lowerIsBetter: true)

    for (name, path) in [("per-event-signed", singleDB), ("batch-signed", batchDB)] {
        let db = try Database(path: path)
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        results.add("ledger file bytes per entry, \(name)", bytes / Double(size), "B/entry", against: ("600 B", 600), lowerIsBetter: true)
    }
    results.add("bench process peak memory (RSS)", peakRSSMB(), "MB")
    if let out = options.json {
        let doc: JSONValue = .object(["events": .number(Double(total)), "cores": .number(Double(ProcessInfo.processInfo.activeProcessorCount)), "results": results.json])
        try Data(JSONPretty.render(doc).utf8).write(to: URL(fileURLWithPath: out))
        print("\nwrote \(out)")
    }
}

do {
    try benchMain()
} catch {
    FileHandle.standardError.write(Data("packledger-bench: \(error)\n".utf8))
    exit(1)
}
