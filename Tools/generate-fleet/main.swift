// packledger-generate-fleet: a seeded, realistic synthetic fleet of battery packs, as signed
// JSON Lines files that `packledger import` accepts in filename order.
//
//   packledger-generate-fleet --out DIR [--events N] [--seed S] [--start 2022-01-01] [--end 2026-06-30]
//
// Layout of DIR, the round design and the performance notes are in Output.swift and
// Simulation.swift; `--help` prints the usage.
import Foundation
import PackLedgerKit

/// Seconds on a monotonic clock, for the timing line.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Creates `path` or accepts it when it is an empty directory: the generator never mixes its
/// files with anything already there.
func prepareOutput(_ path: String) throws(LedgerError) {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw LedgerError(.conflict, "\(path) exists and is not a directory") }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
        guard contents.isEmpty else { throw LedgerError(.conflict, "\(path) is not empty; refusing to write into it") }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw LedgerError(.storage, "cannot create \(path): \(error.localizedDescription)")
    }
}

/// Runs the generator; returns the exit status.
func runGenerator() -> Int32 {
    do throws(LedgerError) {
        let options = try GeneratorOptions(arguments: Array(CommandLine.arguments.dropFirst()),
                                           now: Timestamp.now().nanoseconds / 1_000_000_000)
        if options.help {
            print(GeneratorOptions.usage)
            return 0
        }
        try prepareOutput(options.out)
        let began = monotonicSeconds()
        let simulation = FleetSimulation(seed: options.seed, start: options.startSeconds, end: options.endSeconds)
        simulation.run(targetEvents: options.events)
        let simulated = monotonicSeconds()
        let stats = try FleetWriter(out: options.out, options: options, roster: simulation.roster).write(simulation)
        let done = monotonicSeconds()
        print("wrote \(stats.events) events for \(simulation.outcomes.count) packs in \(stats.files) files to \(options.out)"
              + " (planned in \(String(format: "%.1f", simulated - began)) s, signed and written in \(String(format: "%.1f", done - simulated)) s)")
        return 0
    } catch {
        FileHandle.standardError.write(Data("packledger-generate-fleet: \(error.description)\n".utf8))
        return error.code == .usage ? 64 : 1
    }
}

exit(runGenerator())
