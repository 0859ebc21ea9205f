/// The outcome of judging one signed event against the state before it.
public enum Judgement: Sendable {
    /// Accept it, with these state changes.
    case accept(Effects)
    /// The same event (same id, same bytes) is already entry `seq`: a no-op.
    case duplicate(seq: UInt64)
}

/// Limits on numbers and text in event data. Generous for any real battery, tight enough to
/// turn a typo (grams for kilograms, a misplaced decimal point) into a rejection.
public enum DataLimits {
    /// Upper bound for any mass in kilograms: a containerised storage system, not a fleet.
    public static let maxMassKg = 50_000.0
    /// Upper bound for a pack's energy in kWh.
    public static let maxEnergyKwh = 50_000.0
    /// Longest free text (`work`, `note`).
    public static let maxTextLength = 2_000
    /// Longest short text (names, plants, models, sites, assets).
    public static let maxNameLength = 200
    /// Most packs one second-life pack may be derived from.
    public static let maxDerivedFrom = 256
    /// Most modules and cells one `produced` may list.
    public static let maxComponents = 2_000
    /// How far `at` may lie beyond the recording time.
    public static let futureToleranceSeconds: Int64 = 300
    /// Materials a `produced` event may declare.
    public static let materials: Set<String> = ["li", "co", "ni", "cu", "pb", "mn", "al", "graphite"]
    /// Materials with a recycled-content share.
    public static let recycledShareMaterials: Set<String> = ["co", "li", "ni", "pb"]
    /// Allowed battery categories.
    public static let categories: Set<String> = ["portable", "lmt", "sli", "industrial", "ev"]
    /// Allowed chemistries.
    public static let chemistries: Set<String> = ["lfp", "nmc", "nca", "lmo", "lto", "lmfp", "sodium-ion", "lead-acid", "nimh", "other"]
}

/// The `data` fields each kind defines (PRODUCT.md §3), and the closed value lists. Kept as
/// constants: a list literal at the call would be a new array for every event judged.
enum DataKeys {
    static let batch: [String] = ["count", "root"]
    static let ledgerInit: [String] = ["origin", "operator_key"]
    static let partyRegistered: [String] = ["name", "roles", "key", "key_valid_from", "authorized_from", "authorized_until"]
    static let keyAdded: [String] = ["key", "valid_from"]
    static let keyRevoked: [String] = ["key_id", "valid_until"]
    static let sold: [String] = ["market"]
    static let installed: [String] = ["vin", "asset", "market"]
    static let serviced: [String] = ["work", "replaced_modules"]
    static let removed: [String] = ["reason"]
    static let assessed: [String] = ["soh_pct", "grade"]
    static let repurposed: [String] = ["into"]
    static let collected: [String] = ["site"]
    static let transferred: [String] = ["to"]
    static let intake: [String] = ["mass_kg"]
    static let recovered: [String] = ["input_kg", "recycled_output_kg", "recovered_kg"]
    static let produced: [String] = ["category", "chemistry", "mass_kg", "energy_kwh", "materials_kg", "recycled_share", "plant", "model", "producer", "derived_from", "components"]
    static let removalReasons: [String] = ["end-of-life", "swap", "repair", "vehicle-scrapped"]
    static let grades: [String] = ["reuse", "repurpose", "recycle"]
}

/// Reads typed fields out of `data`, naming the field in every error.
struct DataReader {
    /// The event whose `data` is read. The member list is read through it rather than held:
    /// holding it retained the list, which the parsing thread allocated, and that reference
    /// count missed the appending thread's cache for every event.
    let event: Event
    /// The event's `data` members (keys distinct).
    var members: [JSONMember] { event.dataMembers }
    var kind: EventKind { event.kind }

    init(_ event: Event) {
        self.event = event
    }

    /// The field named `key`, if present.
    subscript(key: String) -> JSONValue? { members.value(forKey: key) }

    func field(_ key: String) -> String { "data.\(key)" }

    /// Rejects fields the kind does not define; a misspelt optional field would otherwise be
    /// silently dropped from every report. Every kind but the batch manifest may carry a `note`.
    func allowOnly(_ keys: [String], note: Bool = true) throws(LedgerError) {
        // Membership first, without allocating: this runs for every event of every import; the
        // sorting that makes the error message deterministic happens only on the error path.
        let clean = members.allSatisfy { keys.contains($0.key) || (note && $0.key == "note") }
        if !clean {
            let allowed = Set(note ? keys + ["note"] : keys)
            for key in members.map(\.key).sorted() where !allowed.contains(key) {
                throw LedgerError(.malformed, "\(kind.rawValue) has no field \"\(key)\" (allowed: \(allowed.sorted().joined(separator: ", ")))", at: ErrorLocation(field: field(key)))
            }
        }
        if self["note"] != nil { _ = try string("note", max: DataLimits.maxTextLength) }
    }

    func string(_ key: String, max: Int = DataLimits.maxNameLength) throws(LedgerError) -> String? {
        guard let value = self[key] else { return nil }
        guard let s = value.stringValue else {
            throw LedgerError(.malformed, "\(field(key)) must be a string", at: ErrorLocation(field: field(key)))
        }
        // Unicode code points, not Swift's grapheme clusters: the count must not depend on the
        // Unicode version of whoever re-checks it.
        guard !s.isEmpty, s.unicodeScalars.count <= max else {
            throw LedgerError(.outOfRange, "\(field(key)) must have 1 to \(max) characters (Unicode code points)", at: ErrorLocation(field: field(key)))
        }
        return s
    }

    func requiredString(_ key: String, max: Int = DataLimits.maxNameLength) throws(LedgerError) -> String {
        guard let s = try string(key, max: max) else {
            throw LedgerError(.malformed, "\(kind.rawValue) requires \(field(key))", at: ErrorLocation(field: field(key)))
        }
        return s
    }

    func oneOf(_ key: String, _ allowed: some Collection<String>) throws(LedgerError) -> String {
        let s = try requiredString(key)
        guard allowed.contains(s) else {
            throw LedgerError(.outOfRange, "\(field(key)) \"\(s)\" is not one of \(allowed.sorted().joined(separator: ", "))", at: ErrorLocation(field: field(key)))
        }
        return s
    }

    static func checkNumber(_ value: JSONValue, field name: @autoclosure () -> String, min: Double, max: Double, minExclusive: Bool) throws(LedgerError) -> Double {
        // The field's name is spelt out only for an error: this runs for several numbers of
        // most events.
        guard let d = value.doubleValue else {
            let field = name()
            throw LedgerError(.malformed, "\(field) must be a number", at: ErrorLocation(field: field))
        }
        let lowOK = minExclusive ? d > min : d >= min
        guard d.isFinite, lowOK, d <= max else {
            let field = name()
            let low = minExclusive ? "greater than \(CanonicalJSON.formatNumber(min))" : "at least \(CanonicalJSON.formatNumber(min))"
            throw LedgerError(.outOfRange, "\(field) is \(CanonicalJSON.formatNumber(d)); it must be \(low) and at most \(CanonicalJSON.formatNumber(max))", at: ErrorLocation(field: field))
        }
        return d
    }

    func number(_ key: String, min: Double, max: Double, minExclusive: Bool = false) throws(LedgerError) -> Double? {
        guard let value = self[key] else { return nil }
        return try DataReader.checkNumber(value, field: field(key), min: min, max: max, minExclusive: minExclusive)
    }

    func requiredNumber(_ key: String, min: Double, max: Double, minExclusive: Bool = false) throws(LedgerError) -> Double {
        guard let d = try number(key, min: min, max: max, minExclusive: minExclusive) else {
            throw LedgerError(.malformed, "\(kind.rawValue) requires \(field(key))", at: ErrorLocation(field: field(key)))
        }
        return d
    }

    /// An object of material → number, each within `[0, max]`, keys from `allowed`, as pairs in
    /// ascending name order: sums over them must add in one fixed order, because floating-point
    /// addition is not associative and a Dictionary's order changes from process to process.
    func materialMap(_ key: String, allowed: Set<String>?, max: Double) throws(LedgerError) -> [(name: String, kg: Double)]? {
        guard let value = self[key] else { return nil }
        guard let object = value.objectValue else {
            throw LedgerError(.malformed, "\(field(key)) must be an object", at: ErrorLocation(field: field(key)))
        }
        var out: [(name: String, kg: Double)] = []
        out.reserveCapacity(object.count)
        for (name, v) in object.sorted(by: { $0.key < $1.key }) {
            var path: String { "\(field(key)).\(name)" }
            if let allowed, !allowed.contains(name) {
                throw LedgerError(.outOfRange, "\(path): unknown material (allowed: \(allowed.sorted().joined(separator: ", ")))", at: ErrorLocation(field: path))
            }
            guard Identifiers.isPartyID(name), name.utf8.count <= 32 else {
                throw LedgerError(.malformed, "\(path): a material name is 1–32 characters of a-z 0-9 . _ - starting with a letter or digit", at: ErrorLocation(field: path))
            }
            out.append((name, try DataReader.checkNumber(v, field: path, min: 0, max: max, minExclusive: false)))
        }
        return out
    }

    /// The RFC 8785 JSON of a map `materialMap` returned: the bytes `CanonicalJSON.encode` gives
    /// for the object, written from the pairs instead of re-encoding a dictionary (the names
    /// are ASCII, so their ascending order is RFC 8785's UTF-16 order).
    static func canonicalJSON(_ map: [(name: String, kg: Double)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 * map.count + 2)
        out.append(UInt8(ascii: "{"))
        for (i, item) in map.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(item.name, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendNumber(item.kg, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    func stringList(_ key: String, maxCount: Int, validate: (String) -> Bool, what: String) throws(LedgerError) -> [String]? {
        guard let value = self[key] else { return nil }
        guard let array = value.arrayValue, !array.isEmpty, array.count <= maxCount else {
            throw LedgerError(.malformed, "\(field(key)) must be a list of 1 to \(maxCount) \(what)", at: ErrorLocation(field: field(key)))
        }
        var out: [String] = []
        for (i, item) in array.enumerated() {
            guard let s = item.stringValue, validate(s) else {
                throw LedgerError(.malformed, "\(field(key))[\(i)] is not a valid \(what)", at: ErrorLocation(field: "\(field(key))[\(i)]"))
            }
            guard !out.contains(s) else {
                throw LedgerError(.malformed, "\(field(key)) lists \"\(s)\" twice", at: ErrorLocation(field: "\(field(key))[\(i)]"))
            }
            out.append(s)
        }
        return out
    }

    func time(_ key: String) throws(LedgerError) -> Timestamp? {
        guard let s = try string(key, max: 40) else { return nil }
        guard let t = Timestamp(rfc3339: s) else {
            throw LedgerError(.malformed, "\(field(key)) \"\(s)\" is not an RFC 3339 time", at: ErrorLocation(field: field(key)))
        }
        return t
    }

    func publicKey(_ key: String) throws(LedgerError) -> Ed25519PublicKey {
        let s = try requiredString(key, max: 64)
        guard let raw = Base64.decode(s), raw.count == 32, let k = try? Ed25519PublicKey(raw: raw) else {
            throw LedgerError(.malformed, "\(field(key)) must be the base64 of a 32-byte Ed25519 public key", at: ErrorLocation(field: field(key)))
        }
        return k
    }
}

/// The rules of PRODUCT.md §3, applied identically when an entry is appended and when
/// `verify` replays the log.
public enum Rules {
    /// Judges `signed` as the entry `seq` recorded at `recordedAt`, against `state`.
    /// Throws the first rule it breaks; returns the changes it causes or that it is a duplicate.
    /// `signatureValid` is the verdict of a signature check already made with the same key
    /// (imports check a whole chunk in parallel); nil means check it here.
    public static func judge(_ signed: SignedEvent, seq: UInt64, recordedAt: Timestamp, state: some LedgerStateView,
                             signatureValid: Bool? = nil) throws(LedgerError) -> Judgement {
        let event = signed.event
        if let record = try state.eventRecord(event.eventKey) {
            if record.eventHash == SHA256.hash(signed.bytes) { return .duplicate(seq: record.seq) }
            throw LedgerError(.conflict, "event_id \(event.eventID) is already entry \(record.seq) with different content", at: ErrorLocation(field: "event_id"))
        }
        guard event.at <= recordedAt.adding(seconds: DataLimits.futureToleranceSeconds) else {
            throw LedgerError(.badTime, "at \(event.at) is more than 5 minutes after the recording time \(recordedAt.rfc3339)", at: ErrorLocation(field: "at"))
        }
        if event.kind == .ledgerInit || seq == 0 {
            return try judgeGenesis(signed, seq: seq)
        }
        // Who is speaking, and may they sign this?
        var party: PartyState?
        if event.actor != Identifiers.operatorID {
            guard let p = try state.party(event.actor) else {
                throw LedgerError(.unknownParty, "actor \"\(event.actor)\" is not a registered party", at: ErrorLocation(field: "actor"))
            }
            party = p
        }
        try checkSignature(signed, state: state, signatureValid: signatureValid)
        if signed.batch != nil, event.kind.isRegistry || event.kind == .batch {
            throw LedgerError(.malformed, "a \(event.kind.rawValue) entry cannot be part of a batch", at: ErrorLocation(field: "kind"))
        }
        if event.kind == .batch {
            guard party != nil else {
                throw LedgerError(.missingRole, "batch manifests are signed by parties, not the operator", at: ErrorLocation(field: "actor"))
            }
            _ = try manifest(of: event)
            return .accept(Effects())
        }
        if event.kind.isRegistry {
            guard party == nil else {
                throw LedgerError(.missingRole, "only the operator may record \(event.kind.rawValue); \(event.actor) is a party", at: ErrorLocation(field: "actor"))
            }
            return .accept(try judgeRegistry(event, seq: seq, signingKey: signed.keyID, state: state))
        }
        guard let party else {
            throw LedgerError(.missingRole, "the operator records registry entries only, not \(event.kind.rawValue)", at: ErrorLocation(field: "actor"))
        }
        return .accept(try judgePackEvent(event, party: party, seq: seq, state: state))
    }

    /// Most events one manifest may cover: an import holds a whole batch in memory.
    public static let maxBatchCount = 20_000

    /// The count and root a `batch` manifest declares, checked.
    public static func manifest(of event: Event) throws(LedgerError) -> (count: UInt64, root: Digest) {
        let reader = DataReader(event)
        try reader.allowOnly(DataKeys.batch, note: false)
        let count = try reader.requiredNumber("count", min: 1, max: Double(maxBatchCount))
        guard count == count.rounded() else {
            throw LedgerError(.malformed, "data.count must be a whole number", at: ErrorLocation(field: "data.count"))
        }
        let rootText = try reader.requiredString("root", max: 44)
        guard let root = Base64.decode(rootText).flatMap(Digest.init) else {
            throw LedgerError(.malformed, "data.root must be the base64 of 32 bytes", at: ErrorLocation(field: "data.root"))
        }
        return (UInt64(count), root)
    }

    static func checkSignature(_ signed: SignedEvent, state: some LedgerStateView, signatureValid: Bool?) throws(LedgerError) {
        let event = signed.event
        guard let key = try state.key(signed.keyID) else {
            throw LedgerError(.invalidKey, "key \(signed.keyID) is not registered")
        }
        guard key.party == event.actor else {
            throw LedgerError(.invalidKey, "key \(signed.keyID) belongs to \(key.party), not to \(event.actor)")
        }
        guard key.isValid(at: event.at) else {
            let window = "valid from \(key.validFrom)" + (key.validUntil.map { " until \($0)" } ?? "")
            let state = key.validUntil.map { event.at >= $0 } == true ? "revoked" : "not yet valid"
            throw LedgerError(.invalidKey, "key \(signed.keyID) of \(event.actor) is \(state) at \(event.at) (\(window))", at: ErrorLocation(field: "at"))
        }
        guard signatureValid ?? key.publicKey.isValidSignature(signed.signature, forEvent: signed.bytes) else {
            throw LedgerError(.badSignature, "signature by key \(signed.keyID) of \(event.actor) does not verify")
        }
    }

    static func judgeGenesis(_ signed: SignedEvent, seq: UInt64) throws(LedgerError) -> Judgement {
        let event = signed.event
        guard seq == 0, event.kind == .ledgerInit else {
            throw LedgerError(.integrity, seq == 0 ? "entry 0 must be ledger.init" : "ledger.init may only be entry 0")
        }
        guard event.actor == Identifiers.operatorID, event.party == Identifiers.operatorID else {
            throw LedgerError(.malformed, "ledger.init must have actor and party \"operator\"")
        }
        let reader = DataReader(event)
        try reader.allowOnly(DataKeys.ledgerInit)
        let origin = try reader.requiredString("origin", max: 255)
        guard origin.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "+") }) else {
            throw LedgerError(.malformed, "origin must be printable ASCII without spaces or '+'", at: ErrorLocation(field: "data.origin"))
        }
        let key = try reader.publicKey("operator_key")
        guard key.keyID == signed.keyID else {
            throw LedgerError(.invalidKey, "ledger.init must be signed by the operator key it declares")
        }
        guard key.isValidSignature(signed.signature, forEvent: signed.bytes) else {
            throw LedgerError(.badSignature, "the operator's signature on ledger.init does not verify")
        }
        var effects = Effects()
        effects.origin = origin
        effects.keys = [KeyState(keyID: key.keyID, party: Identifiers.operatorID, publicKey: key,
                                 validFrom: Timestamp(nanoseconds: 0), validUntil: nil, addedSeq: seq, revokedSeq: nil)]
        return .accept(effects)
    }

    static func judgeRegistry(_ event: Event, seq: UInt64, signingKey: String, state: some LedgerStateView) throws(LedgerError) -> Effects {
        let reader = DataReader(event)
        let partyID = event.party ?? ""
        var effects = Effects()
        func newKey(_ field: String, validFrom: Timestamp) throws(LedgerError) -> KeyState {
            let key = try reader.publicKey(field)
            if let existing = try state.key(key.keyID) {
                throw LedgerError(.conflict, "key \(key.keyID) is already registered to \(existing.party)", at: ErrorLocation(field: "data.\(field)"))
            }
            return KeyState(keyID: key.keyID, party: partyID, publicKey: key, validFrom: validFrom, validUntil: nil, addedSeq: seq, revokedSeq: nil)
        }
        switch event.kind {
        case .partyRegistered:
            try reader.allowOnly(DataKeys.partyRegistered)
            guard partyID != Identifiers.operatorID else {
                throw LedgerError(.malformed, "\"operator\" is reserved for the ledger operator", at: ErrorLocation(field: "party"))
            }
            if try state.party(partyID) != nil {
                throw LedgerError(.conflict, "party \(partyID) is already registered", at: ErrorLocation(field: "party"))
            }
            let name = try reader.requiredString("name")
            let roleNames = try reader.stringList("roles", maxCount: Role.allCases.count, validate: { Role(rawValue: $0) != nil }, what: "role (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))") ?? []
            guard !roleNames.isEmpty else {
                throw LedgerError(.malformed, "party.registered requires data.roles", at: ErrorLocation(field: "data.roles"))
            }
            let validFrom = try reader.time("key_valid_from") ?? event.at
            let from = try reader.time("authorized_from")
            let until = try reader.time("authorized_until")
            if let from, let until, until <= from {
                throw LedgerError(.outOfRange, "authorized_until must be after authorized_from", at: ErrorLocation(field: "data.authorized_until"))
            }
            effects.parties = [PartyState(id: partyID, name: name, roles: roleNames.compactMap(Role.init).sorted(),
                                          authorizedFrom: from, authorizedUntil: until, registeredSeq: seq)]
            effects.keys = [try newKey("key", validFrom: validFrom)]
        case .partyKeyAdded:
            try reader.allowOnly(DataKeys.keyAdded)
            // The operator rotates its own key the same way: the new key is added by an entry the
            // current one signs, so every verifier can follow the rotation.
            // (No `||` here: its autoclosure would lose the typed throw.)
            var known = partyID == Identifiers.operatorID
            if !known { known = try state.party(partyID) != nil }
            guard known else {
                throw LedgerError(.unknownParty, "party \(partyID) is not registered", at: ErrorLocation(field: "party"))
            }
            effects.keys = [try newKey("key", validFrom: try reader.time("valid_from") ?? event.at)]
        case .partyKeyRevoked:
            try reader.allowOnly(DataKeys.keyRevoked)
            // (No `||` here: its autoclosure would lose the typed throw.)
            var known = partyID == Identifiers.operatorID
            if !known { known = try state.party(partyID) != nil }
            guard known else {
                throw LedgerError(.unknownParty, "party \(partyID) is not registered", at: ErrorLocation(field: "party"))
            }
            let keyID = try reader.requiredString("key_id", max: 16)
            guard var key = try state.key(keyID), key.party == partyID else {
                throw LedgerError(.notFound, "party \(partyID) has no key \(keyID)", at: ErrorLocation(field: "data.key_id"))
            }
            // The key signing this entry stays valid, so the operator always keeps one.
            guard !(partyID == Identifiers.operatorID && keyID == signingKey) else {
                throw LedgerError(.conflict, "the operator cannot revoke the key that signs the revocation; sign it with the new key", at: ErrorLocation(field: "data.key_id"))
            }
            guard key.validUntil == nil else {
                throw LedgerError(.conflict, "key \(keyID) is already revoked", at: ErrorLocation(field: "data.key_id"))
            }
            let until = try reader.time("valid_until") ?? event.at
            guard until >= key.validFrom else {
                throw LedgerError(.outOfRange, "valid_until \(until) is before the key became valid (\(key.validFrom))", at: ErrorLocation(field: "data.valid_until"))
            }
            key.validUntil = until
            key.revokedSeq = seq
            effects.keys = [key]
        default:
            throw LedgerError(.malformed, "\(event.kind.rawValue) is not a registry kind")
        }
        return effects
    }

    static func judgePackEvent(_ event: Event, party: PartyState, seq: UInt64, state: some LedgerStateView) throws(LedgerError) -> Effects {
        guard let rule = LifecycleRule.rule(for: event.kind), let packID = event.pack else {
            throw LedgerError(.malformed, "\(event.kind.rawValue) is not a pack event")
        }
        guard party.roles.contains(where: { rule.roleBits & $0.bit != 0 }) else {
            throw LedgerError(.missingRole, "\(party.id) (roles: \(party.roles.map(\.rawValue).joined(separator: ","))) may not record \(event.kind.rawValue); that needs one of \(rule.roles.map(\.rawValue).sorted().joined(separator: ", "))", at: ErrorLocation(field: "actor"))
        }
        let reader = DataReader(event)
        let existing = try state.pack(packID)
        guard let before = existing else {
            guard event.kind == .produced else {
                throw LedgerError(.forbiddenTransition, "pack \(packID) is unknown: its first event must be produced", at: ErrorLocation(field: "pack"))
            }
            return try judgeProduced(event, party: party, reader: reader, seq: seq, state: state)
        }
        if before.status.isTerminal {
            throw LedgerError(.forbiddenTransition, "pack \(packID) is \(before.status.rawValue), a terminal status: nothing more may be recorded for it", at: ErrorLocation(field: "kind"))
        }
        guard let from = rule.from else {
            throw LedgerError(.forbiddenTransition, "pack \(packID) already exists (status \(before.status.rawValue)); produced may only be its first event", at: ErrorLocation(field: "kind"))
        }
        guard rule.fromBits & before.status.bit != 0 else {
            throw LedgerError(.forbiddenTransition, "\(event.kind.rawValue) is not allowed for pack \(packID) in status \(before.status.rawValue) (allowed from: \(from.map(\.rawValue).sorted().joined(separator: ", ")))", at: ErrorLocation(field: "kind"))
        }
        guard event.at >= before.lastAt else {
            throw LedgerError(.badTime, "at \(event.at) is earlier than the pack's previous event (\(before.lastAt), entry \(before.lastSeq))", at: ErrorLocation(field: "at"))
        }
        var after = before
        after.lastSeq = seq
        after.lastAt = event.at
        if let to = rule.to { after.status = to }
        switch event.kind {
        case .sold:
            try reader.allowOnly(DataKeys.sold)
            let market = try reader.requiredString("market", max: 2)
            try checkMarket(market)
            if after.placedAt == nil { after.placedAt = event.at; after.placedMarket = market }
        case .installed:
            try reader.allowOnly(DataKeys.installed)
            let vin = try reader.string("vin", max: 17)
            let asset = try reader.string("asset")
            guard vin != nil || asset != nil else {
                throw LedgerError(.malformed, "installed requires data.vin or data.asset", at: ErrorLocation(field: "data.vin"))
            }
            if let vin { try checkVIN(vin) }
            let market = try reader.string("market", max: 2)
            if let market { try checkMarket(market) }
            if after.placedAt == nil { after.placedAt = event.at; after.placedMarket = market }
            after.custodian = party.id
        case .serviced:
            try reader.allowOnly(DataKeys.serviced)
            _ = try reader.requiredString("work", max: DataLimits.maxTextLength)
            _ = try reader.stringList("replaced_modules", maxCount: 1_000, validate: Identifiers.isPackID, what: "module id")
        case .removed:
            try reader.allowOnly(DataKeys.removed)
            _ = try reader.oneOf("reason", DataKeys.removalReasons)
            after.custodian = party.id
        case .assessed:
            try reader.allowOnly(DataKeys.assessed)
            _ = try reader.requiredNumber("soh_pct", min: 0, max: 100)
            _ = try reader.oneOf("grade", DataKeys.grades)
        case .reused:
            try reader.allowOnly([])
        case .repurposed:
            try reader.allowOnly(DataKeys.repurposed)
            let into = try reader.requiredString("into", max: 64)
            guard Identifiers.isPackID(into) else {
                throw LedgerError(.malformed, "data.into \"\(into)\" is not a valid pack id", at: ErrorLocation(field: "data.into"))
            }
            guard into != packID else {
                throw LedgerError(.malformed, "a pack cannot be repurposed into itself", at: ErrorLocation(field: "data.into"))
            }
            if try state.pack(into) != nil {
                throw LedgerError(.conflict, "pack \(into) already exists; repurposing must name a new pack id", at: ErrorLocation(field: "data.into"))
            }
            after.repurposedInto = into
        case .collected:
            try reader.allowOnly(DataKeys.collected)
            _ = try reader.string("site")
            after.custodian = party.id
            if after.collectedAt == nil { after.collectedAt = event.at }
        case .transferred:
            try reader.allowOnly(DataKeys.transferred)
            guard before.custodian == party.id else {
                throw LedgerError(.missingRole, "only the current custodian (\(before.custodian)) may transfer pack \(packID)", at: ErrorLocation(field: "actor"))
            }
            let to = try reader.requiredString("to", max: 64)
            guard try state.party(to) != nil else {
                throw LedgerError(.unknownParty, "data.to \"\(to)\" is not a registered party", at: ErrorLocation(field: "data.to"))
            }
            guard to != before.custodian else {
                throw LedgerError(.forbiddenTransition, "\(to) already holds pack \(packID)", at: ErrorLocation(field: "data.to"))
            }
            after.custodian = to
        case .intake:
            try reader.allowOnly(DataKeys.intake)
            after.intakeKg = try reader.requiredNumber("mass_kg", min: 0, max: DataLimits.maxMassKg, minExclusive: true)
            after.intakeAt = event.at
            after.intakeBy = party.id
            after.custodian = party.id
            if after.collectedAt == nil { after.collectedAt = event.at }
        case .recovered:
            try reader.allowOnly(DataKeys.recovered)
            let input = try reader.requiredNumber("input_kg", min: 0, max: DataLimits.maxMassKg, minExclusive: true)
            after.outputKg = try reader.requiredNumber("recycled_output_kg", min: 0, max: input)
            after.inputKg = input
            after.recoveredAt = event.at
            guard let recovered = try reader.materialMap("recovered_kg", allowed: nil, max: input) else {
                throw LedgerError(.malformed, "recovered requires data.recovered_kg", at: ErrorLocation(field: "data.recovered_kg"))
            }
            after.recoveredJSON = DataReader.canonicalJSON(recovered)
            guard recovered.reduce(0, { $0 + $1.kg }) <= input else {
                throw LedgerError(.outOfRange, "data.recovered_kg adds up to more than data.input_kg", at: ErrorLocation(field: "data.recovered_kg"))
            }
        case .produced, .ledgerInit, .partyRegistered, .partyKeyAdded, .partyKeyRevoked, .batch:
            throw LedgerError(.malformed, "\(event.kind.rawValue) is not handled here")
        }
        var effects = Effects()
        effects.pack = after
        return effects
    }

    static func judgeProduced(_ event: Event, party: PartyState, reader: DataReader, seq: UInt64, state: some LedgerStateView) throws(LedgerError) -> Effects {
        let packID = event.pack ?? ""
        // A 24-character id of capitals and digits is a GB/T 34014 code and must be a valid one.
        if BatteryCode.hasShape(packID) {
            do throws(LedgerError) {
                _ = try BatteryCode(packID)
            } catch {
                throw LedgerError(.malformed, error.reason, at: ErrorLocation(field: "pack"))
            }
        }
        try reader.allowOnly(DataKeys.produced)
        let category = try reader.oneOf("category", DataLimits.categories)
        let chemistry = try reader.oneOf("chemistry", DataLimits.chemistries)
        let mass = try reader.requiredNumber("mass_kg", min: 0, max: DataLimits.maxMassKg, minExclusive: true)
        let energy = try reader.requiredNumber("energy_kwh", min: 0, max: DataLimits.maxEnergyKwh)
        var materialsJSON = ""
        if let materials = try reader.materialMap("materials_kg", allowed: DataLimits.materials, max: mass) {
            guard materials.reduce(0, { $0 + $1.kg }) <= mass else {
                throw LedgerError(.outOfRange, "data.materials_kg adds up to more than data.mass_kg", at: ErrorLocation(field: "data.materials_kg"))
            }
            materialsJSON = DataReader.canonicalJSON(materials)
        }
        _ = try reader.materialMap("recycled_share", allowed: DataLimits.recycledShareMaterials, max: 1)
        _ = try reader.string("plant")
        _ = try reader.string("model")
        let producer = try reader.string("producer", max: 64) ?? party.id
        if producer != party.id, try state.party(producer) == nil {
            throw LedgerError(.unknownParty, "data.producer \"\(producer)\" is not a registered party", at: ErrorLocation(field: "data.producer"))
        }
        let derived = try reader.stringList("derived_from", maxCount: DataLimits.maxDerivedFrom, validate: Identifiers.isPackID, what: "pack id") ?? []
        if !party.roles.contains(.manufacturer), derived.isEmpty {
            throw LedgerError(.malformed, "a repurposer's produced event is a second-life pack and requires data.derived_from", at: ErrorLocation(field: "data.derived_from"))
        }
        for (i, original) in derived.enumerated() {
            guard let p = try state.pack(original), p.status == .repurposed, p.repurposedInto == packID else {
                throw LedgerError(.forbiddenTransition, "data.derived_from names \(original), which was not repurposed into \(packID)", at: ErrorLocation(field: "data.derived_from[\(i)]"))
            }
        }
        // Composition: modules and cells, each part of one pack only, never the pack itself or
        // anything it is part of (no cycles); a code-shaped id must be a module or cell code.
        let components = try reader.stringList("components", maxCount: DataLimits.maxComponents, validate: Identifiers.isPackID, what: "module or cell id") ?? []
        // (Only a pack that lists components needs its ancestors: most list none.)
        var ancestors: Set<String> = []
        if !components.isEmpty {
            ancestors.insert(packID)
            var up = try state.parent(of: packID)
            while let p = up, !ancestors.contains(p) {
                ancestors.insert(p)
                up = try state.parent(of: p)
            }
        }
        for (i, component) in components.enumerated() {
            let field = "data.components[\(i)]"
            guard !ancestors.contains(component) else {
                throw LedgerError(.malformed, "\(component) cannot be a component of \(packID): that would make a cycle", at: ErrorLocation(field: field))
            }
            if BatteryCode.hasShape(component) {
                do throws(LedgerError) {
                    guard try BatteryCode(component).level != .pack else {
                        throw LedgerError(.malformed, "\(component) is a pack code (level P), not a module or cell")
                    }
                } catch {
                    throw LedgerError(.malformed, error.reason, at: ErrorLocation(field: field))
                }
            }
            if let parent = try state.parent(of: component) {
                throw LedgerError(.conflict, "\(component) is already a component of \(parent)", at: ErrorLocation(field: field))
            }
        }
        var effects = Effects()
        effects.components = components.map { ($0, packID) }
        effects.pack = PackState(pack: packID, status: .new, custodian: party.id, producer: producer, category: category,
                                   chemistry: chemistry, massKg: mass, energyKwh: energy, producedSeq: seq, lastSeq: seq,
                                   lastAt: event.at, placedAt: nil, placedMarket: nil, repurposedInto: nil, derivedFrom: derived,
                                   materialsJSON: materialsJSON)
        return effects
    }

    static func checkMarket(_ market: String) throws(LedgerError) {
        guard market.utf8.count == 2, market.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw LedgerError(.malformed, "market \"\(market)\" is not an ISO 3166-1 alpha-2 code (two capital letters)", at: ErrorLocation(field: "data.market"))
        }
    }

    /// ISO 3779: 17 characters from digits and capital letters other than I, O and Q.
    static func checkVIN(_ vin: String) throws(LedgerError) {
        let ok = vin.utf8.count == 17 && vin.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90 && $0 != 73 && $0 != 79 && $0 != 81)
        }
        guard ok else {
            throw LedgerError(.malformed, "vin \"\(vin)\" is not 17 characters of 0-9 and A-Z without I, O, Q", at: ErrorLocation(field: "data.vin"))
        }
    }
}
