/// The one stored copy of a state's fields, shared by copies of the state until one of them
/// changes it (then that one copies the fields first). Parties, keys and packs are read for
/// every event the rules judge, and each copy of a struct holding their strings by value cost a
/// reference count per string and, for packs, moves of a few hundred bytes. Never changed once
/// shared, which is why it may cross threads.
final class SharedFields<Fields: Sendable & Equatable>: @unchecked Sendable {
    var fields: Fields
    init(_ fields: Fields) { self.fields = fields }

    /// Applies `change` to the fields `box` holds, copying them into a box of their own first
    /// unless `box` is their only holder.
    static func change(_ box: inout SharedFields, _ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = SharedFields(box.fields) }
        change(&box.fields)
    }

    /// Whether two boxes hold equal fields (the same box certainly does).
    static func same(_ a: SharedFields, _ b: SharedFields) -> Bool { a === b || a.fields == b.fields }
}

/// A registered party as of some point in the log (copy-on-write, see `SharedFields`).
public struct PartyState: Sendable, Equatable {
    /// The stored fields.
    struct Fields: Equatable {
        var id: String
        var name: String
        var roles: [Role]
        var authorizedFrom: Timestamp? = nil
        var authorizedUntil: Timestamp? = nil
        var registeredSeq: UInt64
    }

    private var box: SharedFields<Fields>

    /// A state from its fields; the optional ones default to absent.
    public init(id: String, name: String, roles: [Role], authorizedFrom: Timestamp? = nil, authorizedUntil: Timestamp? = nil, registeredSeq: UInt64) {
        box = SharedFields(Fields(id: id, name: name, roles: roles, authorizedFrom: authorizedFrom, authorizedUntil: authorizedUntil, registeredSeq: registeredSeq))
    }

    /// The party id.
    public var id: String {
        get { box.fields.id }
        set { SharedFields.change(&box) { $0.id = newValue } }
    }
    /// Display name.
    public var name: String {
        get { box.fields.name }
        set { SharedFields.change(&box) { $0.name = newValue } }
    }
    /// Roles, sorted.
    public var roles: [Role] {
        get { box.fields.roles }
        set { SharedFields.change(&box) { $0.roles = newValue } }
    }
    /// Start of a recycler's or repurposer's authorization, if granted.
    public var authorizedFrom: Timestamp? {
        get { box.fields.authorizedFrom }
        set { SharedFields.change(&box) { $0.authorizedFrom = newValue } }
    }
    /// End (exclusive) of that authorization.
    public var authorizedUntil: Timestamp? {
        get { box.fields.authorizedUntil }
        set { SharedFields.change(&box) { $0.authorizedUntil = newValue } }
    }
    /// The entry that registered the party.
    public var registeredSeq: UInt64 {
        get { box.fields.registeredSeq }
        set { SharedFields.change(&box) { $0.registeredSeq = newValue } }
    }

    /// Equal when every field is.
    public static func == (lhs: PartyState, rhs: PartyState) -> Bool {
        SharedFields.same(lhs.box, rhs.box)
    }
}

/// A key and its validity window `[validFrom, validUntil)` (copy-on-write, see `SharedFields`).
public struct KeyState: Sendable, Equatable {
    /// The stored fields.
    struct Fields: Equatable {
        var keyID: String
        var party: String
        var publicKey: Ed25519PublicKey
        var validFrom: Timestamp
        var validUntil: Timestamp? = nil
        var addedSeq: UInt64
        var revokedSeq: UInt64? = nil
    }

    private var box: SharedFields<Fields>

    /// A state from its fields; the optional ones default to absent.
    public init(keyID: String, party: String, publicKey: Ed25519PublicKey, validFrom: Timestamp, validUntil: Timestamp? = nil, addedSeq: UInt64, revokedSeq: UInt64? = nil) {
        box = SharedFields(Fields(keyID: keyID, party: party, publicKey: publicKey, validFrom: validFrom, validUntil: validUntil, addedSeq: addedSeq, revokedSeq: revokedSeq))
    }

    /// 16-hex key id.
    public var keyID: String {
        get { box.fields.keyID }
        set { SharedFields.change(&box) { $0.keyID = newValue } }
    }
    /// The owning party id, or `operator`.
    public var party: String {
        get { box.fields.party }
        set { SharedFields.change(&box) { $0.party = newValue } }
    }
    /// The key itself.
    public var publicKey: Ed25519PublicKey {
        get { box.fields.publicKey }
        set { SharedFields.change(&box) { $0.publicKey = newValue } }
    }
    /// First instant at which signatures are accepted.
    public var validFrom: Timestamp {
        get { box.fields.validFrom }
        set { SharedFields.change(&box) { $0.validFrom = newValue } }
    }
    /// First instant at which they are no longer accepted, once revoked.
    public var validUntil: Timestamp? {
        get { box.fields.validUntil }
        set { SharedFields.change(&box) { $0.validUntil = newValue } }
    }
    /// The entry that added the key.
    public var addedSeq: UInt64 {
        get { box.fields.addedSeq }
        set { SharedFields.change(&box) { $0.addedSeq = newValue } }
    }
    /// The entry that revoked it.
    public var revokedSeq: UInt64? {
        get { box.fields.revokedSeq }
        set { SharedFields.change(&box) { $0.revokedSeq = newValue } }
    }

    /// Equal when every field is.
    public static func == (lhs: KeyState, rhs: KeyState) -> Bool {
        SharedFields.same(lhs.box, rhs.box)
    }

    /// Whether an event happening at `t` may be signed with this key.
    public func isValid(at t: Timestamp) -> Bool {
        guard validFrom <= t else { return false }
        if let validUntil { return t < validUntil }
        return true
    }
}

/// A pack's current state, derived from its events (copy-on-write, see `SharedFields`).
public struct PackState: Sendable, Equatable {
    /// The stored fields.
    struct Fields: Equatable {
        var pack: String
        var status: PackStatus
        var custodian: String
        var producer: String
        var category: String
        var chemistry: String
        var massKg: Double
        var energyKwh: Double
        var producedSeq: UInt64
        var lastSeq: UInt64
        var lastAt: Timestamp
        var placedAt: Timestamp? = nil
        var placedMarket: String? = nil
        var repurposedInto: String? = nil
        var derivedFrom: [String]
        var materialsJSON: String = ""
        var collectedAt: Timestamp? = nil
        var intakeAt: Timestamp? = nil
        var intakeKg: Double? = nil
        var intakeBy: String? = nil
        var recoveredAt: Timestamp? = nil
        var inputKg: Double? = nil
        var outputKg: Double? = nil
        var recoveredJSON: String = ""
    }

    private var box: SharedFields<Fields>

    /// A state over `fields`, for a store that keeps packs' fields flat (`MemoryState`).
    init(fields: Fields) {
        box = SharedFields(fields)
    }

    /// The fields, copied out.
    var fields: Fields { box.fields }

    /// A state from its fields; the optional ones default to absent.
    public init(pack: String, status: PackStatus, custodian: String, producer: String, category: String, chemistry: String, massKg: Double, energyKwh: Double, producedSeq: UInt64, lastSeq: UInt64, lastAt: Timestamp, placedAt: Timestamp? = nil, placedMarket: String? = nil, repurposedInto: String? = nil, derivedFrom: [String], materialsJSON: String = "", collectedAt: Timestamp? = nil, intakeAt: Timestamp? = nil, intakeKg: Double? = nil, intakeBy: String? = nil, recoveredAt: Timestamp? = nil, inputKg: Double? = nil, outputKg: Double? = nil, recoveredJSON: String = "") {
        box = SharedFields(Fields(pack: pack, status: status, custodian: custodian, producer: producer, category: category, chemistry: chemistry, massKg: massKg, energyKwh: energyKwh, producedSeq: producedSeq, lastSeq: lastSeq, lastAt: lastAt, placedAt: placedAt, placedMarket: placedMarket, repurposedInto: repurposedInto, derivedFrom: derivedFrom, materialsJSON: materialsJSON, collectedAt: collectedAt, intakeAt: intakeAt, intakeKg: intakeKg, intakeBy: intakeBy, recoveredAt: recoveredAt, inputKg: inputKg, outputKg: outputKg, recoveredJSON: recoveredJSON))
    }

    /// The pack id.
    public var pack: String {
        get { box.fields.pack }
        set { SharedFields.change(&box) { $0.pack = newValue } }
    }
    /// Lifecycle status.
    public var status: PackStatus {
        get { box.fields.status }
        set { SharedFields.change(&box) { $0.status = newValue } }
    }
    /// The party holding it now.
    public var custodian: String {
        get { box.fields.custodian }
        set { SharedFields.change(&box) { $0.custodian = newValue } }
    }
    /// The party responsible under EPR.
    public var producer: String {
        get { box.fields.producer }
        set { SharedFields.change(&box) { $0.producer = newValue } }
    }
    /// Battery category.
    public var category: String {
        get { box.fields.category }
        set { SharedFields.change(&box) { $0.category = newValue } }
    }
    /// Chemistry.
    public var chemistry: String {
        get { box.fields.chemistry }
        set { SharedFields.change(&box) { $0.chemistry = newValue } }
    }
    /// Declared mass.
    public var massKg: Double {
        get { box.fields.massKg }
        set { SharedFields.change(&box) { $0.massKg = newValue } }
    }
    /// Declared energy.
    public var energyKwh: Double {
        get { box.fields.energyKwh }
        set { SharedFields.change(&box) { $0.energyKwh = newValue } }
    }
    /// The `produced` entry.
    public var producedSeq: UInt64 {
        get { box.fields.producedSeq }
        set { SharedFields.change(&box) { $0.producedSeq = newValue } }
    }
    /// The latest entry about this pack.
    public var lastSeq: UInt64 {
        get { box.fields.lastSeq }
        set { SharedFields.change(&box) { $0.lastSeq = newValue } }
    }
    /// `at` of the latest event: later events may not go back before it.
    public var lastAt: Timestamp {
        get { box.fields.lastAt }
        set { SharedFields.change(&box) { $0.lastAt = newValue } }
    }
    /// Placing on the market: the first `sold` or `installed`.
    public var placedAt: Timestamp? {
        get { box.fields.placedAt }
        set { SharedFields.change(&box) { $0.placedAt = newValue } }
    }
    /// Market of that placing, when stated.
    public var placedMarket: String? {
        get { box.fields.placedMarket }
        set { SharedFields.change(&box) { $0.placedMarket = newValue } }
    }
    /// The second-life pack this one was repurposed into.
    public var repurposedInto: String? {
        get { box.fields.repurposedInto }
        set { SharedFields.change(&box) { $0.repurposedInto = newValue } }
    }
    /// The packs this one was made from.
    public var derivedFrom: [String] {
        get { box.fields.derivedFrom }
        set { SharedFields.change(&box) { $0.derivedFrom = newValue } }
    }
    /// Declared material content (`produced` data.materials_kg) as RFC 8785 JSON, or empty.
    public var materialsJSON: String {
        get { box.fields.materialsJSON }
        set { SharedFields.change(&box) { $0.materialsJSON = newValue } }
    }
    /// First `collected`, or the `intake` when it was never collected: when it became waste
    /// collected for the EPR collection figure.
    public var collectedAt: Timestamp? {
        get { box.fields.collectedAt }
        set { SharedFields.change(&box) { $0.collectedAt = newValue } }
    }
    /// When a recycler took it in.
    public var intakeAt: Timestamp? {
        get { box.fields.intakeAt }
        set { SharedFields.change(&box) { $0.intakeAt = newValue } }
    }
    /// The weighed intake mass.
    public var intakeKg: Double? {
        get { box.fields.intakeKg }
        set { SharedFields.change(&box) { $0.intakeKg = newValue } }
    }
    /// The recycler that took it in.
    public var intakeBy: String? {
        get { box.fields.intakeBy }
        set { SharedFields.change(&box) { $0.intakeBy = newValue } }
    }
    /// When it was recovered.
    public var recoveredAt: Timestamp? {
        get { box.fields.recoveredAt }
        set { SharedFields.change(&box) { $0.recoveredAt = newValue } }
    }
    /// `recovered` data.input_kg.
    public var inputKg: Double? {
        get { box.fields.inputKg }
        set { SharedFields.change(&box) { $0.inputKg = newValue } }
    }
    /// `recovered` data.recycled_output_kg.
    public var outputKg: Double? {
        get { box.fields.outputKg }
        set { SharedFields.change(&box) { $0.outputKg = newValue } }
    }
    /// `recovered` data.recovered_kg as RFC 8785 JSON, or empty.
    public var recoveredJSON: String {
        get { box.fields.recoveredJSON }
        set { SharedFields.change(&box) { $0.recoveredJSON = newValue } }
    }

    /// Equal when every field is.
    public static func == (lhs: PackState, rhs: PackState) -> Bool {
        SharedFields.same(lhs.box, rhs.box)
    }
}

/// What the ledger knows of an event id.
public struct EventRecord: Sendable, Equatable {
    /// The entry holding the event.
    public var seq: UInt64
    /// SHA-256 of its event bytes.
    public var eventHash: Digest
}

/// The state changes one accepted entry causes; applied by whichever store replays it.
public struct Effects: Sendable {
    /// Parties created or changed.
    public var parties: [PartyState] = []
    /// Keys created or changed.
    public var keys: [KeyState] = []
    /// The pack created or changed (an event concerns at most one).
    public var pack: PackState?
    /// Set by `ledger.init`.
    public var origin: String?
    /// Components a `produced` lists: (component, parent).
    public var components: [(component: String, parent: String)] = []
}

/// Read access to the state the rules consult. Two implementations: SQLite projections
/// when appending, in-memory maps when `verify` replays the log from nothing.
public protocol LedgerStateView: AnyObject {
    /// A registered party.
    func party(_ id: String) throws(LedgerError) -> PartyState?
    /// A key by id.
    func key(_ keyID: String) throws(LedgerError) -> KeyState?
    /// A pack.
    func pack(_ id: String) throws(LedgerError) -> PackState?
    /// An event id already in the log (ids differing only in case are the same).
    func eventRecord(_ eventKey: EventKey) throws(LedgerError) -> EventRecord?
    /// The pack a module or cell is part of.
    func parent(of component: String) throws(LedgerError) -> String?
}

/// In-memory state, built by replaying entries.
public final class MemoryState: LedgerStateView {
    var parties: [String: PartyState] = [:]
    var keys: [String: KeyState] = [:]
    /// Packs' fields, held flat rather than as the boxes `PackState` shares: `verify` replays
    /// hundreds of thousands of packs, and reaching each through its box was one more cache
    /// miss per pack event (at 1,000,000 entries that cost more than the boxes saved).
    var packs: [String: PackState.Fields] = [:]
    /// Entry of each event id. The event hashes are kept apart, and only when given (not zero):
    /// `verify` has no use for them and replays millions of ids, whose map is then less than half
    /// the size (24 instead of 56 bytes a slot) and misses the cache less.
    var events: [EventKey: UInt64] = [:]
    var eventHashes: [EventKey: Digest] = [:]
    var parents: [String: String] = [:]
    /// The ledger origin, once `ledger.init` is replayed.
    public private(set) var origin: String?

    /// An empty state.
    public init() {}

    /// Makes room for this many events and packs at once, so that a replay of a large ledger
    /// does not rehash its maps at every doubling. Only a hint: any number is safe.
    public func reserve(events: Int, packs: Int) {
        self.events.reserveCapacity(max(0, events))
        self.packs.reserveCapacity(max(0, packs))
    }

    /// See `LedgerStateView`.
    public func party(_ id: String) -> PartyState? { parties[id] }
    /// See `LedgerStateView`.
    public func key(_ keyID: String) -> KeyState? { keys[keyID] }
    /// See `LedgerStateView`.
    public func pack(_ id: String) -> PackState? { packs[id].map(PackState.init(fields:)) }
    /// See `LedgerStateView`.
    public func eventRecord(_ eventKey: EventKey) -> EventRecord? {
        events[eventKey].map { EventRecord(seq: $0, eventHash: eventHashes[eventKey] ?? .zero) }
    }
    /// See `LedgerStateView`.
    public func parent(of component: String) -> String? { parents[component] }

    /// Records an accepted entry's effects.
    public func apply(_ effects: Effects, event: Event, record: EventRecord) {
        for p in effects.parties { parties[p.id] = p }
        for k in effects.keys { keys[k.keyID] = k }
        if let p = effects.pack { packs[p.pack] = p.fields }
        if let origin = effects.origin { self.origin = origin }
        for c in effects.components { parents[c.component] = c.parent }
        events[event.eventKey] = record.seq
        if record.eventHash != .zero { eventHashes[event.eventKey] = record.eventHash }
    }
}
