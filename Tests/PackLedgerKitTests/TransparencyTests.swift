import Foundation
import Testing
@testable import PackLedgerKit

@Suite("Checkpoints, proofs, bundles, witnesses")
struct TransparencyTests {
    /// A ledger with a repurposed pack and its second-life successor, and a checkpoint.
    static func lineageWorld() throws -> World {
        let world = try World(parties: [("maker", [.manufacturer]), ("oem", [.oem]), ("rep", [.repurposer])])
        try world.record("produced", pack: "ORIG", actor: "maker", at: "2024-01-10T08:00:00Z", data: ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50])
        try world.record("installed", pack: "ORIG", actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000001"])
        try world.record("removed", pack: "ORIG", actor: "oem", at: "2025-02-10T08:00:00Z", data: ["reason": "end-of-life"])
        try world.record("repurposed", pack: "ORIG", actor: "rep", at: "2025-03-10T08:00:00Z", data: ["into": "SL"])
        try world.record("produced", pack: "SL", actor: "rep", at: "2025-04-10T08:00:00Z", data: ["category": "industrial", "chemistry": "lfp", "mass_kg": 320, "energy_kwh": 40, "derived_from": ["ORIG"]])
        return world
    }

    @Test func storedTreeMatchesRecomputedRootsAndProofsVerify() throws {
        let world = try Self.lineageWorld()
        let size = try world.ledger.size()
        let leaves = try (0..<size).map { try world.ledger.entry($0).hash }
        let memory = InMemoryTree(leaves: leaves)
        for n in 1...size {
            #expect(try world.ledger.root(size: n) == memory.root(size: n))
            for i in 0..<n {
                #expect(try world.ledger.inclusionProof(seq: i, size: n) == memory.inclusionProof(index: i, size: n))
            }
            #expect(try world.ledger.consistencyProof(oldSize: 1, newSize: n) == memory.consistencyProof(oldSize: 1, newSize: n))
        }
    }

    @Test func checkpointIsSignedByTheOperatorAndStored() throws {
        let world = try Self.lineageWorld()
        let stored = try world.ledger.checkpoint(signingWith: world.operatorKey)
        let signed = try SignedCheckpoint(bytes: stored.note, logKey: world.ledger.logKey())
        #expect(signed.checkpoint.size == (try world.ledger.size()))
        #expect(signed.checkpoint.root == (try world.ledger.info().root))
        #expect(try world.ledger.latestCheckpoint()?.note == stored.note)
        let intruder = try Ed25519PrivateKey.generate()
        #expect(throws: LedgerError.self) { try world.ledger.checkpoint(signingWith: intruder) }
        #expect(try Verifier().verify(world.ledger).checkpoints == 1)
    }

    static func witnessedBundle() throws -> (World, [UInt8], NoteVerifierKey, NoteVerifierKey) {
        let world = try Self.lineageWorld()
        let stored = try world.ledger.checkpoint(signingWith: world.operatorKey)
        let witness = try Ed25519PrivateKey.generate()
        let note = try Note(parsing: stored.note)
        let cosig = try Note.cosign(text: note.text, name: "w.example/1", key: witness, timestamp: 1_700_000_000)
        let cosigned = Note(text: note.text, signatures: note.signatures + [cosig]).bytes
        let bundle = try EvidenceBundle.build(ledger: world.ledger, pack: "SL", checkpointNote: cosigned)
        return (world, bundle, try world.ledger.logKey(), NoteVerifierKey(name: "w.example/1", type: .cosignature, key: witness.publicKey))
    }

    @Test func bundleVerifiesOfflineWithWitnesses() throws {
        let (_, bundle, logKey, witness) = try Self.witnessedBundle()
        let report = try EvidenceBundle.verify(bundle, trust: logKey, witnesses: [witness], minWitnesses: 1)
        #expect(report.pack == "SL" && report.status == .new)
        #expect(report.history.map(\.kind) == [.produced])
        #expect(report.witnesses == [witness])
        // Entry 0, the three parties and both packs' events: the lineage travels with it.
        #expect(report.entries == 1 + 3 + 5)
        let other = NoteVerifierKey(name: "w.example/2", type: .cosignature, key: try Ed25519PrivateKey.generate().publicKey)
        #expect(throws: LedgerError.self) { try EvidenceBundle.verify(bundle, trust: logKey, witnesses: [other], minWitnesses: 1) }
        let stranger = NoteVerifierKey(name: logKey.name, type: .ed25519, key: try Ed25519PrivateKey.generate().publicKey)
        #expect(throws: LedgerError.self) { try EvidenceBundle.verify(bundle, trust: stranger) }
    }

    /// Acceptance: a bundle with one byte changed anywhere is rejected. Every position is
    /// flipped in its lowest bit, every third also in bit 5 (letters' case, digits to symbols).
    @Test func everySingleByteChangeOfABundleIsRejected() throws {
        let (_, bundle, logKey, witness) = try Self.witnessedBundle()
        var accepted: [Int] = []
        for position in bundle.indices {
            for mask: UInt8 in position % 3 == 0 ? [0x01, 0x20] : [0x01] {
                var tampered = bundle
                tampered[position] ^= mask
                if (try? EvidenceBundle.verify(tampered, trust: logKey, witnesses: [witness], minWitnesses: 1)) != nil {
                    accepted.append(position)
                }
            }
        }
        #expect(accepted.isEmpty, "accepted after changing bytes at \(accepted.prefix(10))")
        #expect(throws: LedgerError.self) { try EvidenceBundle.verify(bundle + Array("garbage".utf8), trust: logKey) }
        #expect(throws: LedgerError.self) { try EvidenceBundle.verify(Array(bundle.dropLast(10)), trust: logKey) }
    }

    @Test func swappedCheckpointsAndWrongIndexesAreRejected() throws {
        let world = try Self.lineageWorld()
        let first = try world.ledger.checkpoint(signingWith: world.operatorKey)
        try world.record("installed", pack: "SL", actor: "rep", at: "2025-05-10T08:00:00Z", data: ["asset": "BESS-1"])
        let second = try world.ledger.checkpoint(signingWith: world.operatorKey)
        let logKey = try world.ledger.logKey()
        // A bundle whose (validly signed) checkpoint was swapped for another one.
        let bundle = try EvidenceBundle.build(ledger: world.ledger, pack: "ORIG", checkpointNote: first.note)
        let firstText = String(decoding: first.note, as: UTF8.self), secondText = String(decoding: second.note, as: UTF8.self)
        let swapped = String(decoding: bundle, as: UTF8.self).replacingOccurrences(of: CanonicalJSON.encodeString(.string(firstText)), with: CanonicalJSON.encodeString(.string(secondText)))
        #expect(swapped != String(decoding: bundle, as: UTF8.self))
        let error = #expect(throws: LedgerError.self) { try EvidenceBundle.verify(Array(swapped.utf8), trust: logKey) }
        #expect(error?.reason.contains("inclusion proof does not verify") == true)
        // tlog-proof: the right proof under the wrong index, and under the other checkpoint.
        let entry = try world.ledger.entry(5)
        let proof = try world.ledger.inclusionProof(seq: 5, size: first.checkpoint.size)
        let good = TlogProof(extra: entry.bytes, index: 5, proof: proof, note: first.note)
        #expect(try good.verify(trust: logKey).1.seq == 5)
        #expect(throws: LedgerError.self) { try TlogProof(extra: entry.bytes, index: 6, proof: proof, note: first.note).verify(trust: logKey) }
        #expect(throws: LedgerError.self) { try TlogProof(extra: try world.ledger.entry(6).bytes, index: 6, proof: proof, note: first.note).verify(trust: logKey) }
        #expect(throws: LedgerError.self) { try TlogProof(extra: entry.bytes, index: 5, proof: proof, note: second.note).verify(trust: logKey) }
        #expect(try TlogProof(parsing: good.bytes).bytes == good.bytes)
    }

    @Test func truncatedOrRewrittenLedgerFailsAgainstATrustedCheckpoint() throws {
        let world = try Self.lineageWorld()
        let trusted = try world.ledger.checkpoint(signingWith: world.operatorKey).checkpoint
        #expect(try Verifier().verify(world.ledger, trusted: trusted).entries == trusted.size)
        try world.ledger.db.execute("DROP TRIGGER entries_no_delete; DROP TRIGGER tree_no_delete; DROP TRIGGER checkpoints_no_delete;")
        // Truncate: drop the last two entries (and their events and tree nodes, as a careful forger would).
        try world.ledger.db.execute("DELETE FROM entries WHERE seq >= \(trusted.size - 2); DELETE FROM event_ids WHERE seq >= \(trusted.size - 2); DELETE FROM pack_entries WHERE seq >= \(trusted.size - 2); DELETE FROM tree;")
        let stillStored = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger) }
        #expect(stillStored?.reason.contains("removed from the end") == true)
        try world.ledger.db.execute("DELETE FROM checkpoints")
        let truncated = #expect(throws: LedgerError.self) { try Verifier().verify(world.ledger, trusted: trusted) }
        #expect(truncated?.reason.contains("truncated") == true)
    }

    /// Issue 6: the operator's key rotation is in the ledger, and checkpoints under the old and
    /// the new key both verify.
    @Test func operatorKeyRotation() throws {
        let world = try Self.lineageWorld()
        let old = world.operatorKey, new = try Ed25519PrivateKey.generate()
        let cpOld = try world.ledger.checkpoint(signingWith: old)
        // The new key is added by an entry the old one signs.
        _ = try world.registry(.partyKeyAdded, party: "operator", data: ["key": .string(Base64.encode(new.publicKey.raw))])
        func operatorEntry(_ kind: EventKind, _ data: [String: JSONValue], signedBy key: Ed25519PrivateKey) throws -> AppendResult {
            let json: JSONValue = .object(["event_id": .string(UUID().uuidString.lowercased()), "kind": .string(kind.rawValue), "actor": "operator",
                                           "party": "operator", "at": .string(Timestamp.now().rfc3339), "data": .object(data)])
            return try world.ledger.append(SignedEvent(signing: Event(json: json), with: key))
        }
        // The old key cannot revoke itself; the new one revokes it.
        let selfRevoke = #expect(throws: LedgerError.self) { try operatorEntry(.partyKeyRevoked, ["key_id": .string(old.publicKey.keyID)], signedBy: old) }
        #expect(selfRevoke?.code == .conflict)
        _ = try operatorEntry(.partyKeyRevoked, ["key_id": .string(old.publicKey.keyID)], signedBy: new)
        #expect(try world.ledger.info().operatorKey == new.publicKey)
        // Afterwards the old key signs nothing: neither checkpoints nor registry entries.
        #expect(throws: LedgerError.self) { try world.ledger.checkpoint(signingWith: old) }
        let stale = #expect(throws: LedgerError.self) { try world.register("late", roles: [.oem]) }
        #expect(stale?.code == .invalidKey)
        try world.record("installed", pack: "SL", actor: "rep", at: "2025-05-10T08:00:00Z", data: ["asset": "BESS-1"])
        let cpNew = try world.ledger.checkpoint(signingWith: new)
        #expect(try Verifier().verify(world.ledger, deep: true).checkpoints == 2)
        #expect(try Verifier().verify(world.ledger, trusted: cpOld.checkpoint).entries == cpNew.checkpoint.size)
        // A bundle under the new key verifies: entry 0 names the old key, the rotation entries
        // travel with it.
        let bundle = try EvidenceBundle.build(ledger: world.ledger, pack: "SL")
        let newVKey = NoteVerifierKey(name: cpNew.checkpoint.origin, type: .ed25519, key: new.publicKey)
        #expect(try EvidenceBundle.verify(bundle, trust: newVKey).status == .inService)
        let stranger = NoteVerifierKey(name: cpNew.checkpoint.origin, type: .ed25519, key: try Ed25519PrivateKey.generate().publicKey)
        #expect(throws: LedgerError.self) { try EvidenceBundle.verify(bundle, trust: stranger) }
    }

    @Test func witnessRefusesOlderAndForkedCheckpoints() throws {
        let dir = try TemporaryDirectory()
        let world = try Self.lineageWorld()
        let logKey = try world.ledger.logKey()
        // A fork: a copy of the ledger that records something else from the same state.
        let cp1 = try world.ledger.checkpoint(signingWith: world.operatorKey)
        try world.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try FileManager.default.copyItem(atPath: world.path, toPath: dir.path("fork.db"))
        let fork = try Ledger(path: dir.path("fork.db"))
        try world.record("installed", pack: "SL", actor: "rep", at: "2025-05-10T08:00:00Z", data: ["asset": "BESS-1"])
        let cp2 = try world.ledger.checkpoint(signingWith: world.operatorKey)
        let forkEvent = world.event("installed", pack: "SL", actor: "rep", at: "2025-05-10T08:00:00Z", data: ["asset": "BESS-2"])
        try fork.append(SignedEvent(signing: Event(json: forkEvent), with: try #require(world.keys["rep"])))
        let forked = try fork.checkpoint(signingWith: world.operatorKey)
        #expect(forked.checkpoint.size == cp2.checkpoint.size && forked.checkpoint.root != cp2.checkpoint.root)

        let witnessKey = try Ed25519PrivateKey.generate()
        try KeyFiles.write(witnessKey, to: dir.path("w.key"))
        let state = dir.path("w.json")
        try Witness.initialize(statePath: state, name: "w.example/1", keyFile: dir.path("w.key"), log: logKey.description)
        _ = try Witness.cosign(checkpointNote: cp1.note, statePath: state, proof: [], now: 1)
        // Extending without a proof is refused; with the main branch's proof it is cosigned.
        #expect(throws: LedgerError.self) { try Witness.cosign(checkpointNote: cp2.note, statePath: state, proof: [], now: 2) }
        let goodProof = try world.ledger.consistencyProof(oldSize: cp1.checkpoint.size, newSize: cp2.checkpoint.size)
        let cosig = try Witness.cosign(checkpointNote: cp2.note, statePath: state, proof: goodProof, now: 3)
        let cp2Note = try Note(parsing: cp2.note)
        let cosigned = Note(text: cp2Note.text, signatures: cp2Note.signatures + [cosig]).bytes
        #expect(try SignedCheckpoint(bytes: cosigned, logKey: logKey).verifiedWitnesses([try Witness.verifierKey(statePath: state)]).count == 1)
        // Once cp2 is witnessed, the forked checkpoint of the same size is refused,
        let forkProof = try fork.consistencyProof(oldSize: cp1.checkpoint.size, newSize: forked.checkpoint.size)
        let sameSize = #expect(throws: LedgerError.self) { try Witness.cosign(checkpointNote: forked.note, statePath: state, proof: forkProof, now: 4) }
        #expect(sameSize?.reason.contains("forked") == true)
        // and so is anything older,
        let older = #expect(throws: LedgerError.self) { try Witness.cosign(checkpointNote: cp1.note, statePath: state, proof: [], now: 5) }
        #expect(older?.reason.contains("older") == true)
        // and a larger checkpoint of the fork, with a consistency proof from the fork's own tree.
        try fork.append(SignedEvent(signing: Event(json: world.event("produced", pack: "OTHER", actor: "maker", at: "2025-06-10T08:00:00Z",
                                                                     data: ["category": "ev", "chemistry": "lfp", "mass_kg": 300, "energy_kwh": 50])),
                                    with: try #require(world.keys["maker"])))
        let forkedLater = try fork.checkpoint(signingWith: world.operatorKey)
        let laterProof = try fork.consistencyProof(oldSize: cp2.checkpoint.size, newSize: forkedLater.checkpoint.size)
        let larger = #expect(throws: LedgerError.self) { try Witness.cosign(checkpointNote: forkedLater.note, statePath: state, proof: laterProof, now: 6) }
        #expect(larger?.reason.contains("forked") == true)
        #expect(try Witness.State(bytes: KeyFiles.read(state), path: state).size == cp2.checkpoint.size)
    }
}
