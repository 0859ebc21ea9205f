import Dispatch
import Foundation
import Synchronization

/// What an import did.
public struct ImportSummary: Sendable {
    /// Records read.
    public var records = 0
    /// Entries appended.
    public var appended = 0
    /// Records already in the ledger with identical content (no-ops).
    public var duplicates = 0
    /// The first and last entries written.
    public var firstSeq: UInt64?
    /// The last entry written.
    public var lastSeq: UInt64?
}

/// Progress of a running import or signing job.
public struct IngestProgress: Sendable {
    /// Records done.
    public let records: Int
    /// Bytes of input consumed.
    public let bytesRead: Int
    /// Input size, when it is a regular file.
    public let totalBytes: Int?
    /// Seconds since the start.
    public let elapsed: Double
}

/// Turning input records into signed events: shared by `sign` and `import`.
public enum Ingest {
    /// Whether `key` is one of the members a signed line carries besides the event
    /// (`key_id`, `signature`).
    static func isSignatureMember(_ key: String) -> Bool { key == "key_id" || key == "signature" }

    /// The event of a record, with `actor` filled in from `defaultActor` when absent.
    static func event(_ record: InputRecord, defaultActor: String?, file: String) throws(LedgerError) -> Event {
        if let failure = record.failure { throw failure }
        return try event(record, actor: record["actor"], defaultActor: defaultActor, file: file)
    }

    /// `event(_:defaultActor:file:)` for a record whose `actor` member the caller has looked up.
    private static func event(_ record: InputRecord, actor: JSONValue?, defaultActor: String?, file: String) throws(LedgerError) -> Event {
        if let actor {
            if let defaultActor, actor.stringValue != defaultActor {
                throw LedgerError(.malformed, "actor \(actor.stringValue ?? "?") is not --actor \(defaultActor)", at: ErrorLocation(file: file, line: record.line, field: "actor"))
            }
        } else if defaultActor == nil {
            throw LedgerError(.malformed, "no actor: give one in the record or with --actor", at: ErrorLocation(file: file, line: record.line, field: "actor"))
        }
        // A line that names its actor (every signed line, every member of a batch) is the event
        // as it stands, but for a signature: its member list is shared, not copied.
        if actor != nil {
            return try Event(members: record.members, signedLine: true)
        }
        // Reserved up front (one allocation): `filter` grows its result by appending.
        var members: [JSONMember] = []
        members.reserveCapacity(record.members.count + 1)
        for m in record.members where !isSignatureMember(m.key) { members.append(m) }
        if actor == nil, let defaultActor {
            members.append(JSONMember(key: "actor", value: .string(defaultActor), range: 0..<0))
        }
        return try Event(members: members)
    }

    /// A signed event from a record: the record's own signature if it has one, otherwise a new
    /// signature by `key`. The signature is not checked here.
    static func signedEvent(_ record: InputRecord, actor: String?, key: Ed25519PrivateKey?, file: String) throws(LedgerError) -> SignedEvent {
        if let failure = record.failure { throw failure }
        let at = ErrorLocation(file: file, line: record.line)
        // The members this needs, found in one pass over the record.
        var actorValue, keyIDValue, signatureValue: JSONValue?
        for m in record.members {
            switch m.key {
            case "actor": actorValue = m.value
            case "key_id": keyIDValue = m.value
            case "signature": signatureValue = m.value
            default: continue
            }
        }
        let hasSignature = signatureValue != nil || keyIDValue != nil
        guard hasSignature || key != nil else {
            throw LedgerError(.malformed, "this record is not signed: give --actor and --key to sign unsigned events, or sign them first with `packledger sign`", at: at)
        }
        let event: Event
        do {
            event = try Ingest.event(record, actor: actorValue, defaultActor: hasSignature ? nil : actor, file: file)
        } catch {
            throw error.located(file: file, line: record.line)
        }
        guard !event.kind.isRegistry else {
            throw LedgerError(.malformed, "\(event.kind.rawValue) is a registry entry; use `packledger party`", at: at)
        }
        if hasSignature {
            guard let keyID = keyIDValue?.stringValue, keyID.utf8.count == 16, keyID.utf8.allSatisfy({ Hex.nibble($0) < 0x10 }),
                  let sig = signatureValue?.stringValue.flatMap({ Base64.decode($0) }), sig.count == 64 else {
                throw LedgerError(.malformed, "a signed line needs key_id (16 hex digits) and signature (base64 of 64 bytes)", at: at)
            }
            if let actor, event.actor != actor {
                throw LedgerError(.malformed, "signed by \(event.actor), not --actor \(actor)", at: ErrorLocation(file: file, line: record.line, field: "actor"))
            }
            return SignedEvent(event: event, bytes: eventBytes(record, event, hasActor: actorValue != nil), keyID: keyID, signature: sig)
        }
        guard let key else { throw LedgerError(.malformed, "this record is not signed", at: at) }
        do {
            return try SignedEvent(signing: event, bytes: eventBytes(record, event, hasActor: actorValue != nil), with: key)
        } catch {
            throw error.located(file: file, line: record.line)
        }
    }

    /// The canonical bytes of `event`, made from `record`: cut from the line when it was canonical
    /// and the event is the record without its signature members (no actor was filled in).
    static func eventBytes(_ record: InputRecord, _ event: Event) -> [UInt8] {
        eventBytes(record, event, hasActor: record["actor"] != nil)
    }

    /// `eventBytes(_:_:)` when the caller knows whether the record names its actor.
    private static func eventBytes(_ record: InputRecord, _ event: Event, hasActor: Bool) -> [UInt8] {
        guard hasActor, let bytes = record.canonicalEventBytes else { return event.canonicalBytes }
        return bytes
    }

    /// The JSON Lines form of a signed event: its members plus `key_id` and `signature`,
    /// as RFC 8785 JSON.
    public static func signedLine(_ signed: SignedEvent) -> [UInt8] {
        guard case .object(var members) = signed.event.json else { return [] }
        members["key_id"] = .string(signed.keyID)
        members["signature"] = .string(Base64.encode(signed.signature))
        return CanonicalJSON.encode(.object(members)) + [0x0a]
    }

    /// Signs every record of `reader` as `actor` with `key`, writing signed lines to `write`.
    /// Nothing is written unless every record is valid: output is produced chunk by chunk only
    /// after the chunk checked out, and an error stops at the offending line.
    ///
    /// With `batchSize`, records are signed in batches (FORMAT.md §13): one manifest line with the
    /// signature over the batch's Merkle root, followed by the batch's events unsigned.
    public static func sign(_ reader: RecordReader, actor: String, key: Ed25519PrivateKey, chunkSize: Int = 4096, batchSize: Int? = nil,
                            write: ([UInt8]) -> Void, progress: ((IngestProgress) -> Void)? = nil) throws(LedgerError) -> Int {
        if let batchSize {
            return try signBatches(reader, actor: actor, key: key, batchSize: batchSize, write: write, progress: progress)
        }
        let start = Date()
        var count = 0
        while true {
            let chunk = try reader.nextChunk(chunkSize)
            if chunk.isEmpty { break }
            let file = reader.name
            let signed = try parallelMap(chunk) { record throws(LedgerError) in
                guard record["signature"] == nil, record["key_id"] == nil else {
                    throw LedgerError(.malformed, "this line is already signed", at: ErrorLocation(file: file, line: record.line))
                }
                return try signedEvent(record, actor: actor, key: key, file: file)
            }
            write(signed.flatMap(signedLine))
            count += chunk.count
            progress?(IngestProgress(records: count, bytesRead: reader.progress.read, totalBytes: reader.progress.total, elapsed: Date().timeIntervalSince(start)))
        }
        return count
    }

    static func signBatches(_ reader: RecordReader, actor: String, key: Ed25519PrivateKey, batchSize: Int,
                            write: ([UInt8]) -> Void, progress: ((IngestProgress) -> Void)?) throws(LedgerError) -> Int {
        guard (1...Rules.maxBatchCount).contains(batchSize) else {
            throw LedgerError(.usage, "--batch must be between 1 and \(Rules.maxBatchCount)")
        }
        let start = Date()
        var count = 0
        let file = reader.name
        while true {
            var chunk: [InputRecord] = []
            while chunk.count < batchSize {
                let more = try reader.nextChunk(batchSize - chunk.count)
                if more.isEmpty { break }
                chunk.append(contentsOf: more)
            }
            if chunk.isEmpty { break }
            let events = try parallelMap(chunk) { record throws(LedgerError) -> Event in
                guard record["signature"] == nil, record["key_id"] == nil else {
                    throw LedgerError(.malformed, "this line is already signed", at: ErrorLocation(file: file, line: record.line))
                }
                do throws(LedgerError) {
                    let event = try Ingest.event(record, defaultActor: actor, file: file)
                    guard !event.kind.isRegistry, event.kind != .batch else {
                        throw LedgerError(.malformed, "\(event.kind.rawValue) cannot be signed in a batch")
                    }
                    return event
                } catch {
                    throw error.located(file: file, line: record.line)
                }
            }
            let members = events.map { (e: Event) in e.canonicalBytes }
            let manifest = try batchManifest(actor: actor, events: events, members: members, key: key)
            write(signedLine(manifest) + members.flatMap { $0 + [0x0a] })
            count += chunk.count
            progress?(IngestProgress(records: count, bytesRead: reader.progress.read, totalBytes: reader.progress.total, elapsed: Date().timeIntervalSince(start)))
        }
        return count
    }

    /// The signed manifest for a batch of events: count and Merkle root, at the latest event's
    /// time, with an event id derived from the root so that signing the same events again
    /// gives the same manifest (and re-importing it is a no-op).
    public static func batchManifest(actor: String, events: [Event], members: [[UInt8]], key: Ed25519PrivateKey) throws(LedgerError) -> SignedEvent {
        var acc = Merkle.RootAccumulator()
        for bytes in members { acc.append(SignedEvent.batchLeaf(bytes)) }
        let root = acc.root
        let idBytes = SHA256.hash(Array("packledger/batch-id\n\(actor)\n".utf8), root.bytes).bytes
        var uuid = Array(idBytes.prefix(16))
        uuid[6] = uuid[6] & 0x0f | 0x40
        uuid[8] = uuid[8] & 0x3f | 0x80
        let hex = Hex.encode(uuid)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        let latest = events.max { $0.at < $1.at }
        let json: JSONValue = .object([
            "event_id": .string(parts.joined(separator: "-")), "kind": .string(EventKind.batch.rawValue), "actor": .string(actor),
            "at": latest?.json["at"] ?? .string(Timestamp.now().rfc3339),
            "data": .object(["count": .number(Double(events.count)), "root": .string(root.base64)]),
        ])
        return try SignedEvent(signing: Event(json: json), with: key)
    }

    /// Maps in parallel on all cores, preserving order; the first error (by position) wins.
    public static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) throws(LedgerError) -> R) throws(LedgerError) -> [R] {
        var out: [R] = []
        out.reserveCapacity(items.count)
        for result in parallelResults(items, transform) { out.append(try result.get()) }
        return out
    }

    /// Maps in parallel on all cores and returns the finished map, which keeps the results: its
    /// owner `retire`s it when they are no longer needed, so that the threads that made them
    /// free them (`Reclaimer`).
    static func parallelKept<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) throws(LedgerError) -> R) -> SharedMap<T, R> {
        let map = SharedMap(items, transform)
        map.startHelpers(ProcessInfo.processInfo.activeProcessorCount - 1)
        map.finish()
        return map
    }

    /// Maps in parallel on all cores, preserving order and keeping each item's own failure.
    static func parallelResults<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) throws(LedgerError) -> R) -> [Result<R, LedgerError>] {
        let map = SharedMap(items, transform)
        map.startHelpers(ProcessInfo.processInfo.activeProcessorCount - 1)
        return map.results()
    }
}

/// A parallel map that helpers on Dispatch's pool work through, and that the thread needing the
/// results joins (`results()`) instead of sleeping until they finish. Everyone takes the next
/// block of items from a shared counter rather than a fixed share, because the pipelines run
/// more threads than cores (appending or replaying, reading ahead): a thread that gets less CPU
/// simply takes fewer blocks. `verify` starts the helpers for the next chunk while its replaying
/// thread works on the current one; when that thread gets there first, it decodes too.
final class SharedMap<T: Sendable, R: Sendable>: @unchecked Sendable {
    private let items: [T]
    private let transform: @Sendable (T) throws(LedgerError) -> R
    /// One slot per item, each written once by whoever took its block; read only after all are.
    private let slots: UnsafeMutableBufferPointer<Result<R, LedgerError>?>
    private let block: Int
    private let next = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    private let condition = NSCondition()
    /// Which thread mapped each block (`Reclaimer.thread`), so that `retire` can have its
    /// results freed there.
    private let owners: UnsafeMutableBufferPointer<UInt>
    private let reclaimer: Reclaimer

    init(_ items: [T], reclaimer: Reclaimer = .shared, _ transform: @escaping @Sendable (T) throws(LedgerError) -> R) {
        self.reclaimer = reclaimer
        self.items = items
        self.transform = transform
        slots = .allocate(capacity: items.count)
        slots.initialize(repeating: nil)
        // Small enough that the threads finish close together, large enough that the counter
        // is not contended.
        block = max(1, min(8, items.count / 32))
        owners = .allocate(capacity: (items.count + block - 1) / block)
        owners.initialize(repeating: 0)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
        owners.deallocate()
    }

    /// Starts `count` helpers on Dispatch's pool.
    func startHelpers(_ count: Int) {
        guard items.count > block else { return }
        for _ in 0..<max(0, count) { DispatchQueue.global().async { [self] in help() } }
    }

    /// Maps blocks until none is left to take.
    func help() {
        let count = items.count
        let me = Reclaimer.thread
        while true {
            let start = next.wrappingAdd(block, ordering: .relaxed).oldValue
            guard start < count else { return }
            // Frees what this thread mapped for maps already retired, before allocating more.
            reclaimer.collect(for: me)
            owners[start / block] = me
            let end = min(count, start + block)
            for i in start..<end {
                do throws(LedgerError) { slots[i] = .success(try transform(items[i])) } catch { slots[i] = .failure(error) }
            }
            // Releasing, so that the slots just written are visible to whoever sees the count.
            if done.add(end - start, ordering: .acquiringAndReleasing).newValue == count {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Takes the blocks nobody has started without mapping them, and waits for those being
    /// mapped, so that no helper is still working once the caller has given up on the results.
    func cancel() {
        let count = items.count
        while true {
            let start = next.wrappingAdd(block, ordering: .relaxed).oldValue
            guard start < count else { break }
            done.add(min(count, start + block) - start, ordering: .acquiringAndReleasing)
        }
        condition.lock()
        while done.load(ordering: .acquiring) < count { condition.wait() }
        condition.unlock()
    }

    /// The results in item order, once every item is mapped; the calling thread helps first.
    /// Called once: the results are moved out.
    func results() -> [Result<R, LedgerError>] {
        finish()
        return (0..<items.count).map { i in
            slots[i].take() ?? .failure(LedgerError(.storage, "internal: a parallel task did not finish"))
        }
    }

    /// Helps, then waits until every item is mapped; the results stay here (`result(_:)`).
    func finish() {
        help()
        let count = items.count
        condition.lock()
        while done.load(ordering: .acquiring) < count { condition.wait() }
        condition.unlock()
    }

    /// The number of items.
    var count: Int { items.count }

    /// Reads item `i`'s result where it is, after `finish`, instead of copying it out.
    func withResult<V>(_ i: Int, _ body: (borrowing Result<R, LedgerError>?) -> V) -> V {
        body(slots[i])
    }

    /// Item `i`'s result, after `finish`.
    func result(_ i: Int) -> Result<R, LedgerError> {
        slots[i] ?? .failure(LedgerError(.storage, "internal: a parallel task did not finish"))
    }

    /// Hands each block's results to the thread that mapped it, to be freed when that thread
    /// next maps a block (`Reclaimer`). Call once, after `finish`, when they are no longer read.
    func retire() {
        var byOwner: [UInt: [Range<Int>]] = [:]
        let count = items.count
        for b in 0..<owners.count {
            byOwner[owners[b], default: []].append(b * block..<min(count, (b + 1) * block))
        }
        for (owner, ranges) in byOwner { reclaimer.add(self, ranges, for: owner) }
    }
}

extension SharedMap: Reclaimable {
    func clear(_ range: Range<Int>) {
        for i in range { slots[i] = nil }
    }
}

/// Something whose parts a given thread should free (`Reclaimer`).
protocol Reclaimable: AnyObject, Sendable {
    /// Frees the part at `range`.
    func clear(_ range: Range<Int>)
    /// Hands every part to the thread that should free it.
    func retire()
}

/// Frees results on the thread that allocated them.
///
/// `verify` decodes entries on several threads and replays them on one; each decoded entry is
/// a dozen small objects from the decoding thread's malloc arena. Freed by another thread, every
/// free took that arena's lock while its owner was allocating from it: 31,000 `futex` calls in
/// a 1,000,000-entry `verify`, and freeing was about a third of its CPU (a build that never
/// freed decoded entries verified 210,000 of them in 0.57 s instead of 0.74 s). So a retired
/// map's blocks wait here, by the thread that mapped them, until that thread maps its next
/// block and frees them itself. What is left when a job ends is freed by `collectAll`.
final class Reclaimer: @unchecked Sendable {
    /// The one registry of the process.
    static let shared = Reclaimer()

    private let lock = NSLock()
    private var garbage: [UInt: [Garbage]] = [:]
    /// Whether `garbage` may hold anything, read without the lock by `collect`.
    private let pending = Atomic<Int>(0)
    /// Counts `endGeneration` calls; each retired part is tagged with the count when it came.
    private var generation = 0

    private struct Garbage {
        let item: any Reclaimable
        let ranges: [Range<Int>]
        let generation: Int
    }

    /// The calling thread's identity.
    static var thread: UInt { UInt(pthread_self()) }

    func add(_ item: any Reclaimable, _ ranges: [Range<Int>], for thread: UInt) {
        lock.lock()
        garbage[thread, default: []].append(Garbage(item: item, ranges: ranges, generation: generation))
        pending.add(1, ordering: .releasing)
        lock.unlock()
    }

    /// Frees what `thread` (the caller) left here.
    func collect(for thread: UInt) {
        guard pending.load(ordering: .acquiring) > 0 else { return }
        lock.lock()
        let mine = garbage.removeValue(forKey: thread)
        if let mine { pending.subtract(mine.count, ordering: .releasing) }
        lock.unlock()
        if let mine { Reclaimer.clear(mine) }
    }

    /// Ends a generation of retired parts (the import retires one unit's maps per generation):
    /// what is left of the generation before it is freed now, on the calling thread. Dispatch
    /// does not always hand a map's blocks to the same pool threads, and a thread that stops
    /// mapping would otherwise keep its parts until `collectAll`, units of records and events
    /// that an import's memory budget cannot spare. So at most one generation waits.
    func endGeneration() {
        lock.lock()
        generation += 1
        let oldest = generation - 1
        var stale: [Garbage] = []
        for (thread, parts) in garbage {
            let kept = parts.filter { $0.generation >= oldest }
            guard kept.count < parts.count else { continue }
            stale += parts.filter { $0.generation < oldest }
            garbage[thread] = kept.isEmpty ? nil : kept
        }
        pending.subtract(stale.count, ordering: .releasing)
        lock.unlock()
        Reclaimer.clear(stale)
    }

    /// Frees everything left, on the calling thread: at the end of a job, whose last blocks'
    /// threads may not map again soon.
    func collectAll() {
        lock.lock()
        let all = garbage
        garbage = [:]
        pending.store(0, ordering: .releasing)
        lock.unlock()
        for (_, parts) in all { Reclaimer.clear(parts) }
    }

    private static func clear(_ parts: [Garbage]) {
        for part in parts { for range in part.ranges { part.item.clear(range) } }
    }
}

/// A unit of import work, prepared in the background: a run of single records (each signed on
/// its own) or one batch (manifest and members). A failure found while preparing stays in the
/// unit and is raised when the appends reach it, so the first bad line in file order is named.
enum ImportUnit: Sendable {
    /// Single records with their prepared events and signature verdicts, and the lookup of
    /// what the ledger held of them (waited for when the unit is appended).
    case singles(Singles, committed: LookUp)
    /// A batch whose members hash to its root; `verdict` is the manifest signature's.
    case batch(manifest: SignedEvent, line: Int, verdict: Bool?, members: [BatchMember], committed: Committed)
    /// Preparing failed here.
    case failure(LedgerError)

    /// A batch's event as prepared: its bytes, the line it came from and its leaf hash.
    typealias BatchMember = (event: Event, bytes: [UInt8], line: Int, leaf: Digest)

    /// Which of a unit's events and packs the ledger held before the import began: `found` and
    /// `packs` have those it held; with `complete`, every event and pack the unit names was looked
    /// up, so one missing was not there. (Without a lookup connection, nothing is known and the
    /// appends probe.)
    struct Committed: Sendable {
        var found: [EventKey: EventRecord] = [:]
        var packs: [String: PackState] = [:]
        var complete = false

        /// The pre-import answer for `key`, if known.
        func hint(_ key: EventKey) -> (key: EventKey, record: EventRecord?)? {
            complete ? (key, found.isEmpty ? nil : found[key]) : nil
        }

        /// The pre-import state of pack `id`, if known.
        func packHint(_ id: String?) -> (id: String, state: PackState?)? {
            guard complete, let id else { return nil }
            return (id, packs.isEmpty ? nil : packs[id])
        }
    }
}

extension ImportUnit {
    /// A prepared event and its signature verdict (nil: the key is not known).
    typealias Checked = (event: SignedEvent, verdict: Bool?)

    /// A record as the parsing threads prepared it: parsed and, when it is a signed line, its
    /// event made and signature checked in the same pass (`checked`; nil for a manifest, an
    /// unsigned line and a line that could not be read).
    struct Prepared: Sendable {
        let record: InputRecord
        let checked: Result<Checked, LedgerError>?
        /// Whether the record is a batch manifest, which starts a unit of its own.
        let isManifest: Bool
    }

    /// A unit's single records, read in place from the map that prepared them (copying a unit's
    /// records and events out of it cost a reference count each): the first `count` of `map`,
    /// with `later` the events of unsigned records, signed afterwards with `--key`.
    final class Singles: Sendable {
        let map: SharedMap<RecordReader.Raw, Prepared>
        let count: Int
        private let later: SharedMap<Int, Checked>?
        /// For each record, its place in `later` (when there is one).
        private let laterIndex: [Int]

        init(map: SharedMap<RecordReader.Raw, Prepared>, count: Int, later: SharedMap<Int, Checked>?, laterIndex: [Int]) {
            self.map = map
            self.count = count
            self.later = later
            self.laterIndex = laterIndex
        }

        /// Record `i`'s line.
        func line(_ i: Int) -> Int {
            map.withResult(i) { result in (try? result?.get())?.record.line ?? 0 }
        }

        /// Record `i`'s event and verdict, or why it has none.
        func checked(_ i: Int) -> Result<Checked, LedgerError> {
            if let later, laterIndex[i] >= 0 { return later.result(laterIndex[i]) }
            return map.withResult(i) { result in
                guard case .success(let prepared)? = result, let checked = prepared.checked else {
                    return .failure(LedgerError(.storage, "internal: a record was not prepared"))
                }
                return checked
            }
        }

        /// Record `i`'s event, if it was prepared.
        func event(_ i: Int) -> Event? {
            if let later, laterIndex[i] >= 0 { return (try? later.result(laterIndex[i]).get())?.event.event }
            return map.withResult(i) { result in
                guard case .success(let prepared)? = result, case .success(let checked)? = prepared.checked else { return nil }
                return checked.event.event
            }
        }
    }

    /// The lookup of a unit's events and packs in the ledger as committed before the import,
    /// running beside the parsing of the next unit.
    struct LookUp: Sendable {
        let job: BackgroundJob<Result<Committed, LedgerError>>?

        /// The answers, once the lookup has finished (none without a lookup connection).
        func get() throws(LedgerError) -> Committed {
            guard let job else { return Committed() }
            guard let result = job.wait() else { throw LedgerError(.storage, "internal: an event lookup did not finish") }
            return try result.get()
        }
    }
}

/// A job started on another thread whose result the caller collects later, so that the calling
/// thread can do sequential work (appending, replaying rules) meanwhile: the two-stage pipeline
/// of `import` and `verify`. The caller must not touch anything the job uses until `wait`
/// returns; the import hands the reader back and forth this way, never using it from two threads
/// at once.
final class BackgroundJob<R: Sendable>: @unchecked Sendable {
    private var result: R?
    private let group = DispatchGroup()

    init(_ work: @escaping @Sendable () -> R) {
        group.enter()
        DispatchQueue.global().async { [self] in
            result = work()
            group.leave()
        }
    }

    /// Waits for the job and returns its result.
    func wait() -> R? {
        group.wait()
        return result
    }
}

/// Reads and prepares import units: parsing, canonical bytes, signing unsigned lines, checking
/// signatures and batch roots. Runs on other threads than the appends, one unit at a time.
final class ImportPreparer: @unchecked Sendable {
    /// How many events ahead of the one being appended the appending thread starts loading
    /// that event's lookup (`SQLState.prefetchLookup`): far enough to cover a memory access.
    static let lookAhead = 8

    let reader: RecordReader
    let actor: String?
    let key: Ed25519PrivateKey?
    let keys: [String: KeyState]
    let chunkSize: Int
    private var finished = false

    /// Answers for the appends' duplicate checks, looked up here ahead of them.
    let committed: CommittedEvents?

    init(reader: RecordReader, actor: String?, key: Ed25519PrivateKey?, keys: [String: KeyState], chunkSize: Int, committed: CommittedEvents?) {
        self.committed = committed
        self.reader = reader
        reader.keepsMaps = true
        self.actor = actor
        self.key = key
        self.keys = keys
        self.chunkSize = chunkSize
    }

    /// The maps whose results the unit being read holds (`Ingest.parallelKept`).
    private var kept: [any Reclaimable] = []

    /// The next unit with the input's progress after it and the maps to retire with it, or nil
    /// at the end of input.
    func next() -> (unit: ImportUnit, read: Int, maps: [any Reclaimable])? {
        guard !finished else { return nil }
        defer { kept = [] }
        do throws(LedgerError) {
            guard let unit = try readUnit() else { return nil }
            return (unit, reader.progress.read, kept + reader.takeKeptMaps())
        } catch {
            finished = true
            return (.failure(error), reader.progress.read, kept + reader.takeKeptMaps())
        }
    }

    private static func isManifest(_ record: InputRecord) -> Bool {
        record["kind"]?.stringValue == EventKind.batch.rawValue
    }

    private func readUnit() throws(LedgerError) -> ImportUnit? {
        let raw = try reader.nextRaw(chunkSize)
        guard !raw.isEmpty else { return nil }
        let file = reader.name, keys = keys, actor = actor
        // One pass per line: parsed and, when signed, checked by the same thread, so that no
        // thread waits for the whole unit to be parsed before the checks start.
        let map = Ingest.parallelKept(raw) { item throws(LedgerError) -> ImportUnit.Prepared in
            let record = RecordReader.record(item, file: file)
            let isManifest = ImportPreparer.isManifest(record)
            guard record.failure == nil, !isManifest, record.members.contains(where: { Ingest.isSignatureMember($0.key) }) else {
                return ImportUnit.Prepared(record: record, checked: nil, isManifest: isManifest)
            }
            let checked: Result<ImportUnit.Checked, LedgerError>
            do throws(LedgerError) {
                // No key: a signed line is never signed again. `actor` (`--actor`) must match its signer.
                checked = .success(try ImportPreparer.check(record, actor: actor, key: nil, keys: keys, file: file))
            } catch {
                checked = .failure(error)
            }
            return ImportUnit.Prepared(record: record, checked: checked, isManifest: false)
        }
        kept.append(map)
        var count = map.count
        if let i = (0..<map.count).first(where: { i in map.withResult(i) { (try? $0?.get())?.isManifest ?? false } }) {
            // A manifest starts a unit of its own: what follows it is read again (parsed, not
            // checked: it is usually the batch's unsigned events).
            let rest = (i..<map.count).compactMap { i in map.withResult(i) { (try? $0?.get())?.record } }
            if i == 0 {
                reader.pushBack(Array(rest.dropFirst()))
                return try batchUnit(rest[0])
            }
            reader.pushBack(rest)
            count = i
        }
        // Records without a signature of their own (or that could not be read): signed with
        // `--key` now, or rejected.
        let unsigned = (0..<count).filter { i in
            map.withResult(i) { result in
                guard case .success(let prepared)? = result else { return false }
                return prepared.checked == nil
            }
        }
        var later: SharedMap<Int, ImportUnit.Checked>?
        var laterIndex: [Int] = []
        if !unsigned.isEmpty {
            let key = key
            let signing = Ingest.parallelKept(unsigned) { i throws(LedgerError) -> ImportUnit.Checked in
                let record = map.withResult(i) { (try? $0?.get())?.record } ?? InputRecord(line: 0, failure: LedgerError(.storage, "internal: a record was not read"))
                return try ImportPreparer.check(record, actor: actor, key: key, keys: keys, file: file)
            }
            kept.append(signing)
            later = signing
            laterIndex = Array(repeating: -1, count: count)
            for (place, i) in unsigned.enumerated() { laterIndex[i] = place }
        }
        let singles = ImportUnit.Singles(map: map, count: count, later: later, laterIndex: laterIndex)
        var eventKeys: [EventKey] = [], packs: [String] = []
        eventKeys.reserveCapacity(count)
        packs.reserveCapacity(count)
        for i in 0..<count {
            guard let event = singles.event(i) else { continue }
            eventKeys.append(event.eventKey)
            if let pack = event.pack { packs.append(pack) }
        }
        return .singles(singles, committed: startLookUp(eventKeys, packs: packs))
    }

    /// A record's signed event and, when its key is registered, whether the signature holds.
    /// Keys cannot change during an import (registry entries are not imported), so the verdict
    /// made with the keys of the transaction's start is final.
    private static func check(_ record: InputRecord, actor: String?, key: Ed25519PrivateKey?, keys: [String: KeyState], file: String) throws(LedgerError) -> ImportUnit.Checked {
        let s = try Ingest.signedEvent(record, actor: actor, key: key, file: file)
        return (s, keys[s.keyID].map { $0.publicKey.isValidSignature(s.signature, forEvent: s.bytes) })
    }

    /// The event key a record names, if it names a valid one (a record that does not fails later).
    private static func eventKey(_ record: InputRecord) -> EventKey? {
        record["event_id"]?.stringValue.flatMap(EventKey.init(uuid:))
    }

    /// Starts looking `keys` and `packs` up in the ledger as committed before the import, on a
    /// thread of its own, beside the parsing and checking of the next unit (a batch's, beside its
    /// members'). Lookups share one connection, so each waits for the one before it.
    private func startLookUp(_ keys: [EventKey], packs: [String]) -> ImportUnit.LookUp {
        guard let committed else { return ImportUnit.LookUp(job: nil) }
        let previous = lastLookUp
        let job = BackgroundJob { () -> Result<ImportUnit.Committed, LedgerError> in
            // One connection: a lookup starts once the one before it is done.
            _ = previous?.wait()
            do throws(LedgerError) {
                return .success(ImportUnit.Committed(found: try committed.records(keys), packs: try committed.packs(packs), complete: true))
            } catch {
                return .failure(error)
            }
        }
        lastLookUp = job
        return ImportUnit.LookUp(job: job)
    }

    /// The lookup started last; each waits for the one before it.
    private var lastLookUp: BackgroundJob<Result<ImportUnit.Committed, LedgerError>>?

    /// Waits until no lookup uses the connection (before it is closed). Call with no unit being
    /// read.
    func waitForLookUps() {
        _ = lastLookUp?.wait()
    }

    /// The pack a record names, if any (one that is not valid fails later).
    private static func packID(_ record: InputRecord) -> String? {
        record["pack"]?.stringValue
    }

    /// Reads a batch's events after its manifest line and checks that they hash to its root.
    private func batchUnit(_ record: InputRecord) throws(LedgerError) -> ImportUnit {
        let file = reader.name
        let here = ErrorLocation(file: file, line: record.line)
        guard record["signature"] != nil else {
            throw LedgerError(.malformed, "a batch manifest must be signed", at: here)
        }
        let manifest: SignedEvent
        let declared: (count: UInt64, root: Digest)
        do throws(LedgerError) {
            manifest = try Ingest.signedEvent(record, actor: nil, key: nil, file: file)
            declared = try Rules.manifest(of: manifest.event)
        } catch {
            throw error.located(file: file, line: record.line)
        }
        var memberRecords: [InputRecord] = []
        while UInt64(memberRecords.count) < declared.count {
            let more = try reader.nextChunk(Int(declared.count) - memberRecords.count)
            guard !more.isEmpty else {
                throw LedgerError(.malformed, "the batch declares \(declared.count) events but the input ends after \(memberRecords.count)", at: here)
            }
            memberRecords.append(contentsOf: more)
        }
        let batchActor = manifest.event.actor
        let lookUp = startLookUp([manifest.event.eventKey] + memberRecords.compactMap(ImportPreparer.eventKey),
                                 packs: memberRecords.compactMap(ImportPreparer.packID))
        let members = try Ingest.parallelMap(memberRecords) { member throws(LedgerError) -> ImportUnit.BatchMember in
            let at = ErrorLocation(file: file, line: member.line)
            guard member["signature"] == nil, member["key_id"] == nil else {
                throw LedgerError(.malformed, "an event inside a batch carries no signature of its own", at: at)
            }
            do throws(LedgerError) {
                let event = try Ingest.event(member, defaultActor: batchActor, file: file)
                guard !event.kind.isRegistry, event.kind != .batch else {
                    throw LedgerError(.malformed, "\(event.kind.rawValue) cannot be part of a batch", at: at)
                }
                let bytes = Ingest.eventBytes(member, event)
                return (event, bytes, member.line, SignedEvent.batchLeaf(bytes))
            } catch {
                throw error.located(file: file, line: member.line)
            }
        }
        var acc = Merkle.RootAccumulator()
        for m in members { acc.append(m.leaf) }
        guard acc.root == declared.root else {
            throw LedgerError(.badSignature, "the \(declared.count) events after this manifest do not hash to its signed root", at: here)
        }
        let verdict = keys[manifest.keyID].map { $0.publicKey.isValidSignature(manifest.signature, forEvent: manifest.bytes) }
        return .batch(manifest: manifest, line: record.line, verdict: verdict, members: members,
                      committed: try lookUp.get())
    }
}

extension Ledger {
    /// Imports a whole file in one transaction: every record is appended or, at the first bad
    /// one, nothing is and the error names its line. Records already in the ledger with the same
    /// content are skipped, so importing a file twice adds nothing the second time.
    ///
    /// Two stages: the next unit of records is read and prepared (parsing, canonical bytes,
    /// signatures, batch roots) on other threads while this one appends the current unit.
    public func importRecords(from reader: RecordReader, actor: String? = nil, key: Ed25519PrivateKey? = nil, chunkSize: Int = 4096,
                              progress: ((IngestProgress) -> Void)? = nil) throws(LedgerError) -> ImportSummary {
        let start = Date()
        let total = reader.progress.total
        // Runs once the transaction has committed, after the fsyncs it overlaps.
        var commitSync: SyncLoop?
        defer { commitSync?.stop() }
        return try writeTransaction { () throws(LedgerError) -> ImportSummary in
            var summary = ImportSummary()
            func count(_ result: AppendResult) {
                if result.isNew {
                    summary.appended += 1
                    if summary.firstSeq == nil { summary.firstSeq = result.seq }
                    summary.lastSeq = result.seq
                } else {
                    summary.duplicates += 1
                }
            }
            // Opened now, inside the write transaction, so its snapshot is the ledger before this
            // import. Without it (it cannot be opened) the appends simply probe for themselves.
            let committed = try? CommittedEvents(path: db.path)
            if committed != nil { state.useCommittedHints() }
            // Runs after the read-ahead job below has finished with it, and before the commit.
            defer { committed?.close() }
            // Entries, index rows and tree nodes are written on a thread of their own while this
            // one appends. On an error the writer stops before the transaction rolls back.
            if state.backgroundWritesEnabled { state.startBackgroundWrites() }
            defer { state.abandonBackgroundWrites() }
            let preparer = ImportPreparer(reader: reader, actor: actor, key: key, keys: try state.allKeys(), chunkSize: chunkSize, committed: committed)
            // After the read-ahead job below has finished, before the connection closes.
            defer { preparer.waitForLookUps() }
            let file = reader.name
            /// Starts preparing the next unit. The unit just appended goes with the job and is
            /// freed there, off this thread: appending bounds a batch import, and a unit's many
            /// small objects take a good part of that time to free.
            func prepareNext(retiring retired: (unit: ImportUnit, maps: [any Reclaimable])?) -> BackgroundJob<(unit: ImportUnit, read: Int, maps: [any Reclaimable])?> {
                BackgroundJob {
                    // What the parsing and checking threads made is freed by them (`Reclaimer`).
                    for map in retired?.maps ?? [] { map.retire() }
                    Reclaimer.shared.endGeneration()
                    _ = consume retired
                    return preparer.next()
                }
            }
            // Last (after the read-ahead job below has finished): what the threads that made it
            // have not freed yet.
            defer { Reclaimer.shared.collectAll() }
            var pending = prepareNext(retiring: nil)
            // On an error, the job reading ahead is let finish before the reader goes back.
            defer { _ = pending.wait() }
            var retired: (unit: ImportUnit, maps: [any Reclaimable])?
            while let (unit, read, maps) = pending.wait() ?? nil {
                pending = prepareNext(retiring: retired)
                retired = nil
                defer { retired = (unit, maps) }
                switch unit {
                case .failure(let error):
                    throw error
                case .singles(let singles, let lookUp):
                    let committed = try lookUp.get()
                    for i in 0..<singles.count {
                        if i + ImportPreparer.lookAhead < singles.count, let ahead = singles.event(i + ImportPreparer.lookAhead) {
                            state.prefetchLookup(ahead.eventKey)
                        }
                        do throws(LedgerError) {
                            let p = try singles.checked(i).get()
                            hint(committed, for: p.event.event)
                            count(try appendInTransaction(p.event, signatureValid: p.verdict))
                        } catch {
                            throw error.located(file: file, line: singles.line(i))
                        }
                    }
                    summary.records += singles.count
                case .batch(let manifest, let line, let verdict, let members, let committed):
                    try appendBatch(manifest: manifest, line: line, verdict: verdict, members: members, committed: committed, file: file, count: count)
                    summary.records += 1 + members.count
                }
                progress?(IngestProgress(records: summary.records, bytesRead: read, totalBytes: total, elapsed: Date().timeIntervalSince(start)))
            }
            // An empty export is almost always a failed one; saying so beats "imported 0 of 0".
            guard summary.records > 0 else {
                throw LedgerError(.malformed, "the input holds no records", at: ErrorLocation(file: file))
            }
            try state.finishBackgroundWrites()
            // The commit writes the cache's last pages to the WAL and then (SQLite's automatic
            // checkpoint) copies the WAL into the database file: each ends in an fsync.
            commitSync = SyncLoop(paths: [db.path + "-wal", db.path], interval: 0.02)
            return summary
        }
    }

    /// Tells the state what the ledger held, before the import, for `event`'s id and pack.
    private func hint(_ committed: ImportUnit.Committed, for event: Event) {
        state.committedHint = committed.hint(event.eventKey)
        state.packHint = committed.packHint(event.pack)
    }

    /// Appends a prepared batch: the manifest, then its events directly after it.
    private func appendBatch(manifest: SignedEvent, line: Int, verdict: Bool?, members: [ImportUnit.BatchMember],
                             committed: ImportUnit.Committed, file: String, count: (AppendResult) -> Void) throws(LedgerError) {
        let result: AppendResult
        do throws(LedgerError) {
            hint(committed, for: manifest.event)
            result = try appendInTransaction(manifest, signatureValid: verdict)
        } catch {
            throw error.located(file: file, line: line)
        }
        count(result)
        for (i, m) in members.enumerated() {
            if i + ImportPreparer.lookAhead < members.count { state.prefetchLookup(members[i + ImportPreparer.lookAhead].event.eventKey) }
            let at = ErrorLocation(file: file, line: m.line)
            hint(committed, for: m.event)
            if !result.isNew {
                // The manifest was imported before: every event must be there already, unchanged.
                guard let existing = try state.eventRecord(m.event.eventKey), existing.eventHash == SHA256.hash(m.bytes) else {
                    throw LedgerError(.conflict, "this batch was imported before, but event \(m.event.eventID) differs from it", at: at)
                }
                count(AppendResult(seq: existing.seq, isNew: false))
                continue
            }
            let signed = SignedEvent(event: m.event, bytes: m.bytes, keyID: manifest.keyID, signature: [],
                                     batch: BatchRef(manifest: result.seq, index: UInt64(i)))
            let appended: AppendResult
            do throws(LedgerError) {
                // The root matched and the manifest's signature was checked when it was appended.
                appended = try appendInTransaction(signed, signatureValid: true)
            } catch {
                throw error.located(file: file, line: m.line)
            }
            guard appended.isNew else {
                throw LedgerError(.conflict, "event \(m.event.eventID) is already entry \(appended.seq); a batch must consist of new events", at: at)
            }
            count(appended)
        }
    }
}
