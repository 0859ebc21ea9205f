/// An offline evidence bundle for one pack (Schema/FORMAT.md §9): the pack's entries and those
/// of the packs it was made from, the registry entries that establish every actor's keys, each
/// with an inclusion proof, and the checkpoint they are proven against.
public enum EvidenceBundle {
    /// The format tag, first member checked by a verifier.
    public static let format = "packledger-bundle/v1"

    /// What a verified bundle shows.
    public struct Report: Sendable {
        /// The pack.
        public let pack: String
        /// Its status after replaying its events.
        public let status: PackStatus
        /// The checkpoint the entries are proven against.
        public let checkpoint: Checkpoint
        /// Entries in the bundle.
        public let entries: Int
        /// The pack's own events, in order.
        public let history: [Event]
        /// Witnesses whose cosignatures verified.
        public let witnesses: [NoteVerifierKey]
    }

    /// Builds the bundle for `pack` against `checkpointNote` (a note stored in or issued by this
    /// ledger, possibly with witness cosignatures added), or the latest stored checkpoint.
    public static func build(ledger: Ledger, pack: String, checkpointNote: [UInt8]? = nil) throws(LedgerError) -> [UInt8] {
        try ledger.db.readTransaction { () throws(LedgerError) -> [UInt8] in
            let logKey = try ledger.logKey()
            let note: [UInt8]
            if let checkpointNote {
                note = checkpointNote
            } else if let latest = try ledger.latestCheckpoint() {
                note = latest.note
            } else {
                throw LedgerError(.notFound, "the ledger has no checkpoint yet; run `packledger checkpoint` first")
            }
            let signed = try SignedCheckpoint(bytes: note, logKey: logKey)
            let size = signed.checkpoint.size
            guard size <= (try ledger.size()), try ledger.root(size: size) == signed.checkpoint.root else {
                throw LedgerError(.integrity, "the checkpoint does not match this ledger")
            }
            guard try ledger.pack(pack) != nil else { throw LedgerError(.notFound, "pack \(pack) is not in the ledger") }
            // The pack and, transitively, the packs it was made from.
            var packs: [String] = []
            var queue = [pack]
            while let next = queue.popLast() {
                guard !packs.contains(next), let state = try ledger.pack(next) else { continue }
                packs.append(next)
                queue.append(contentsOf: state.derivedFrom)
            }
            var seqs = Set<UInt64>([0])
            var parties = Set<String>()
            for p in packs {
                for item in try ledger.history(p) {
                    seqs.insert(item.entry.seq)
                    parties.insert(item.event.actor)
                    for key in ["to", "producer"] {
                        if let s = item.event.dataValue(key)?.stringValue { parties.insert(s) }
                    }
                }
            }
            let registry = try ledger.db.prepare("SELECT seq FROM party_entries WHERE party = ?")
            // The operator's own key entries too: they show which keys signed the registry and
            // the checkpoint after a rotation.
            parties.insert(Identifiers.operatorID)
            for party in parties.sorted() {
                try registry.bind(party)
                while try registry.step() { seqs.insert(UInt64(registry.int64(0))) }
            }
            // A batch-signed event needs its manifest, and a proof that it is in the batch.
            var batchProofs: [UInt64: [Digest]] = [:]
            var batchLeaves: [UInt64: [Digest]] = [:]
            for seq in seqs.sorted() {
                guard let ref = try ledger.entry(seq).batch else { continue }
                seqs.insert(ref.manifest)
                if batchLeaves[ref.manifest] == nil {
                    let declared = try Rules.manifest(of: Ledger.event(of: ledger.entry(ref.manifest)))
                    var leaves: [Digest] = []
                    for member in 0..<declared.count {
                        leaves.append(SignedEvent.batchLeaf(try ledger.entry(ref.manifest + 1 + member).eventBytes))
                    }
                    batchLeaves[ref.manifest] = leaves
                }
                let tree = InMemoryTree(leaves: batchLeaves[ref.manifest] ?? [])
                batchProofs[seq] = try tree.inclusionProof(index: ref.index, size: UInt64(tree.leaves.count))
            }
            if let last = seqs.max(), last >= size {
                throw LedgerError(.notFound, "entry \(last) is newer than the checkpoint (size \(size)); run `packledger checkpoint` first", at: ErrorLocation(entry: last))
            }
            var entries: [JSONValue] = []
            for seq in seqs.sorted() {
                let entry = try ledger.entry(seq)
                let proof = try ledger.inclusionProof(seq: seq, size: size)
                var item: [String: JSONValue] = [
                    "seq": .number(Double(seq)), "bytes": .string(Base64.encode(entry.bytes)),
                    "proof": .array(proof.map { .string($0.base64) }),
                ]
                if let batchProof = batchProofs[seq] { item["batch_proof"] = .array(batchProof.map { .string($0.base64) }) }
                entries.append(.object(item))
            }
            let bundle: JSONValue = .object([
                "format": .string(format), "pack": .string(pack),
                "checkpoint": .string(String(decoding: note, as: UTF8.self)), "entries": .array(entries),
            ])
            return CanonicalJSON.encode(bundle) + [0x0a]
        }
    }

    /// Verifies a bundle offline with nothing but public keys.
    public static func verify(_ bytes: [UInt8], trust: NoteVerifierKey, witnesses: [NoteVerifierKey] = [], minWitnesses: Int = 0) throws(LedgerError) -> Report {
        func bad(_ why: String, field: String? = nil, entry: UInt64? = nil) -> LedgerError {
            LedgerError(.integrity, why, at: ErrorLocation(field: field, entry: entry))
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes, limits: .init(maxDepth: 8, maxStringBytes: 1 << 20, maxInputBytes: 1 << 30))
        } catch {
            throw LedgerError(.malformed, "the bundle is not valid JSON: \(error)")
        }
        // One byte form per bundle, so that no byte can change without the verifier noticing.
        guard CanonicalJSON.encode(json) + [0x0a] == bytes else {
            throw LedgerError(.malformed, "the bundle is not in canonical form (RFC 8785 JSON and one newline)")
        }
        guard let top = json.objectValue, Set(top.keys) == ["format", "pack", "checkpoint", "entries"] else {
            throw LedgerError(.malformed, "a bundle has exactly the members format, pack, checkpoint, entries")
        }
        guard top["format"]?.stringValue == format else { throw bad("not a \(format) bundle", field: "format") }
        guard let pack = top["pack"]?.stringValue, Identifiers.isPackID(pack) else { throw bad("bad pack id", field: "pack") }
        guard let noteText = top["checkpoint"]?.stringValue else { throw bad("checkpoint must be a string", field: "checkpoint") }
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(bytes: Array(noteText.utf8), logKey: trust)
        } catch {
            throw LedgerError(error.code, "checkpoint: \(error.reason)", at: ErrorLocation(field: "checkpoint"))
        }
        let verifiedWitnesses = try signed.verifiedWitnesses(witnesses)
        guard verifiedWitnesses.count >= minWitnesses else {
            throw LedgerError(.badSignature, "the checkpoint has \(verifiedWitnesses.count) valid witness cosignature(s); at least \(minWitnesses) required", at: ErrorLocation(field: "checkpoint"))
        }
        let checkpoint = signed.checkpoint
        guard let items = top["entries"]?.arrayValue, !items.isEmpty else { throw bad("no entries", field: "entries") }
        let state = MemoryState()
        var previousSeq: UInt64?
        var previousRecorded = Timestamp(nanoseconds: 0)
        var history: [Event] = []
        var manifests: [UInt64: (keyID: String, count: UInt64, root: Digest)] = [:]
        for (i, item) in items.enumerated() {
            let field = "entries[\(i)]"
            guard let object = item.objectValue, Set(object.keys) == ["seq", "bytes", "proof"] || Set(object.keys) == ["seq", "bytes", "proof", "batch_proof"],
                  let seqValue = object["seq"]?.doubleValue, seqValue >= 0, seqValue < 9.007_199_254_740_992e15, seqValue == seqValue.rounded(),
                  let b64 = object["bytes"]?.stringValue, let entryBytes = Base64.decode(b64),
                  let proofItems = object["proof"]?.arrayValue
            else { throw bad("each entry has exactly seq (integer), bytes (base64), proof (list) and, for a batch member, batch_proof (list)", field: field) }
            let seq = UInt64(seqValue)
            var proof: [Digest] = []
            for p in proofItems {
                guard let d = p.stringValue.flatMap({ Base64.decode($0) }).flatMap(Digest.init) else {
                    throw bad("proof hashes are base64 of 32 bytes", field: "\(field).proof", entry: seq)
                }
                proof.append(d)
            }
            guard previousSeq.map({ seq > $0 }) ?? (seq == 0) else {
                throw bad("entries must start with entry 0 and be in increasing order", field: field, entry: seq)
            }
            let entry: Entry
            do {
                entry = try Entry(decoding: entryBytes)
            } catch {
                throw error.located(field: field, entry: seq)
            }
            guard entry.seq == seq else { throw bad("the entry bytes say seq \(entry.seq)", field: field, entry: seq) }
            guard seq < checkpoint.size,
                  Merkle.verifyInclusion(leaf: entry.hash, index: seq, size: checkpoint.size, proof: proof, root: checkpoint.root) else {
                throw bad("the inclusion proof does not verify against the checkpoint (size \(checkpoint.size))", field: "\(field).proof", entry: seq)
            }
            guard entry.recordedAt >= previousRecorded else { throw bad("record time goes backwards", field: field, entry: seq) }
            let event: Event
            let json: JSONValue
            do {
                json = try JSONParser.parse(entry.eventBytes)
            } catch {
                throw bad("event bytes are not valid JSON: \(error)", field: field, entry: seq)
            }
            guard CanonicalJSON.encode(json) == entry.eventBytes else { throw bad("event bytes are not canonical", field: field, entry: seq) }
            do {
                event = try Event(json: json)
            } catch {
                throw error.located(field: field, entry: seq)
            }
            if seq == 0 {
                guard event.dataValue("origin")?.stringValue == checkpoint.origin else {
                    throw bad("entry 0 does not name the trusted origin", field: field, entry: 0)
                }
            }
            let signedEvent: SignedEvent
            var verdict: Bool?
            if let ref = entry.batch {
                // The member's signature is its manifest's, over a root this proof leads to.
                guard seq == ref.manifest + 1 + ref.index else {
                    throw bad("batch member \(ref.index) of entry \(ref.manifest) must be entry \(ref.manifest + 1 + ref.index)", field: field, entry: seq)
                }
                guard let manifest = manifests[ref.manifest], object["batch_proof"] != nil else {
                    throw bad("a batch member needs its manifest (entry \(ref.manifest)) earlier in the bundle and a batch_proof", field: field, entry: seq)
                }
                var batchProof: [Digest] = []
                for p in object["batch_proof"]?.arrayValue ?? [] {
                    guard let d = p.stringValue.flatMap({ Base64.decode($0) }).flatMap(Digest.init) else {
                        throw bad("batch_proof hashes are base64 of 32 bytes", field: "\(field).batch_proof", entry: seq)
                    }
                    batchProof.append(d)
                }
                guard Merkle.verifyInclusion(leaf: SignedEvent.batchLeaf(entry.eventBytes), index: ref.index, size: manifest.count,
                                             proof: batchProof, root: manifest.root) else {
                    throw LedgerError(.badSignature, "the event is not in the signed batch of entry \(ref.manifest)", at: ErrorLocation(field: "\(field).batch_proof", entry: seq))
                }
                signedEvent = SignedEvent(event: event, bytes: entry.eventBytes, keyID: manifest.keyID, signature: [], batch: ref)
                verdict = true
            } else {
                guard object["batch_proof"] == nil else { throw bad("only batch members carry a batch_proof", field: field, entry: seq) }
                signedEvent = SignedEvent(event: event, bytes: entry.eventBytes, keyID: entry.keyID, signature: entry.signature)
            }
            let judgement: Judgement
            do {
                judgement = try Rules.judge(signedEvent, seq: seq, recordedAt: entry.recordedAt, state: state, signatureValid: verdict)
            } catch {
                throw error.located(field: field, entry: seq)
            }
            if event.kind == .batch {
                let declared = try Rules.manifest(of: event)
                manifests[seq] = (entry.keyID, declared.count, declared.root)
            }
            guard case .accept(let effects) = judgement else { throw bad("event_id \(event.eventID) repeats", field: field, entry: seq) }
            state.apply(effects, event: event, record: EventRecord(seq: seq, eventHash: SHA256.hash(entry.eventBytes)))
            if event.pack == pack { history.append(event) }
            previousSeq = seq
            previousRecorded = entry.recordedAt
        }
        // The trusted key must be the operator's: the key of entry 0, or one it (or a successor)
        // added in the registry entries replayed above.
        guard state.keys.values.contains(where: { $0.party == Identifiers.operatorID && $0.publicKey == trust.key }) else {
            throw bad("the trusted key is not an operator key of this ledger", field: "checkpoint")
        }
        guard let final = state.pack(pack) else { throw bad("the bundle has no produced event for pack \(pack)", field: "pack") }
        return Report(pack: pack, status: final.status, checkpoint: checkpoint, entries: items.count, history: history, witnesses: verifiedWitnesses)
    }
}
