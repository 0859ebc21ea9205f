/// Syntax of identifiers (PRODUCT.md §2).
public enum Identifiers {
    /// The reserved actor name under which the operator signs registry entries.
    public static let operatorID = "operator"

    /// `[a-z0-9][a-z0-9._-]{0,63}`.
    public static func isPartyID(_ s: String) -> Bool {
        // The bytes are read in place (`withUTF8`, not the UTF-8 view's slower iterator): every
        // event checks an id or two.
        var s = s
        return s.withUTF8 { c in
            guard (1...64).contains(c.count), isLowerAlnum(c[0]) else { return false }
            return c.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        }
    }

    /// 1–64 characters of `[A-Za-z0-9:._/-]`.
    public static func isPackID(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { c in
            guard (1...64).contains(c.count) else { return false }
            return c.allSatisfy {
                isLowerAlnum($0) || ($0 >= 65 && $0 <= 90) || $0 == 58 || $0 == 46 || $0 == 95 || $0 == 47 || $0 == 45
            }
        }
    }

    /// A UUID in the 8-4-4-4-12 hex form, either case.
    public static func isUUID(_ s: String) -> Bool { EventKey(uuid: s) != nil }

    private static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
}

/// The 16 bytes of a UUID event id: compact to hash, compare and index.
public struct EventKey: Hashable, Sendable {
    /// The first and last 8 bytes, big-endian.
    public let high, low: UInt64

    /// Parses the 8-4-4-4-12 hex form, either case; nil if `uuid` is not in it.
    public init?(uuid: String) {
        var text = uuid
        // Every event has one: read in place, digits without optionals, one check at the end.
        let parsed = text.withUTF8 { u -> (UInt64, UInt64)? in
            guard u.count == 36, u[8] == UInt8(ascii: "-"), u[13] == UInt8(ascii: "-"), u[18] == UInt8(ascii: "-"),
                  u[23] == UInt8(ascii: "-") else { return nil }
            var words: (UInt64, UInt64) = (0, 0), bad: UInt8 = 0, digits = 0
            for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
                let v = Hex.nibble(u[i])
                bad |= v & 0xf0
                if digits < 16 { words.0 = words.0 << 4 | UInt64(v) } else { words.1 = words.1 << 4 | UInt64(v) }
                digits += 1
            }
            return bad == 0 ? words : nil
        }
        guard let parsed else { return nil }
        self.high = parsed.0
        self.low = parsed.1
    }

    /// Lends `body` the 16 bytes of `bytes` without building an array (an event key is bound
    /// for every appended event and every lookup).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { body($0) }
    }

    /// The 16 bytes, as the `event_ids` table stores them.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }
}

/// A statement by one actor: the JSON object it signs, validated for shape.
///
/// The object is kept as parsed; its canonical bytes (RFC 8785) are what the actor signs and
/// what the entry stores, so no second serialisation ever decides what was signed.
///
/// A class, though immutable: an event is handed from the parsing threads to the rules, the
/// entry and the projections, and a copy is then one reference count instead of one per field.
public final class Event: Sendable {
    /// The actor's UUID for this statement; makes submissions idempotent.
    public let eventID: String
    /// What happened.
    public let kind: EventKind
    /// The pack concerned, for pack events.
    public let pack: String?
    /// The party concerned, for registry events.
    public let party: String?
    /// Who states it.
    public let actor: String
    /// When it happened.
    public let at: Timestamp
    /// Kind-specific fields (`data`, always an object), as a member list: the rules read a few
    /// fields of every event, and a short list is searched faster than a dictionary is built.
    public let dataMembers: [JSONMember]

    /// Kind-specific fields (always an object), built on each call.
    public var data: [String: JSONValue] { JSONMember.dictionary(dataMembers) }

    /// The `data` field named `key`, if present.
    public func dataValue(_ key: String) -> JSONValue? {
        dataMembers.value(forKey: key)
    }
    /// The event id's 16 bytes, the key under which idempotency is decided (case-insensitive).
    public let eventKey: EventKey

    /// What the event was read from: a whole object, or (on the import and verify paths) the
    /// parser's member list, which spares building and searching a dictionary per event.
    private enum Source: Sendable {
        case object(JSONValue)
        case members([JSONMember])
        /// A signed line's members: the event's, with `key_id` and `signature` among them. The
        /// line's own list, shared: a filtered copy cost an array and a reference count per member.
        case signedLine([JSONMember])
    }
    private let source: Source

    /// The whole object.
    public var json: JSONValue {
        switch source {
        case .object(let value): return value
        case .members(let members):
            return .object(JSONMember.dictionary(members))
        case .signedLine(let members):
            return .object(JSONMember.dictionary(members.filter { !Ingest.isSignatureMember($0.key) }))
        }
    }

    /// The envelope members of an event object, each nil when absent.
    private struct Envelope {
        var eventID, kind, pack, party, actor, at, data: JSONValue?
        /// `data` as the parser's member list, when it kept one.
        var dataMembers: [JSONMember]?
    }

    /// The envelope fields; anything else at the top level is rejected because it would be
    /// signed yet invisible to the rules.
    static let envelopeKeys: Set<String> = ["event_id", "kind", "pack", "party", "actor", "at", "data"]

    /// Validates the envelope of a parsed event object.
    public convenience init(json: JSONValue) throws(LedgerError) {
        guard let object = json.objectValue else {
            throw LedgerError(.malformed, "an event must be a JSON object")
        }
        // Each envelope member is looked up once; when they do not account for every member,
        // something else is there. (Sorted only when there is something to report, so the
        // message does not depend on dictionary order.)
        let fields = Envelope(eventID: object["event_id"], kind: object["kind"], pack: object["pack"], party: object["party"],
                              actor: object["actor"], at: object["at"], data: object["data"])
        func one(_ value: JSONValue?) -> Int { value == nil ? 0 : 1 }
        let known = one(fields.eventID) + one(fields.kind) + one(fields.pack) + one(fields.party) + one(fields.actor) + one(fields.at) + one(fields.data)
        if known != object.count, let key = object.keys.sorted().first(where: { !Event.envelopeKeys.contains($0) }) {
            throw LedgerError(.malformed, "unknown top-level field \"\(key)\"", at: ErrorLocation(field: key))
        }
        try self.init(fields, source: .object(json))
    }

    /// Validates the envelope of an event object given as the parser's member list (keys
    /// distinct, as the parser guarantees).
    public convenience init(members: [JSONMember]) throws(LedgerError) {
        try self.init(members: members, signedLine: false)
    }

    /// Validates the envelope of an event given as the members of its line, which may also
    /// hold the line's `key_id` and `signature` (left out of the event) when `signedLine`.
    convenience init(members: [JSONMember], signedLine: Bool) throws(LedgerError) {
        var fields = Envelope()
        var unknown: [String] = []
        for m in members {
            switch m.key {
            case "key_id" where signedLine, "signature" where signedLine: continue
            case "event_id": fields.eventID = m.value
            case "kind": fields.kind = m.value
            case "pack": fields.pack = m.value
            case "party": fields.party = m.value
            case "actor": fields.actor = m.value
            case "at": fields.at = m.value
            case "data":
                if let list = m.objectMembers { fields.dataMembers = list; fields.data = .object([:]) } else { fields.data = m.value }
            default: unknown.append(m.key)
            }
        }
        if let key = unknown.min() {
            throw LedgerError(.malformed, "unknown top-level field \"\(key)\"", at: ErrorLocation(field: key))
        }
        try self.init(fields, source: signedLine ? .signedLine(members) : .members(members))
    }

    /// Validates the envelope of a parsed document: from its member list when the parser kept
    /// one (`parseNotingCanonical(_:members: true)`), otherwise from its value.
    convenience init(noted: JSONParser.Noted) throws(LedgerError) {
        if let members = noted.members {
            try self.init(members: members)
        } else {
            try self.init(json: noted.value)
        }
    }

    private init(_ fields: Envelope, source: Source) throws(LedgerError) {
        func string(_ value: JSONValue?, _ key: String) throws(LedgerError) -> String {
            guard let value else {
                throw LedgerError(.malformed, "missing field \"\(key)\"", at: ErrorLocation(field: key))
            }
            guard let s = value.stringValue else {
                throw LedgerError(.malformed, "\"\(key)\" must be a string", at: ErrorLocation(field: key))
            }
            return s
        }
        let eventID = try string(fields.eventID, "event_id")
        guard let eventKey = EventKey(uuid: eventID) else {
            throw LedgerError(.malformed, "event_id \"\(eventID)\" is not a UUID", at: ErrorLocation(field: "event_id"))
        }
        let kindText = try string(fields.kind, "kind")
        guard let kind = EventKind.named(kindText) else {
            throw LedgerError(.malformed, "unknown kind \"\(kindText)\"", at: ErrorLocation(field: "kind"))
        }
        let actor = try string(fields.actor, "actor")
        guard Identifiers.isPartyID(actor) else {
            throw LedgerError(.malformed, "actor \"\(actor)\" is not a valid party id", at: ErrorLocation(field: "actor"))
        }
        let atText = try string(fields.at, "at")
        guard let at = Timestamp(rfc3339: atText) else {
            throw LedgerError(.malformed, "at \"\(atText)\" is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.f]Z or ±HH:MM, years \(Timestamp.yearRange.lowerBound)–\(Timestamp.yearRange.upperBound))", at: ErrorLocation(field: "at"))
        }
        guard let dataValue = fields.data else {
            throw LedgerError(.malformed, "missing field \"data\"", at: ErrorLocation(field: "data"))
        }
        let dataMembers: [JSONMember]
        if let list = fields.dataMembers {
            dataMembers = list
        } else if let data = dataValue.objectValue {
            dataMembers = data.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: $0.value, range: 0..<0) }
        } else {
            throw LedgerError(.malformed, "\"data\" must be an object", at: ErrorLocation(field: "data"))
        }
        var pack: String?
        var party: String?
        if kind == .batch {
            for (key, value) in [("pack", fields.pack), ("party", fields.party)] where value != nil {
                throw LedgerError(.malformed, "a batch manifest has no \"\(key)\"", at: ErrorLocation(field: key))
            }
        } else if kind.isRegistry {
            guard fields.pack == nil else {
                throw LedgerError(.malformed, "a \(kind.rawValue) entry has no \"pack\"", at: ErrorLocation(field: "pack"))
            }
            let p = try string(fields.party, "party")
            guard Identifiers.isPartyID(p) else {
                throw LedgerError(.malformed, "party \"\(p)\" is not a valid party id", at: ErrorLocation(field: "party"))
            }
            party = p
        } else {
            guard fields.party == nil else {
                throw LedgerError(.malformed, "a \(kind.rawValue) event has no \"party\"", at: ErrorLocation(field: "party"))
            }
            let p = try string(fields.pack, "pack")
            guard Identifiers.isPackID(p) else {
                throw LedgerError(.malformed, "pack \"\(p)\" is not a valid pack id (1–64 of A-Z a-z 0-9 : . _ / -)", at: ErrorLocation(field: "pack"))
            }
            pack = p
        }
        self.eventID = eventID
        self.kind = kind
        self.pack = pack
        self.party = party
        self.actor = actor
        self.at = at
        self.dataMembers = dataMembers
        self.source = source
        self.eventKey = eventKey
    }

    /// The RFC 8785 bytes of the object: what is signed and stored.
    public var canonicalBytes: [UInt8] { CanonicalJSON.encode(json) }


    /// Domain separation for actor signatures, so that an event signature can never be
    /// mistaken for a checkpoint or other note signature made with the same key.
    public static let signingContext: [UInt8] = Array("packledger/event/v1\n".utf8)

    /// The exact message an actor signs for event bytes `bytes`.
    public static func signedMessage(_ bytes: [UInt8]) -> [UInt8] { signingContext + bytes }
}

/// Event bytes with the actor's signature: what `record` and `import` hand to the ledger.
public struct SignedEvent: Sendable {
    /// The parsed event.
    public let event: Event
    /// Its canonical bytes, exactly as signed.
    public let bytes: [UInt8]
    /// The signing key's id.
    public let keyID: String
    /// The 64-byte Ed25519 signature over `Event.signedMessage(bytes)`.
    public let signature: [UInt8]

    /// Canonicalises `event` and signs it with `key`.
    public init(signing event: Event, with key: Ed25519PrivateKey) throws(LedgerError) {
        try self.init(signing: event, bytes: event.canonicalBytes, with: key)
    }

    /// Signs `event` whose canonical bytes the caller already has (`bytes` must be exactly
    /// `event.canonicalBytes`).
    init(signing event: Event, bytes: [UInt8], with key: Ed25519PrivateKey) throws(LedgerError) {
        self.event = event
        self.bytes = bytes
        self.keyID = key.publicKey.keyID
        self.signature = try key.sign(Event.signedMessage(bytes))
        self.batch = nil
    }

    /// For an event signed as part of a batch: its manifest and position; `keyID` is then the
    /// manifest's key and `signature` is empty.
    public let batch: BatchRef?

    /// Wraps an already signed event (the signature is checked when it is appended).
    public init(event: Event, bytes: [UInt8], keyID: String, signature: [UInt8], batch: BatchRef? = nil) {
        self.event = event
        self.bytes = bytes
        self.keyID = keyID
        self.signature = signature
        self.batch = batch
    }

    /// The leaf of a batch's Merkle tree for event bytes `bytes`: the RFC 6962 leaf hash of the
    /// message an individual signature would cover.
    public static func batchLeaf(_ bytes: [UInt8]) -> Digest {
        Event.signingContext.withUnsafeBytes { c in bytes.withUnsafeBytes { SHA256.hash(prefix: 0, c, $0) } }
    }
}
