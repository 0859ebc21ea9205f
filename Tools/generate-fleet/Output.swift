import Dispatch
import Foundation
import PackLedgerKit

/// What was written, for the closing message.
struct WriteStats {
    /// Events written.
    var events = 0
    /// Events files written.
    var files = 0
    /// Highest round used.
    var lastRound = 0
}

/// Writes the generated fleet: keys, party list, scripts, signed events files and the summary.
struct FleetWriter {
    /// The output directory (exists and is empty).
    let out: String
    /// The arguments the fleet was generated with.
    let options: GeneratorOptions
    /// The parties' dates for the period.
    let roster: Roster

    /// A key per party, derived from the seed: the same seed gives the same keys, hence the same
    /// signatures (Ed25519 signing is deterministic) and byte-identical events files.
    func partyKeys() throws(LedgerError) -> [Ed25519PrivateKey] {
        var keys: [Ed25519PrivateKey] = []
        for party in Parties.all {
            keys.append(try Ed25519PrivateKey(seed: SHA256.hash(Array("seed:\(options.seed):\(party.id)".utf8)).bytes))
        }
        return keys
    }

    /// Writes everything for `simulation`.
    func write(_ simulation: FleetSimulation) throws(LedgerError) -> WriteStats {
        let keys = try partyKeys()
        try makeDirectory(out + "/keys")
        try makeDirectory(out + "/events")
        for (party, key) in zip(Parties.all, keys) {
            try KeyFiles.write(key, to: "\(out)/keys/\(party.id).key")
        }
        try writeText(partiesTSV(), to: "parties.tsv")
        try writeText(registerScript(), to: "register.sh", executable: true)
        try writeText(importScript(), to: "import.sh", executable: true)
        let stats = try writeEvents(simulation.events, keys: keys)
        try writeText(summary(simulation, stats), to: "SUMMARY.txt")
        return stats
    }

    // MARK: - Events

    /// The file an event goes to: `RRRRSS-actor.jsonl`, round then slot, so that byte order of
    /// the names is the import order (round by round, and within a round in lifecycle order).
    static func fileName(round: Int, slot: Int) -> String {
        UTC.pad(round, 4) + UTC.pad(slot, 2) + "-" + Parties.all[slot].id + ".jsonl"
    }

    /// Signs every event on all cores, chunk by chunk, and writes the files in import order.
    private func writeEvents(_ events: [PlannedEvent], keys: [Ed25519PrivateKey]) throws(LedgerError) -> WriteStats {
        // Round, then actor (the file), then time within the file; the generation sequence
        // breaks ties so the order is total.
        let ordered = events.sorted {
            ($0.round, $0.slot, $0.at, $0.seq) < ($1.round, $1.slot, $1.at, $1.seq)
        }
        var stats = WriteStats()
        var buffer: [UInt8] = []
        var current: (round: Int, slot: Int)?
        func flush() throws(LedgerError) {
            guard let file = current else { return }
            try writeBytes(buffer, to: "events/" + FleetWriter.fileName(round: file.round, slot: file.slot))
            stats.files += 1
            stats.lastRound = max(stats.lastRound, file.round)
            buffer.removeAll(keepingCapacity: true)
        }
        let chunkSize = 16_384
        var offset = 0
        while offset < ordered.count {
            let chunk = Array(ordered[offset..<min(offset + chunkSize, ordered.count)])
            let lines = try FleetWriter.signedLines(chunk, keys: keys)
            for (event, line) in zip(chunk, lines) {
                if let file = current, file.round == event.round, file.slot == event.slot {
                    buffer.append(contentsOf: line)
                } else {
                    try flush()
                    current = (event.round, event.slot)
                    buffer.append(contentsOf: line)
                }
            }
            stats.events += chunk.count
            offset += chunk.count
        }
        try flush()
        return stats
    }

    /// The signed JSON Lines of `events`, in order, computed on every core. Signing is the cost
    /// of the whole generator, and each event is independent of the others.
    static func signedLines(_ events: [PlannedEvent], keys: [Ed25519PrivateKey]) throws(LedgerError) -> [[UInt8]] {
        let slots = ResultSlots(count: events.count)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, events.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            // Contiguous ranges rather than a stride: each worker touches its own cache lines.
            let lower = events.count * worker / workers
            let upper = events.count * (worker + 1) / workers
            for i in lower..<upper {
                do throws(LedgerError) {
                    slots.store(.success(try signedLine(events[i], key: keys[events[i].slot])), at: i)
                } catch {
                    slots.store(.failure(error), at: i)
                }
            }
        }
        return try slots.collect()
    }

    /// One event as the signed line `packledger import` reads.
    static func signedLine(_ planned: PlannedEvent, key: Ed25519PrivateKey) throws(LedgerError) -> [UInt8] {
        let json: JSONValue = .object([
            "event_id": .string(planned.eventID), "kind": .string(planned.kind.rawValue), "pack": .string(planned.pack),
            "actor": .string(Parties.all[planned.slot].id), "at": .string(UTC.rfc3339(planned.at)), "data": .object(planned.data),
        ])
        return Ingest.signedLine(try SignedEvent(signing: Event(json: json), with: key))
    }

    // MARK: - Parties and scripts

    /// `parties.tsv`: one party a line, tab-separated, with a header.
    private func partiesTSV() -> String {
        var text = "id\tname\troles\tauthorized_from\tauthorized_until\n"
        for (slot, p) in Parties.all.enumerated() {
            text += "\(p.id)\t\(p.name)\t\(p.role.rawValue)\t\(roster.fromText(slot) ?? "")\t\(roster.untilText(slot) ?? "")\n"
        }
        return text
    }

    /// Shared prologue of both scripts: where the script lives, the binary and the ledger.
    private static let prologue = """
        set -euo pipefail
        here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
        PACKLEDGER=${PACKLEDGER:-packledger}
        : "${PACKLEDGER_LEDGER:?set PACKLEDGER_LEDGER to the ledger file (create it first: packledger init --origin NAME)}"
        export PACKLEDGER PACKLEDGER_LEDGER

        """

    /// `register.sh`: one `party add` per party, keys and dates included.
    private func registerScript() -> String {
        let since = UTC.dateText(roster.since)
        var text = """
            #!/usr/bin/env bash
            # Registers every party of this synthetic fleet (packledger-generate-fleet \(options.commandLine)).
            # Usage: PACKLEDGER=path/to/packledger PACKLEDGER_LEDGER=ledger.db bash register.sh
            # Keys are valid from \(since) so that every generated event falls inside their window.

            """ + FleetWriter.prologue
        for (slot, p) in Parties.all.enumerated() {
            var line = "\"$PACKLEDGER\" party add \(p.id) --name \(shellQuote(p.name)) --role \(p.role.rawValue)"
            line += " --key \"$here/keys/\(p.id).key.pub\" --valid-from \(since)T00:00:00Z"
            if let from = roster.fromText(slot) { line += " --authorized-from \(from)" }
            if let until = roster.untilText(slot) { line += " --authorized-until \(until)" }
            text += line + "\n"
        }
        return text
    }

    /// `import.sh`: registration, then every events file in name order, stopping at the first rejection.
    private func importScript() -> String {
        """
        #!/usr/bin/env bash
        # Registers the parties, then imports every events file in byte order of the names: round
        # by round (RRRR), and within a round in lifecycle order of the actors (SS), which is the
        # order the files were built to be imported in. Stops at the first file the ledger rejects.
        # Usage: PACKLEDGER=path/to/packledger PACKLEDGER_LEDGER=ledger.db bash import.sh

        """ + FleetWriter.prologue + """
        # Byte order, whatever the caller's locale collates.
        export LC_ALL=C
        bash "$here/register.sh" >/dev/null
        files=0
        for f in "$here"/events/*.jsonl; do
            if ! result=$("$PACKLEDGER" import "$f" 2>&1); then
                printf 'import.sh: %s was rejected:\\n%s\\n' "${f##*/}" "$result" >&2
                exit 1
            fi
            files=$((files + 1))
            if [ -t 1 ]; then printf '%s: %s\\n' "${f##*/}" "$result"; fi
        done
        echo "import.sh: registered \(Parties.all.count) parties and imported $files files"

        """
    }

    /// `s` as one single-quoted shell word.
    private func shellQuote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: - Summary

    /// `SUMMARY.txt`: arguments, totals, and counts by kind, actor, category and chemistry, and final status.
    /// Only deterministic figures (no timings), so two runs with the same seed write the same file.
    private func summary(_ simulation: FleetSimulation, _ stats: WriteStats) -> String {
        let events = simulation.events
        var text = "PackLedger synthetic fleet\n\n"
        text += "command    packledger-generate-fleet \(options.commandLine)\n"
        text += "seed       \(options.seed)\n"
        text += "window     \(options.start) .. \(options.end) (UTC, end date inclusive)\n"
        text += "events     \(stats.events) (target \(options.events))\n"
        text += "files      \(stats.files) in events/, rounds 1..\(stats.lastRound) (round 1 = \(UTC.monthText(simulation.firstMonth)))\n"
        let originals = simulation.outcomes.filter { !$0.secondLife }.count
        text += "packs      \(simulation.outcomes.count) (\(originals) produced by manufacturers, \(simulation.outcomes.count - originals) second-life)\n"
        let late = events.filter { $0.lateMonths > 0 }.count
        let delayed = events.filter { $0.round >= simulation.monthRound($0.at) + 2 }.count
        text += "late       \(late) late uploads drawn; \(delayed) events in a round 2 or more months after their `at`\n"
        func ids(_ months: Int) -> String {
            let list = Parties.all.indices.filter { simulation.cadence[$0] == months }.map { Parties.all[$0].id }
            return list.isEmpty ? "none" : list.joined(separator: " ")
        }
        text += "uploads    monthly: \(ids(1))\n"
        text += "           quarterly (under \(Int(FleetSimulation.monthlyUploadThreshold)) events a month): \(ids(3))\n"
        text += "parties    \(Parties.all.count) (parties.tsv)\n"

        text += "\nevents by kind\n"
        for kind in EventKind.allCases where LifecycleRule.rule(for: kind) != nil {
            text += row(kind.rawValue, events.filter { $0.kind == kind }.count)
        }
        text += "\nevents by actor\n"
        var perSlot = [Int](repeating: 0, count: Parties.all.count)
        for e in events { perSlot[e.slot] += 1 }
        for (slot, p) in Parties.all.enumerated() {
            text += row("\(p.id) (\(p.role.rawValue))", perSlot[slot])
        }
        text += "\npacks by category and chemistry (packs, declared kg)\n"
        var groups: [String: (count: Int, kg: Double)] = [:]
        for o in simulation.outcomes {
            let key = "\(o.category.rawValue) \(o.chemistry)"
            groups[key, default: (0, 0)].count += 1
            groups[key, default: (0, 0)].kg += o.massKg
        }
        for key in groups.keys.sorted() {
            let g = groups[key] ?? (0, 0)
            text += row(key, g.count, String(format: "%14.1f", g.kg))
        }
        text += "\npacks by status after their last event\n"
        for status in PackStatus.allCases {
            text += row(status.rawValue, simulation.outcomes.filter { $0.status == status }.count)
        }
        return text
    }

    /// A summary line: label padded to a column, the count right-aligned, then `extra`.
    private func row(_ label: String, _ count: Int, _ extra: String = "") -> String {
        let padded = label.count >= 34 ? label : label + String(repeating: " ", count: 34 - label.count)
        let number = String(count)
        return "  " + padded + String(repeating: " ", count: max(0, 10 - number.count)) + number + extra + "\n"
    }

    // MARK: - Files

    /// Creates a directory and its parents.
    private func makeDirectory(_ path: String) throws(LedgerError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.storage, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Writes a text file under the output directory, optionally executable.
    private func writeText(_ text: String, to name: String, executable: Bool = false) throws(LedgerError) {
        try writeBytes(Array(text.utf8), to: name)
        if executable {
            do {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: out + "/" + name)
            } catch {
                throw LedgerError(.storage, "cannot make \(name) executable: \(error.localizedDescription)")
            }
        }
    }

    /// Writes a new file under the output directory; never overwrites.
    private func writeBytes(_ bytes: [UInt8], to name: String) throws(LedgerError) {
        let path = out + "/" + name
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        } catch {
            throw LedgerError(.storage, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Result slots that the signing workers fill at distinct indexes. The storage is allocated
/// once up front and never resized, so concurrent writes to different elements do not race;
/// an `Array` would not promise that (its setter may check uniqueness and copy).
final class ResultSlots: @unchecked Sendable {
    /// One slot per event, filled by exactly one worker.
    private let storage: UnsafeMutableBufferPointer<Result<[UInt8], LedgerError>?>

    /// `count` empty slots.
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    /// Fills slot `index`; each index is written by exactly one worker.
    func store(_ result: Result<[UInt8], LedgerError>, at index: Int) {
        storage[index] = result
    }

    /// The values in order, or the first error by position.
    func collect() throws(LedgerError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(storage.count)
        for slot in storage {
            switch slot {
            case .success(let line)?: out.append(line)
            case .failure(let error)?: throw error
            case nil: throw LedgerError(.storage, "internal: a signing worker did not finish")
            }
        }
        return out
    }
}
