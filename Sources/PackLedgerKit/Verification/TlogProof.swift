/// A c2sp.org/tlog-proof@v1 proof for one entry. PackLedger puts the entry's exact bytes in the
/// `extra` line, so the file alone shows what was logged, and the proof authenticates them.
public struct TlogProof: Sendable {
    /// The header line.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// The entry bytes (the `extra` line), if present.
    public let extra: [UInt8]?
    /// The 0-based leaf index.
    public let index: UInt64
    /// The inclusion proof, leaf sibling first.
    public let proof: [Digest]
    /// The checkpoint note, with any cosignatures.
    public let note: [UInt8]

    /// A proof from its parts.
    public init(extra: [UInt8]?, index: UInt64, proof: [Digest], note: [UInt8]) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.note = note
    }

    /// The text form.
    public var bytes: [UInt8] {
        var text = TlogProof.header + "\n"
        if let extra { text += "extra \(Base64.encode(extra))\n" }
        text += "index \(index)\n"
        for p in proof { text += p.base64 + "\n" }
        return Array((text + "\n").utf8) + note
    }

    /// Parses the text form strictly.
    public init(parsing bytes: [UInt8]) throws(LedgerError) {
        func bad(_ why: String) -> LedgerError { LedgerError(.malformed, "malformed tlog-proof: \(why)") }
        var lines: [String] = []
        var start = 0
        var i = 0
        while true {
            guard i < bytes.count else { throw bad("no blank line before the checkpoint") }
            if bytes[i] == 0x0a {
                let line = String(decoding: bytes[start..<i], as: UTF8.self)
                start = i + 1
                if line.isEmpty { break }
                lines.append(line)
            }
            i += 1
        }
        guard lines.first == TlogProof.header else { throw bad("first line must be \(TlogProof.header)") }
        var rest = lines.dropFirst()
        var extra: [UInt8]?
        if let line = rest.first, line.hasPrefix("extra ") {
            guard let decoded = Base64.decode(line.dropFirst(6)) else { throw bad("extra is not base64") }
            extra = decoded
            rest = rest.dropFirst()
        }
        guard let indexLine = rest.first, indexLine.hasPrefix("index "), let index = UInt64(indexLine.dropFirst(6)),
              String(index) == indexLine.dropFirst(6) else { throw bad("expected \"index N\"") }
        var proof: [Digest] = []
        for line in rest.dropFirst() {
            guard let d = Base64.decode(line).flatMap(Digest.init) else { throw bad("proof lines are base64 of 32 bytes") }
            proof.append(d)
        }
        self.init(extra: extra, index: index, proof: proof, note: Array(bytes[start...]))
    }

    /// Verifies the checkpoint signature, the witnesses and the inclusion of the entry in
    /// `extra`, and decodes that entry. Returns the checkpoint and the entry.
    public func verify(trust: NoteVerifierKey, witnesses: [NoteVerifierKey] = [], minWitnesses: Int = 0) throws(LedgerError) -> (SignedCheckpoint, Entry, [NoteVerifierKey]) {
        let signed = try SignedCheckpoint(bytes: note, logKey: trust)
        let verified = try signed.verifiedWitnesses(witnesses)
        guard verified.count >= minWitnesses else {
            throw LedgerError(.badSignature, "the checkpoint has \(verified.count) valid witness cosignature(s); at least \(minWitnesses) required")
        }
        guard let extra else { throw LedgerError(.malformed, "this proof carries no entry bytes (extra line)") }
        let entry = try Entry(decoding: extra)
        guard entry.seq == index else {
            throw LedgerError(.integrity, "the entry is seq \(entry.seq) but the proof is for index \(index)", at: ErrorLocation(entry: index))
        }
        guard Merkle.verifyInclusion(leaf: entry.hash, index: index, size: signed.checkpoint.size, proof: proof, root: signed.checkpoint.root) else {
            throw LedgerError(.integrity, "the inclusion proof does not verify against the checkpoint (size \(signed.checkpoint.size))", at: ErrorLocation(entry: index))
        }
        return (signed, entry, verified)
    }
}
