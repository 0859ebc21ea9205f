/// A verifier key for C2SP signed notes: `NAME+KEYID+BASE64(type ‖ key)`.
///
/// Two types are used: 0x01, an Ed25519 note signature (the log's checkpoint signature), and
/// 0x04, an Ed25519 `tlog-cosignature/v1` (a witness).
public struct NoteVerifierKey: Sendable, Equatable, CustomStringConvertible {
    /// Signature type byte.
    public enum KeyType: UInt8, Sendable {
        /// Ed25519 signed-note signature.
        case ed25519 = 0x01
        /// Ed25519 cosignature (c2sp.org/tlog-cosignature).
        case cosignature = 0x04
    }

    /// The key name (for a log, its origin).
    public let name: String
    /// The 4-byte key id, SHA-256(name ‖ "\n" ‖ type ‖ key)[:4].
    public let keyID: [UInt8]
    /// The signature type.
    public let type: KeyType
    /// The Ed25519 key.
    public let key: Ed25519PublicKey

    /// Builds the verifier key for `key` under `name`.
    public init(name: String, type: KeyType, key: Ed25519PublicKey) {
        self.name = name
        self.type = type
        self.key = key
        self.keyID = NoteVerifierKey.keyID(name: name, typedKey: [type.rawValue] + key.raw)
    }

    static func keyID(name: String, typedKey: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(Array(name.utf8), [0x0a], typedKey).bytes.prefix(4))
    }

    /// Parses a verifier key string, splitting on `+` at most twice (base64 may contain `+`)
    /// and checking that the key id matches the name and key.
    public init(parsing text: String) throws(LedgerError) {
        func bad(_ why: String) -> LedgerError { LedgerError(.malformed, "verifier key \"\(text)\": \(why)") }
        guard let plus1 = text.firstIndex(of: "+") else { throw bad("expected NAME+KEYID+KEY") }
        let name = String(text[..<plus1])
        let rest = text[text.index(after: plus1)...]
        guard let plus2 = rest.firstIndex(of: "+") else { throw bad("expected NAME+KEYID+KEY") }
        let idText = String(rest[..<plus2])
        let keyText = rest[rest.index(after: plus2)...]
        guard Note.isValidName(name) else { throw bad("invalid key name") }
        guard idText.utf8.count == 8, let id = Hex.decode(idText) else { throw bad("the key id must be 8 hex digits") }
        guard let typed = Base64.decode(keyText), !typed.isEmpty else { throw bad("the key is not base64") }
        guard NoteVerifierKey.keyID(name: name, typedKey: typed) == id else { throw bad("the key id does not match the name and key") }
        guard let type = KeyType(rawValue: typed[0]) else { throw bad("unknown signature type 0x\(Hex.encode([typed[0]]))") }
        guard typed.count == 33 else { throw bad("an Ed25519 key has 32 bytes") }
        self.name = name
        self.keyID = id
        self.type = type
        self.key = try Ed25519PublicKey(raw: Array(typed.dropFirst()))
    }

    /// `NAME+KEYID+BASE64`.
    public var description: String { "\(name)+\(Hex.encode(keyID))+\(Base64.encode([type.rawValue] + key.raw))" }
}

/// One signature line of a note: `— NAME BASE64(keyID ‖ signature)`.
public struct NoteSignature: Sendable, Equatable {
    /// The signer's key name.
    public let name: String
    /// The 4-byte key id.
    public let keyID: [UInt8]
    /// What follows the key id: an Ed25519 signature, or timestamp ‖ signature for cosignatures.
    public let signature: [UInt8]

    /// The line, with its trailing newline.
    public var line: String { "— \(name) \(Base64.encode(keyID + signature))\n" }
}

/// A C2SP signed note (c2sp.org/signed-note): text, a blank line, signature lines.
public struct Note: Sendable {
    /// The signed text, ending in a newline.
    public let text: [UInt8]
    /// The signature lines, in order.
    public let signatures: [NoteSignature]

    /// At most this many signature lines, as in golang.org/x/mod/sumdb/note.
    public static let maxSignatures = 100

    /// A note with text and signatures.
    public init(text: [UInt8], signatures: [NoteSignature]) {
        self.text = text
        self.signatures = signatures
    }

    /// The note's bytes: text, blank line, signature lines.
    public var bytes: [UInt8] { text + [0x0a] + signatures.flatMap { Array($0.line.utf8) } }

    /// A key name: non-empty, valid UTF-8, no whitespace and no `+`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    }

    /// Parses a note strictly (the rules of x/mod's note.Open): valid UTF-8, no control
    /// characters but newline, the last blank line separates text from signatures, each
    /// signature line well formed, at most 100 of them, nothing after them.
    public init(parsing bytes: [UInt8]) throws(LedgerError) {
        func malformed(_ why: String) -> LedgerError { LedgerError(.malformed, "malformed note: \(why)") }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw malformed("not valid UTF-8") }
        guard !decoded.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw malformed("control character")
        }
        var split: Int?
        if bytes.count >= 2 {
            for i in stride(from: bytes.count - 2, through: 0, by: -1) where bytes[i] == 0x0a && bytes[i + 1] == 0x0a {
                split = i
                break
            }
        }
        guard let split else { throw malformed("no blank line before the signatures") }
        let text = Array(bytes[...split])
        var rest = bytes[(split + 2)...]
        guard let last = rest.last, last == 0x0a else { throw malformed("the signature block must end with a newline") }
        var signatures: [NoteSignature] = []
        let prefix = Array("— ".utf8)
        while !rest.isEmpty {
            guard let newline = rest.firstIndex(of: 0x0a) else { throw malformed("unterminated signature line") }
            let line = Array(rest[..<newline])
            rest = rest[(newline + 1)...]
            guard line.starts(with: prefix) else { throw malformed("a signature line must start with \"— \"") }
            let body = String(decoding: line.dropFirst(prefix.count), as: UTF8.self)
            guard let space = body.firstIndex(of: " ") else { throw malformed("a signature line needs a name and a signature") }
            let name = String(body[..<space])
            let b64 = body[body.index(after: space)...]
            guard Note.isValidName(name), !b64.isEmpty, let raw = Base64.decode(b64), raw.count >= 5 else {
                throw malformed("bad signature line for \"\(name)\"")
            }
            signatures.append(NoteSignature(name: name, keyID: Array(raw.prefix(4)), signature: Array(raw.dropFirst(4))))
            guard signatures.count <= Note.maxSignatures else { throw malformed("more than \(Note.maxSignatures) signatures") }
        }
        self.text = text
        self.signatures = signatures
    }

    /// Signs `text` (which must end in a newline) as an Ed25519 note signature by `name`.
    public static func sign(text: [UInt8], name: String, key: Ed25519PrivateKey) throws(LedgerError) -> NoteSignature {
        guard text.last == 0x0a, !text.isEmpty else { throw LedgerError(.malformed, "note text must end with a newline") }
        let vkey = NoteVerifierKey(name: name, type: .ed25519, key: key.publicKey)
        return NoteSignature(name: name, keyID: vkey.keyID, signature: try key.sign(text))
    }

    /// The `tlog-cosignature/v1` message for a checkpoint note text at `timestamp`.
    public static func cosignedMessage(text: [UInt8], timestamp: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(timestamp)\n".utf8) + text
    }

    /// A witness cosignature (type 0x04) over this note's text at `timestamp` (Unix seconds).
    public static func cosign(text: [UInt8], name: String, key: Ed25519PrivateKey, timestamp: UInt64) throws(LedgerError) -> NoteSignature {
        let vkey = NoteVerifierKey(name: name, type: .cosignature, key: key.publicKey)
        let sig = try key.sign(cosignedMessage(text: text, timestamp: timestamp))
        var ts: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { ts.append(UInt8(truncatingIfNeeded: timestamp >> UInt64(shift))) }
        return NoteSignature(name: name, keyID: vkey.keyID, signature: ts + sig)
    }

    /// Checks the signatures made by `verifiers`: signatures by unknown keys are ignored, any
    /// line by a known key that fails — a repeated one too — rejects the note, and at least one
    /// must verify. Returns the verifiers whose signatures verified, each once.
    public func verify(_ verifiers: [NoteVerifierKey]) throws(LedgerError) -> [NoteVerifierKey] {
        var verified: [NoteVerifierKey] = []
        for sig in signatures {
            guard let v = verifiers.first(where: { $0.name == sig.name && $0.keyID == sig.keyID }) else { continue }
            let ok: Bool
            switch v.type {
            case .ed25519:
                ok = v.key.isValidSignature(sig.signature, for: text)
            case .cosignature:
                if sig.signature.count == 72 {
                    let timestamp = sig.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    ok = v.key.isValidSignature(Array(sig.signature.dropFirst(8)), for: Note.cosignedMessage(text: text, timestamp: timestamp))
                } else {
                    ok = false
                }
            }
            guard ok else { throw LedgerError(.badSignature, "invalid signature for key \(v.name)+\(Hex.encode(v.keyID))") }
            if !verified.contains(v) { verified.append(v) }
        }
        guard !verified.isEmpty else { throw LedgerError(.badSignature, "note has no verifiable signatures") }
        return verified
    }
}

/// A C2SP `tlog-checkpoint` body: origin, tree size, root hash (and opaque extension lines).
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin line.
    public let origin: String
    /// The tree size.
    public let size: UInt64
    /// The RFC 6962 root.
    public let root: Digest
    /// Extension lines, kept verbatim.
    public let extensions: [String]

    /// A checkpoint with no extension lines.
    public init(origin: String, size: UInt64, root: Digest) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = []
    }

    /// The note text: `origin\nsize\nbase64(root)\n`.
    public var text: [UInt8] {
        Array(([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined().utf8)
    }

    /// Parses a checkpoint body from note text.
    public init(text: [UInt8]) throws(LedgerError) {
        func bad(_ why: String) -> LedgerError { LedgerError(.malformed, "malformed checkpoint: \(why)") }
        guard text.last == 0x0a else { throw bad("text must end with a newline") }
        let lines = String(decoding: text.dropLast(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, !lines[0].isEmpty else { throw bad("needs origin, size and root lines") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw bad("the size must be a decimal number without leading zeros") }
        guard let rootBytes = Base64.decode(lines[2]), let root = Digest(rootBytes) else { throw bad("the root must be base64 of 32 bytes") }
        guard !lines.dropFirst(3).contains(where: \.isEmpty) else { throw bad("empty extension line") }
        self.origin = lines[0]
        self.size = size
        self.root = root
        self.extensions = Array(lines.dropFirst(3))
    }
}

/// A checkpoint note whose log signature has been checked.
public struct SignedCheckpoint: Sendable {
    /// The parsed body.
    public let checkpoint: Checkpoint
    /// The whole note, as issued (with any cosignatures added since).
    public let note: Note

    /// Parses `bytes` as a note, verifies it with the log key `logKey` (whose name must equal
    /// the origin), and parses the body.
    public init(bytes: [UInt8], logKey: NoteVerifierKey) throws(LedgerError) {
        let note = try Note(parsing: bytes)
        _ = try note.verify([logKey])
        let checkpoint = try Checkpoint(text: note.text)
        guard checkpoint.origin == logKey.name else {
            throw LedgerError(.malformed, "checkpoint origin \"\(checkpoint.origin)\" is not the log key's name \"\(logKey.name)\"")
        }
        self.checkpoint = checkpoint
        self.note = note
    }

    /// Counts the distinct witnesses among `witnesses` whose cosignatures verify.
    /// A cosignature that fails for a known witness key rejects the checkpoint.
    public func verifiedWitnesses(_ witnesses: [NoteVerifierKey]) throws(LedgerError) -> [NoteVerifierKey] {
        guard !witnesses.isEmpty else { return [] }
        let known = note.signatures.contains { sig in witnesses.contains { $0.name == sig.name && $0.keyID == sig.keyID } }
        guard known else { return [] }
        return try note.verify(witnesses)
    }
}
