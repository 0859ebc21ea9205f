import Dispatch
import Foundation

/// What a successful `verify` established.
public struct VerifyReport: Sendable {
    /// The ledger origin.
    public let origin: String
    /// Entries checked.
    public let entries: UInt64
    /// RFC 6962 root over them.
    public let root: Digest
    /// Hash of the last entry.
    public let headHash: Digest
    /// Stored checkpoints checked against the replayed tree.
    public let checkpoints: Int
    /// Registered parties after replay.
    public let parties: Int
    /// Packs after replay.
    public let packs: Int
}

/// Checks a ledger from its entries alone, trusting no projection: recomputes every hash and
/// the chain, decodes every entry strictly, checks each signature against the key the replayed
/// registry says was valid at the event's time, and replays the lifecycle rules.
public struct Verifier {
    /// Called every `progressInterval` entries with the count so far.
    public var progress: ((UInt64) -> Void)?
    /// How often `progress` is called.
    public var progressInterval: UInt64 = 10_000

    /// A verifier with no progress reporting.
    public init() {}

    /// Verifies the ledger; throws an `.integrity` (or rule) error naming the first bad entry.
    ///
    /// With `deep`, SQLite's own integrity check runs too, and every projection row (packs,
    /// parties, keys, components, event and pack lookups, tree) must equal what the replay derived.
    /// With `trusted`, a checkpoint the caller kept from an earlier visit, the ledger must also
    /// extend it: same root at its size, and at least that many entries. Every checkpoint stored
    /// in the ledger must be signed by an operator key and match the replayed tree, and the
    /// stored tree must give the replayed root.
    public func verify(_ ledger: Ledger, trusted: Checkpoint? = nil, deep: Bool = false) throws(LedgerError) -> VerifyReport {
        try ledger.db.readTransaction { () throws(LedgerError) -> VerifyReport in
            let stored = try ledger.checkpoints()
            var sizes = Set(stored.map(\.checkpoint.size))
            if let trusted { sizes.insert(trusted.size) }
            let (report, roots, state) = try run(ledger.db, rootsAt: sizes)
            let operatorKeys = state.keys.values.filter { $0.party == Identifiers.operatorID }
                .map { NoteVerifierKey(name: report.origin, type: .ed25519, key: $0.publicKey) }
            for (i, cp) in stored.enumerated() {
                let where_ = "stored checkpoint \(i + 1) (size \(cp.checkpoint.size))"
                guard let root = roots[cp.checkpoint.size] else {
                    throw LedgerError(.integrity, "\(where_) covers more entries than the ledger's \(report.entries): entries were removed from the end", at: ErrorLocation(entry: report.entries))
                }
                guard cp.checkpoint.root == root, cp.checkpoint.origin == report.origin else {
                    throw LedgerError(.integrity, "\(where_) does not match the entries: the ledger was rewritten", at: ErrorLocation(entry: cp.checkpoint.size - 1))
                }
                do throws(LedgerError) {
                    _ = try Note(parsing: cp.note).verify(operatorKeys)
                } catch {
                    throw LedgerError(.integrity, "\(where_) is not signed by an operator key: \(error.reason)")
                }
            }
            if let trusted {
                guard trusted.origin == report.origin else {
                    throw LedgerError(.integrity, "the trusted checkpoint is for origin \(trusted.origin), not \(report.origin)")
                }
                guard let root = roots[trusted.size] else {
                    throw LedgerError(.integrity, "the ledger has \(report.entries) entries but the trusted checkpoint covers \(trusted.size): it was truncated", at: ErrorLocation(entry: report.entries))
                }
                guard root == trusted.root else {
                    throw LedgerError(.integrity, "the first \(trusted.size) entries do not match the trusted checkpoint: the ledger was rewritten", at: ErrorLocation(entry: trusted.size - 1))
                }
            }
            guard try ledger.root(size: report.entries) == report.root else {
                throw LedgerError(.integrity, "the stored Merkle tree does not match the entries")
            }
            if deep { try Verifier.crossCheck(ledger, state: state, entries: report.entries) }
            return VerifyReport(origin: report.origin, entries: report.entries, root: report.root, headHash: report.headHash,
                                checkpoints: stored.count, parties: report.parties, packs: report.packs)
        }
    }

    /// `verify --deep`: the projections must be exactly what the entries imply, because reads
    /// (history, status, reports) trust them.
    static func crossCheck(_ ledger: Ledger, state: MemoryState, entries: UInt64) throws(LedgerError) {
        let integrity = try ledger.db.prepare("PRAGMA integrity_check")
        while try integrity.step() {
            let line = integrity.text(0) ?? ""
            guard line == "ok" else { throw LedgerError(.integrity, "SQLite integrity check: \(line)") }
        }
        func mismatch(_ what: String) -> LedgerError { LedgerError(.integrity, "projection out of step with the entries: \(what)") }
        let packs = try ledger.packs()
        guard packs.count == state.packs.count else { throw mismatch("\(packs.count) packs stored, \(state.packs.count) derived") }
        for p in packs where state.pack(p.pack) != p {
            throw mismatch("pack \(p.pack) differs from its replayed state").located(entry: p.lastSeq)
        }
        let parties = try ledger.parties()
        guard parties.count == state.parties.count else { throw mismatch("\(parties.count) parties stored, \(state.parties.count) derived") }
        for p in parties where state.parties[p.id] != p { throw mismatch("party \(p.id) differs").located(entry: p.registeredSeq) }
        var keyCount = 0
        for owner in Set(state.keys.values.map(\.party)) {
            for k in try ledger.keys(of: owner) {
                keyCount += 1
                guard state.keys[k.keyID] == k else { throw mismatch("key \(k.keyID) differs").located(entry: k.addedSeq) }
            }
        }
        guard keyCount == state.keys.count else { throw mismatch("\(keyCount) keys stored, \(state.keys.count) derived") }
        let components = try ledger.db.prepare("SELECT component, parent FROM components")
        var componentRows = 0
        while try components.step() {
            componentRows += 1
            guard let c = components.text(0), state.parents[c] == components.text(1) else {
                throw mismatch("component \(components.text(0) ?? "?") has the wrong parent")
            }
        }
        guard componentRows == state.parents.count else { throw mismatch("\(componentRows) components stored, \(state.parents.count) derived") }
        // The lookup tables: exactly one row per entry in event_ids, and pack_entries,
        // party_entries and second_life rows exactly where the events name a pack or party.
        var expected: [UInt64: Digest] = [:]
        func key(_ level: Int, _ index: UInt64) -> UInt64 { UInt64(level) << 56 | index }
        var stack: [(level: Int, hash: Digest)] = []
        var wantPackRows = 0, wantPartyRows = 0, wantSecondLife = 0
        let eventID = try ledger.db.prepare("SELECT seq FROM event_ids WHERE event_key = ?")
        let packRow = try ledger.db.prepare("SELECT 1 FROM pack_entries WHERE pack = ? AND seq = ?")
        let partyRow = try ledger.db.prepare("SELECT 1 FROM party_entries WHERE party = ? AND seq = ?")
        let secondLife = try ledger.db.prepare("SELECT 1 FROM second_life WHERE seq = ? AND pack = ? AND kind = ? AND at_ns = ?")
        let rows = try ledger.db.prepare("SELECT seq, bytes FROM entries ORDER BY seq")
        var seq: UInt64 = 0
        /// Binds `values` to `s` and tells whether it returns a row, leaving `s` reset.
        func hasRow(_ s: Statement, _ values: (any Sendable)?...) throws(LedgerError) -> Bool {
            try s.bind(values: values)
            defer { s.reset() }
            return try s.step()
        }
        while try rows.step() {
            let entry = try Entry(decoding: rows.blob(1))
            let event = try Ledger.event(of: entry)
            try eventID.bind(event.eventKey.bytes)
            guard try eventID.step(), UInt64(eventID.int64(0)) == seq else {
                throw mismatch("event_ids does not map event \(event.eventID) to entry \(seq)").located(entry: seq)
            }
            eventID.reset()
            if let pack = event.pack {
                wantPackRows += 1
                guard try hasRow(packRow, pack, seq) else { throw mismatch("pack_entries lacks entry \(seq) of \(pack)").located(entry: seq) }
                if event.kind == .reused || event.kind == .repurposed {
                    wantSecondLife += 1
                    guard try hasRow(secondLife, seq, pack, event.kind.rawValue, event.at.nanoseconds) else {
                        throw mismatch("second_life row of entry \(seq) differs from its entry").located(entry: seq)
                    }
                }
            }
            if let party = event.party {
                wantPartyRows += 1
                guard try hasRow(partyRow, party, seq) else { throw mismatch("party_entries lacks entry \(seq) of \(party)").located(entry: seq) }
            }
            // The stored tree: every complete node of the stored levels, rebuilt in the same pass.
            var item = (level: 0, hash: entry.hash)
            var index = seq
            while let top = stack.last, top.level == item.level {
                stack.removeLast()
                item = (item.level + 1, Merkle.node(top.hash, item.hash))
                index >>= 1
                if item.level >= TreeStore.lowestStoredLevel { expected[key(item.level, index)] = item.hash }
            }
            stack.append(item)
            seq += 1
        }
        guard seq == entries else { throw mismatch("\(seq) entries read for \(entries) verified") }
        for (table, want) in [("event_ids", Int(entries)), ("pack_entries", wantPackRows), ("party_entries", wantPartyRows), ("second_life", wantSecondLife)] {
            let count = try ledger.db.prepare("SELECT COUNT(*) FROM \(table)")
            guard try count.step(), count.int64(0) == Int64(want) else {
                throw mismatch("\(table) has \(count.int64(0)) rows where the entries imply \(want)")
            }
        }
        let nodes = try ledger.db.prepare("SELECT level, idx, hash FROM tree")
        var stored = 0
        while try nodes.step() {
            let level = Int(nodes.int64(0)), index = UInt64(nodes.int64(1))
            guard let want = expected[key(level, index)], nodes.blob(2) == want.bytes else {
                throw mismatch("tree node (level \(level), index \(index)) is not the root of its entries").located(entry: index << UInt64(level))
            }
            stored += 1
        }
        guard stored == expected.count else { throw mismatch("\(stored) tree nodes stored, \(expected.count) expected") }
    }

    /// One stored row after the checks that need no replayed state.
    private struct Decoded: Sendable {
        let entry: Entry
        let event: Event
        /// The signature verdict under the key of that id, when the key was already known.
        let verdict: Bool?
        /// For a batch member, its leaf in the batch's tree (hashed here, on any core).
        let batchLeaf: Digest?
    }

    /// Decodes and checks one row on any thread: bytes, canonical JSON, envelope,
    /// and the signature when its key is in `keys`.
    private static func decode(seq: UInt64, bytes: [UInt8], keys: [String: Ed25519PublicKey]) throws(LedgerError) -> Decoded {
        func fault(_ reason: String) -> LedgerError { LedgerError(.integrity, reason, at: ErrorLocation(entry: seq)) }
        let entry: Entry
        do {
            entry = try Entry(decoding: bytes)
        } catch {
            throw error.located(entry: seq)
        }
        guard entry.seq == seq else { throw fault("the entry bytes say seq \(entry.seq), stored as \(seq)") }
        let noted: JSONParser.Noted
        do {
            noted = try JSONParser.parseNotingCanonical(entry.eventBytes, members: true)
        } catch {
            throw fault("event bytes are not valid JSON: \(error)")
        }
        // One encoding per event: anything else would let the same statement hash two ways.
        guard noted.isCanonical else {
            throw fault("event bytes are not in RFC 8785 canonical form")
        }
        let event: Event
        do {
            event = try Event(noted: noted)
        } catch {
            throw error.located(entry: seq)
        }
        let verdict = keys[entry.keyID].map { $0.isValidSignature(entry.signature, forEvent: entry.eventBytes) }
        return Decoded(entry: entry, event: event, verdict: verdict, batchLeaf: entry.batch.map { _ in SignedEvent.batchLeaf(entry.eventBytes) })
    }

    /// How many rows are decoded in parallel before the sequential replay catches up.
    static let chunkSize = 2_048

    /// Steps the entries in order. Only `ReadAhead`'s thread calls it once reading has begun,
    /// which is why the unsynchronised state is safe.
    private final class RowReader: @unchecked Sendable {
        typealias Row = (seq: UInt64, bytes: [UInt8])
        private let rows: Statement
        // A finished SQLite statement starts over if stepped again, hence `exhausted`.
        private var exhausted = false

        init(_ rows: Statement) { self.rows = rows }

        /// Up to `count` rows; empty at the end.
        func next(_ count: Int) throws(LedgerError) -> [Row] {
            var chunk: [Row] = []
            chunk.reserveCapacity(count)
            while !exhausted, chunk.count < count {
                guard try rows.step() else { exhausted = true; break }
                chunk.append((UInt64(bitPattern: rows.int64(0)), rows.blob(1)))
            }
            return chunk
        }
    }

    /// Reads chunks of rows on a thread of its own, at most `depth` ahead of their consumer.
    private final class ReadAhead: @unchecked Sendable {
        private let condition = NSCondition()
        private var ready: [Result<[RowReader.Row], LedgerError>] = []
        // Set by `stop`, and by the reading thread once it has stopped stepping.
        private var stopping = false, finished = false
        private let depth: Int

        init(_ reader: RowReader, depth: Int = 2) {
            self.depth = depth
            DispatchQueue.global().async { [self] in
                while true {
                    condition.lock()
                    while ready.count >= depth && !stopping { condition.wait() }
                    let stop = stopping
                    condition.unlock()
                    if stop { break }
                    let chunk: Result<[RowReader.Row], LedgerError>
                    do throws(LedgerError) { chunk = .success(try reader.next(Verifier.chunkSize)) } catch { chunk = .failure(error) }
                    condition.lock()
                    ready.append(chunk)
                    condition.broadcast()
                    condition.unlock()
                    // The end (an empty chunk) or a failure is the last thing to read.
                    if case .success(let rows) = chunk, !rows.isEmpty { continue }
                    break
                }
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
            }
        }

        /// The next chunk, waiting for it if need be; empty at the end (and after a failure
        /// was returned, which is the last).
        func next() throws(LedgerError) -> [RowReader.Row] {
            condition.lock()
            defer { condition.unlock() }
            while ready.isEmpty && !finished { condition.wait() }
            guard !ready.isEmpty else { return [] }
            let chunk = ready.removeFirst()
            condition.broadcast()
            return try chunk.get()
        }

        /// Stops reading and waits until the thread no longer uses the statement.
        func stop() {
            condition.lock()
            stopping = true
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
        }
    }

    private func run(_ db: Database, rootsAt sizes: Set<UInt64>) throws(LedgerError) -> (VerifyReport, [UInt64: Digest], MemoryState) {
        var roots: [UInt64: Digest] = [:]
        let state = MemoryState()
        // Sizes from the stored tables, which the replay does not trust: they only size the maps.
        // A tampered seq could claim any count, so the hint never exceeds what the file could
        // hold (no entry is under 64 bytes); the pack count is of rows that really are there.
        let hint = try db.prepare("""
            SELECT MIN((SELECT COALESCE(MAX(seq) + 1, 0) FROM entries), (SELECT page_count * page_size / 64 FROM pragma_page_count, pragma_page_size)),
                   (SELECT COUNT(*) FROM packs)
            """)
        if try hint.step() { state.reserve(events: Int(hint.int64(0)), packs: Int(hint.int64(1))) }
        var acc = Merkle.RootAccumulator()
        var expected: UInt64 = 0
        var prev = Digest.zero
        var lastRecorded = Timestamp(nanoseconds: 0)
        let reader = RowReader(try db.prepare("SELECT seq, bytes FROM entries ORDER BY seq"))
        // Three stages: a thread of its own steps the statement ahead (SQLite steps and blob
        // copies, necessarily sequential), helpers on the pool decode the next chunk (signatures
        // included), and this thread replays the rules over the current one, then joins the
        // decoding of the next if it is not done. (Reading used to open each decoding job,
        // leaving a core idle while it ran; and this thread used to sleep while one helper
        // decoded alone, the pool's other thread being taken by reading ahead.)
        let readAhead = ReadAhead(reader)
        typealias Chunk = (rows: [RowReader.Row], decoded: SharedMap<RowReader.Row, Decoded>)
        typealias Decoding = (rows: [RowReader.Row], decoding: SharedMap<RowReader.Row, Decoded>)
        func startJob(retiring retired: Chunk?) -> BackgroundJob<Result<Decoding, LedgerError>> {
            // Keys never change once registered (ids are unique forever), so a verdict made
            // with the keys known now is final; keys registered after this point are checked
            // during the replay instead.
            var keys: [String: Ed25519PublicKey] = [:]
            for (id, k) in state.keys { keys[id] = k.publicKey }
            let snapshot = keys
            return BackgroundJob {
                // The replayed chunk's decoded entries are freed by the threads that decoded them
                // (`Reclaimer`), each before it decodes again; its rows here, off the replaying
                // thread, whose time bounds the whole verify.
                retired?.decoded.retire()
                _ = consume retired
                do throws(LedgerError) {
                    let rows = try readAhead.next()
                    let decoding = SharedMap(rows) { row throws(LedgerError) in
                        try Verifier.decode(seq: row.seq, bytes: row.bytes, keys: snapshot)
                    }
                    // One helper fewer than cores, because the replaying thread joins in
                    // (this job's thread returns to the pool and can run the helper).
                    decoding.startHelpers(ProcessInfo.processInfo.activeProcessorCount - 1)
                    return .success((rows, decoding))
                } catch {
                    return .failure(error)
                }
            }
        }
        // The batch whose members are being read: its manifest, key, declared size and root, and
        // the tree of the members seen so far.
        var batch: (manifest: UInt64, keyID: String, count: UInt64, root: Digest, acc: Merkle.RootAccumulator)?
        var inFlight = startJob(retiring: nil)
        // Leaving early (a fault) must not leave a thread stepping the statement.
        defer {
            if case .success(let next)? = inFlight.wait() { next.decoding.cancel() }
            readAhead.stop()
            // Decoded entries whose threads did not decode again before the end.
            Reclaimer.shared.collectAll()
        }
        var retired: Chunk?
        while true {
            guard let result = inFlight.wait() else {
                throw LedgerError(.storage, "internal: a decoding task did not finish", at: ErrorLocation(entry: expected))
            }
            let (chunk, decoding) = try result.get()
            guard !chunk.isEmpty else { break }
            decoding.finish()
            guard decoding.count == chunk.count else {
                throw LedgerError(.storage, "internal: a decoding task did not finish", at: ErrorLocation(entry: expected))
            }
            inFlight = startJob(retiring: retired)
            retired = nil
            defer { retired = (chunk, decoding) }
            for (i, row) in chunk.enumerated() {
                let seq = row.seq
                func fault(_ reason: String, _ code: LedgerError.Code = .integrity) -> LedgerError {
                    LedgerError(code, reason, at: ErrorLocation(entry: expected))
                }
                guard seq == expected else {
                    throw seq > expected
                        ? fault("entry \(expected) is missing (the next stored entry is \(seq))")
                        : fault("stored sequence number \(seq) is out of order")
                }
                let item = try decoding.result(i).get()
                let entry = item.entry, event = item.event
                guard entry.prev == prev else {
                    throw fault("prev is \(entry.prev.hex) but entry \(seq == 0 ? "-" : String(seq - 1)) hashes to \(prev.hex): the chain is broken (that entry or this prev was changed)")
                }
                guard entry.recordedAt >= lastRecorded else { throw fault("record time goes backwards") }
                let signed: SignedEvent
                var verdict = item.verdict
                if let ref = entry.batch {
                    guard let open = batch, ref.manifest == open.manifest, ref.index == open.acc.count else {
                        throw fault("entry claims to be event \(ref.index) of the batch of entry \(ref.manifest), but it is not the next event of an open batch")
                    }
                    signed = SignedEvent(event: event, bytes: entry.eventBytes, keyID: open.keyID, signature: [], batch: ref)
                    // Provisional: the batch's root, checked at its last event, decides.
                    verdict = true
                } else {
                    if let open = batch {
                        throw fault("the batch of entry \(open.manifest) ends after \(open.acc.count) of its \(open.count) events")
                    }
                    signed = SignedEvent(event: event, bytes: entry.eventBytes, keyID: entry.keyID, signature: entry.signature)
                }
                let judgement: Judgement
                do {
                    judgement = try Rules.judge(signed, seq: seq, recordedAt: entry.recordedAt, state: state, signatureValid: verdict)
                } catch {
                    throw error.located(entry: expected)
                }
                if entry.batch != nil, var open = batch {
                    // Emptied first, so that `open` holds the only reference to the accumulator's
                    // stack and appending does not copy it.
                    batch = nil
                    open.acc.append(item.batchLeaf ?? SignedEvent.batchLeaf(entry.eventBytes))
                    if open.acc.count == open.count {
                        guard open.acc.root == open.root else {
                            throw fault("the \(open.count) events of the batch of entry \(open.manifest) do not hash to its signed root: one of entries \(open.manifest + 1)–\(seq) was altered")
                        }
                        batch = nil
                    } else {
                        batch = open
                    }
                } else if event.kind == .batch {
                    let declared = try Rules.manifest(of: event)
                    batch = (seq, entry.keyID, declared.count, declared.root, Merkle.RootAccumulator())
                }
                switch judgement {
                case .duplicate(let first):
                    throw fault("event_id \(event.eventID) repeats entry \(first)", .conflict)
                case .accept(let effects):
                    // In a stored ledger any repeated event id is a fault, identical or not, so the
                    // event's hash (used to tell a resubmission from a conflict) is not needed.
                    state.apply(effects, event: event, record: EventRecord(seq: seq, eventHash: .zero))
                }
                acc.append(entry.hash)
                if sizes.contains(acc.count) { roots[acc.count] = acc.root }
                prev = entry.hash
                lastRecorded = entry.recordedAt
                expected += 1
                if let progress, expected % progressInterval == 0 { progress(expected) }
            }
        }
        guard expected > 0, let origin = state.origin else {
            throw LedgerError(.integrity, "the ledger has no entries (entry 0, ledger.init, is missing)", at: ErrorLocation(entry: 0))
        }
        if let open = batch {
            throw LedgerError(.integrity, "the ledger ends inside the batch of entry \(open.manifest) (\(open.acc.count) of \(open.count) events)", at: ErrorLocation(entry: expected))
        }
        let report = VerifyReport(origin: origin, entries: expected, root: acc.root, headHash: prev,
                                  checkpoints: 0, parties: state.parties.count, packs: state.packs.count)
        return (report, roots, state)
    }
}
