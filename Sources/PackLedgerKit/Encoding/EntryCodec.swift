#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a batch-signed event's signature is: the manifest entry and the event's position in it.
public struct BatchRef: Sendable, Equatable {
    /// Sequence number of the `batch` manifest entry.
    public let manifest: UInt64
    /// 0-based position of the event in the batch.
    public let index: UInt64

    /// A reference to position `index` of the batch whose manifest is entry `manifest`.
    public init(manifest: UInt64, index: UInt64) {
        self.manifest = manifest
        self.index = index
    }
}

/// One ledger entry: the exact stored bytes and the fields decoded from them.
///
/// Layout (Schema/FORMAT.md §3), UTF-8, lines ending in a single `\n`:
///
///     packledger/entry/v1
///     seq <decimal>
///     time <YYYY-MM-DDTHH:MM:SS.ffffffZ>
///     prev <64 lowercase hex>
///     key <16 lowercase hex>            ┐ an event signed on its own, or
///     sig <base64 of 64 bytes>          ┘
///     batch <manifest seq> <index>        an event signed as part of a batch (FORMAT.md §13)
///     <empty line>
///     <event: RFC 8785 JSON, no trailing newline>
///
/// A class, though immutable, for the same reason as `Event`: entries travel between threads
/// and through the rules, and a copy is then one reference count instead of one per field.
public final class Entry: Sendable {
    /// Position in the log, from 0.
    public let seq: UInt64
    /// When the ledger recorded it.
    public let recordedAt: Timestamp
    /// Hash of the previous entry (zero for entry 0).
    public let prev: Digest
    /// Id of the key that signed the event; empty for a batch member, whose signature is the
    /// manifest's.
    public let keyID: String
    /// The actor's Ed25519 signature over `Event.signedMessage(eventBytes)`; empty for a batch member.
    public let signature: [UInt8]
    /// For a batch member: its manifest and position.
    public let batch: BatchRef?
    /// The event's canonical JSON bytes.
    public let eventBytes: [UInt8]
    /// The whole entry as stored.
    public let bytes: [UInt8]
    /// RFC 6962 leaf hash of `bytes`: SHA-256(0x00 ‖ bytes). Chains entries and is the Merkle leaf.
    public let hash: Digest

    static let magic = "packledger/entry/v1"
    private static let magicBytes = Array(magic.utf8)

    /// The ranges of up to seven header lines, held inline: an array here cost an allocation
    /// for every entry `verify` decodes.
    private struct HeaderLines {
        /// Where each line ends (its newline); line `i` starts after line `i - 1`'s newline.
        private var ends: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
        private(set) var count = 0

        /// Records the next line, ending at `end`; the caller never appends more than seven.
        mutating func append(end: Int) {
            let index = count
            withUnsafeMutableBytes(of: &ends) { $0.storeBytes(of: end, toByteOffset: index * MemoryLayout<Int>.stride, as: Int.self) }
            count += 1
        }

        private func end(_ i: Int) -> Int {
            withUnsafeBytes(of: ends) { $0.load(fromByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) }
        }

        /// Line `i` (0 ≤ i < count), without its newline.
        subscript(i: Int) -> Range<Int> { (i == 0 ? 0 : end(i - 1) + 1)..<end(i) }

        /// The last line recorded, if any.
        var last: Range<Int>? { count == 0 ? nil : self[count - 1] }
    }

    /// Builds the bytes of a new entry whose event carries its own signature.
    public convenience init(seq: UInt64, recordedAt: Timestamp, prev: Digest, keyID: String, signature: [UInt8], eventBytes: [UInt8]) {
        self.init(seq: seq, recordedAt: recordedAt, prev: prev, keyID: keyID, signature: signature, batch: nil, eventBytes: eventBytes) { bytes in
            bytes.append(contentsOf: "key ".utf8)
            bytes.append(contentsOf: keyID.utf8)
            bytes.append(contentsOf: "\nsig ".utf8)
            Base64.append(signature, to: &bytes)
        }
    }

    /// Builds the bytes of a new batch-member entry.
    public convenience init(seq: UInt64, recordedAt: Timestamp, prev: Digest, batch: BatchRef, eventBytes: [UInt8]) {
        self.init(seq: seq, recordedAt: recordedAt, prev: prev, keyID: "", signature: [], batch: batch, eventBytes: eventBytes) { bytes in
            bytes.append(contentsOf: "batch ".utf8)
            CanonicalJSON.appendDecimal(batch.manifest, to: &bytes)
            bytes.append(UInt8(ascii: " "))
            CanonicalJSON.appendDecimal(batch.index, to: &bytes)
        }
    }

    private static let magicLine = Array("\(magic)\nseq ".utf8)
    private static let timeLabel = Array("\ntime ".utf8)
    private static let prevLabel = Array("\nprev ".utf8)

    // The header is written byte by byte into one buffer, the attestation line(s) included by
    // `attest` (not built apart and copied in): every append goes through here.
    private init(seq: UInt64, recordedAt: Timestamp, prev: Digest, keyID: String, signature: [UInt8],
                 batch: BatchRef?, eventBytes: [UInt8], attest: (inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        // Fixed lines, then at most "key " + 16 hex + "\nsig " + 88 base64 or a batch line.
        bytes.reserveCapacity(272 + keyID.utf8.count + eventBytes.count)
        bytes.append(contentsOf: Entry.magicLine)
        CanonicalJSON.appendDecimal(seq, to: &bytes)
        bytes.append(contentsOf: Entry.timeLabel)
        recordedAt.appendRFC3339Micros(to: &bytes)
        bytes.append(contentsOf: Entry.prevLabel)
        prev.withUnsafeBytes { Hex.append($0, to: &bytes) }
        bytes.append(UInt8(ascii: "\n"))
        attest(&bytes)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: eventBytes)
        self.seq = seq
        self.recordedAt = recordedAt
        self.prev = prev
        self.keyID = keyID
        self.signature = signature
        self.batch = batch
        self.eventBytes = eventBytes
        self.bytes = bytes
        self.hash = Entry.leafHash(bytes)
    }

    /// SHA-256(0x00 ‖ bytes).
    public static func leafHash(_ bytes: [UInt8]) -> Digest { bytes.withUnsafeBytes { SHA256.hash(prefix: 0, $0) } }

    /// Decodes stored bytes strictly: any deviation from the layout is an integrity fault.
    public init(decoding bytes: [UInt8]) throws(LedgerError) {
        func fail(_ why: String) -> LedgerError { LedgerError(.integrity, "entry bytes are malformed: \(why)") }
        // Header lines up to and including the empty one: 7 for a signed event, 6 for a batch
        // member. Lines are ranges into `bytes`; nothing is copied until a field is accepted.
        var lines = HeaderLines()
        // Newlines are found with memchr: `verify` splits every entry's header, and a loop
        // over the bytes one at a time was 5 % of its time.
        let found = bytes.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var from = 0
            while lines.count < 7, from < buffer.count {
                guard let hit = memchr(base + from, Int32(UInt8(ascii: "\n")), buffer.count - from) else { return false }
                let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                lines.append(end: end)
                if end == from { return true }
                from = end + 1
            }
            return false
        }
        guard found, let blank = lines.last else { throw fail("header ends early or has no blank line") }
        let start = blank.upperBound + 1
        /// The value of header line `index`, which must read "`name` value" with a non-empty value.
        func field(_ index: Int, _ name: StaticString) throws(LedgerError) -> ArraySlice<UInt8> {
            guard index < lines.count else { throw fail("missing \"\(name)\" line") }
            let line = bytes[lines[index]]
            let label = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            guard line.count > label.count + 1, line.starts(with: label), line[line.startIndex + label.count] == UInt8(ascii: " ") else {
                throw fail("line \(index + 1) should start with \"\(name) \"")
            }
            return line.dropFirst(label.count + 1)
        }
        /// A decimal without sign or leading zeros, as the encoder writes it.
        func decimal(_ text: ArraySlice<UInt8>) -> UInt64? {
            guard !text.isEmpty, text.count <= 20, text.first != UInt8(ascii: "0") || text.count == 1 else { return nil }
            var value: UInt64 = 0
            for c in text {
                guard c >= 48, c <= 57 else { return nil }
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(UInt64(c - 48))
                guard !o1, !o2 else { return nil }
                value = v
            }
            return value
        }
        guard lines.count >= 6, bytes[lines[0]].elementsEqual(Entry.magicBytes) else { throw fail("first line is not \(Entry.magic)") }
        guard let seq = decimal(try field(1, "seq")) else { throw fail("bad sequence number") }
        let timeText = try field(2, "time")
        // The fixed-width form only, and only what re-encodes to the same bytes.
        guard timeText.count == 27, let time = timeText.withUnsafeBufferPointer({ Timestamp(rfc3339Bytes: $0) }) else {
            throw fail("bad record time")
        }
        guard time.rfc3339MicrosEquals(timeText) else { throw fail("bad record time") }
        let prevText = try field(3, "prev")
        // 64 lowercase hex digits: the one spelling the encoder produces.
        guard let prev = Digest(lowercaseHex: prevText) else {
            throw fail("bad prev hash")
        }
        var keyID = ""
        var signature: [UInt8] = []
        var batch: BatchRef?
        if lines.count == 6 {
            let text = try field(4, "batch")
            guard let space = text.firstIndex(of: UInt8(ascii: " ")), let m = decimal(text[..<space]),
                  let index = decimal(text[(space + 1)...]), m < seq
            else { throw fail("bad batch reference") }
            batch = BatchRef(manifest: m, index: index)
        } else {
            let keyText = try field(4, "key")
            guard keyText.count == 16, Hex.isLowercase(keyText) else { throw fail("bad key id") }
            keyID = String(decoding: keyText, as: UTF8.self)
            let sigText = try field(5, "sig")
            guard let decoded = Base64.decode(bytes: sigText), decoded.count == 64 else {
                throw fail("bad signature encoding")
            }
            signature = decoded
        }
        self.seq = seq
        self.recordedAt = time
        self.prev = prev
        self.keyID = keyID
        self.signature = signature
        self.batch = batch
        self.eventBytes = Array(bytes[start...])
        self.bytes = bytes
        self.hash = Entry.leafHash(bytes)
    }
}
