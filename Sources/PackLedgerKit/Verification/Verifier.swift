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
    /// With `trusted`, a checkpoint the caller kept from an earlier visit, the ledger must also
    /// extend it: same root at its size, and at least that many entries. Every checkpoint stored
    /// in the ledger must be signed by an operator key and match the replayed tree, and the
    /// stored tree must give the replayed root.
    public func verify(_ ledger: Ledger, trusted: Checkpoint? = nil) throws(LedgerError) -> VerifyReport {
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
            return VerifyReport(origin: report.origin, entries: report.entries, root: report.root, headHash: report.headHash,
                                checkpoints: stored.count, parties: report.parties, packs: report.packs)
        }
    }

    private func run(_ db: Database, rootsAt sizes: Set<UInt64>) throws(LedgerError) -> (VerifyReport, [UInt64: Digest], MemoryState) {
        var roots: [UInt64: Digest] = [:]
        let state = MemoryState()
        var acc = Merkle.RootAccumulator()
        var expected: UInt64 = 0
        var prev = Digest.zero
        var lastRecorded = Timestamp(nanoseconds: 0)
        let rows = try db.prepare("SELECT seq, bytes, prev_hash, hash FROM entries ORDER BY seq")
        while try rows.step() {
            let seq = UInt64(bitPattern: rows.int64(0))
            func fault(_ reason: String, _ code: LedgerError.Code = .integrity) -> LedgerError {
                LedgerError(code, reason, at: ErrorLocation(entry: expected))
            }
            guard seq == expected else {
                throw seq > expected
                    ? fault("entry \(expected) is missing (the next stored entry is \(seq))")
                    : fault("stored sequence number \(seq) is out of order")
            }
            let bytes = rows.blob(1)
            let entry: Entry
            do {
                entry = try Entry(decoding: bytes)
            } catch {
                throw error.located(entry: expected)
            }
            guard entry.seq == seq else { throw fault("the entry bytes say seq \(entry.seq), stored as \(seq)") }
            guard rows.blob(3) == entry.hash.bytes else {
                throw fault("stored hash does not match the entry bytes (computed \(entry.hash.hex))")
            }
            guard rows.blob(2) == entry.prev.bytes else { throw fault("stored prev_hash does not match the entry bytes") }
            guard entry.prev == prev else {
                throw fault("prev is \(entry.prev.hex) but entry \(seq == 0 ? "-" : String(seq - 1)) hashes to \(prev.hex): the chain is broken")
            }
            guard entry.recordedAt >= lastRecorded else { throw fault("record time goes backwards") }
            let json: JSONValue
            do {
                json = try JSONParser.parse(entry.eventBytes)
            } catch {
                throw fault("event bytes are not valid JSON: \(error)")
            }
            // One encoding per event: anything else would let the same statement hash two ways.
            guard CanonicalJSON.encode(json) == entry.eventBytes else {
                throw fault("event bytes are not in RFC 8785 canonical form")
            }
            let event: Event
            do {
                event = try Event(json: json)
            } catch {
                throw error.located(entry: expected)
            }
            let signed = SignedEvent(event: event, bytes: entry.eventBytes, keyID: entry.keyID, signature: entry.signature)
            let judgement: Judgement
            do {
                judgement = try Rules.judge(signed, seq: seq, recordedAt: entry.recordedAt, state: state)
            } catch {
                throw error.located(entry: expected)
            }
            switch judgement {
            case .duplicate(let first):
                throw fault("event_id \(event.eventID) repeats entry \(first)", .conflict)
            case .accept(let effects):
                state.apply(effects, event: event, record: EventRecord(seq: seq, eventHash: SHA256.hash(entry.eventBytes)))
            }
            acc.append(entry.hash)
            if sizes.contains(acc.count) { roots[acc.count] = acc.root }
            prev = entry.hash
            lastRecorded = entry.recordedAt
            expected += 1
            if let progress, expected % progressInterval == 0 { progress(expected) }
        }
        guard expected > 0, let origin = state.origin else {
            throw LedgerError(.integrity, "the ledger has no entries (entry 0, ledger.init, is missing)", at: ErrorLocation(entry: 0))
        }
        let report = VerifyReport(origin: origin, entries: expected, root: acc.root, headHash: prev,
                                  checkpoints: 0, parties: state.parties.count, packs: state.packs.count)
        return (report, roots, state)
    }
}
