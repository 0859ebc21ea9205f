/// One ledger entry: the exact stored bytes and the fields decoded from them.
///
/// Layout (Schema/FORMAT.md §3), UTF-8, lines ending in a single `\n`:
///
///     packledger/entry/v1
///     seq <decimal>
///     time <YYYY-MM-DDTHH:MM:SS.ffffffZ>
///     prev <64 lowercase hex>
///     key <16 lowercase hex>
///     sig <base64 of 64 bytes>
///     <empty line>
///     <event: RFC 8785 JSON, no trailing newline>
public struct Entry: Sendable {
    /// Position in the log, from 0.
    public let seq: UInt64
    /// When the ledger recorded it.
    public let recordedAt: Timestamp
    /// Hash of the previous entry (zero for entry 0).
    public let prev: Digest
    /// Id of the key that signed the event.
    public let keyID: String
    /// The actor's Ed25519 signature over `Event.signedMessage(eventBytes)`.
    public let signature: [UInt8]
    /// The event's canonical JSON bytes.
    public let eventBytes: [UInt8]
    /// The whole entry as stored.
    public let bytes: [UInt8]
    /// RFC 6962 leaf hash of `bytes`: SHA-256(0x00 ‖ bytes). Chains entries and is the Merkle leaf.
    public let hash: Digest

    static let magic = "packledger/entry/v1"

    /// Builds the bytes of a new entry.
    public init(seq: UInt64, recordedAt: Timestamp, prev: Digest, keyID: String, signature: [UInt8], eventBytes: [UInt8]) {
        let header = "\(Entry.magic)\nseq \(seq)\ntime \(recordedAt.rfc3339Micros)\nprev \(prev.hex)\nkey \(keyID)\nsig \(Base64.encode(signature))\n\n"
        var bytes = Array(header.utf8)
        bytes.append(contentsOf: eventBytes)
        self.seq = seq
        self.recordedAt = recordedAt
        self.prev = prev
        self.keyID = keyID
        self.signature = signature
        self.eventBytes = eventBytes
        self.bytes = bytes
        self.hash = Entry.leafHash(bytes)
    }

    /// SHA-256(0x00 ‖ bytes).
    public static func leafHash(_ bytes: [UInt8]) -> Digest { SHA256.hash([0], bytes) }

    /// Decodes stored bytes strictly: any deviation from the layout is an integrity fault.
    public init(decoding bytes: [UInt8]) throws(LedgerError) {
        func fail(_ why: String) -> LedgerError { LedgerError(.integrity, "entry bytes are malformed: \(why)") }
        var lines: [[UInt8]] = []
        var start = 0
        var i = 0
        while lines.count < 7 {
            guard i < bytes.count else { throw fail("header ends early") }
            if bytes[i] == UInt8(ascii: "\n") {
                lines.append(Array(bytes[start..<i]))
                start = i + 1
            }
            i += 1
        }
        func field(_ index: Int, _ name: String) throws(LedgerError) -> String {
            let line = lines[index]
            let prefix = Array((name + " ").utf8)
            guard line.count > prefix.count, Array(line.prefix(prefix.count)) == prefix,
                  let text = String(validating: line.dropFirst(prefix.count), as: UTF8.self)
            else { throw fail("line \(index + 1) should start with \"\(name) \"") }
            return text
        }
        guard lines[0] == Array(Entry.magic.utf8) else { throw fail("first line is not \(Entry.magic)") }
        let seqText = try field(1, "seq")
        guard let seq = UInt64(seqText), String(seq) == seqText else { throw fail("bad sequence number") }
        let timeText = try field(2, "time")
        guard timeText.utf8.count == 27, let time = Timestamp(rfc3339: timeText), time.rfc3339Micros == timeText else {
            throw fail("bad record time")
        }
        let prevText = try field(3, "prev")
        guard let prevBytes = Hex.decode(prevText), let prev = Digest(prevBytes), prev.hex == prevText else {
            throw fail("bad prev hash")
        }
        let keyID = try field(4, "key")
        guard keyID.utf8.count == 16, let keyBytes = Hex.decode(keyID), Hex.encode(keyBytes) == keyID else {
            throw fail("bad key id")
        }
        let sigText = try field(5, "sig")
        guard let signature = Base64.decode(sigText), signature.count == 64 else { throw fail("bad signature encoding") }
        guard lines[6].isEmpty else { throw fail("no blank line after the header") }
        self.seq = seq
        self.recordedAt = time
        self.prev = prev
        self.keyID = keyID
        self.signature = signature
        self.eventBytes = Array(bytes[start...])
        self.bytes = bytes
        self.hash = Entry.leafHash(bytes)
    }
}
