/// A registered party as of some point in the log.
public struct PartyState: Sendable, Equatable {
    /// The party id.
    public var id: String
    /// Display name.
    public var name: String
    /// Roles, sorted.
    public var roles: [Role]
    /// Start of a recycler's or repurposer's authorization, if granted.
    public var authorizedFrom: Timestamp?
    /// End (exclusive) of that authorization.
    public var authorizedUntil: Timestamp?
    /// The entry that registered the party.
    public var registeredSeq: UInt64
}

/// A key and its validity window `[validFrom, validUntil)`.
public struct KeyState: Sendable, Equatable {
    /// 16-hex key id.
    public var keyID: String
    /// The owning party id, or `operator`.
    public var party: String
    /// The key itself.
    public var publicKey: Ed25519PublicKey
    /// First instant at which signatures are accepted.
    public var validFrom: Timestamp
    /// First instant at which they are no longer accepted, once revoked.
    public var validUntil: Timestamp?
    /// The entry that added the key.
    public var addedSeq: UInt64
    /// The entry that revoked it.
    public var revokedSeq: UInt64?

    /// Whether an event happening at `t` may be signed with this key.
    public func isValid(at t: Timestamp) -> Bool {
        guard validFrom <= t else { return false }
        if let validUntil { return t < validUntil }
        return true
    }
}

/// A pack's current state, derived from its events.
public struct PackState: Sendable, Equatable {
    /// The pack id.
    public var pack: String
    /// Lifecycle status.
    public var status: PackStatus
    /// The party holding it now.
    public var custodian: String
    /// The party responsible under EPR.
    public var producer: String
    /// Battery category.
    public var category: String
    /// Chemistry.
    public var chemistry: String
    /// Declared mass.
    public var massKg: Double
    /// Declared energy.
    public var energyKwh: Double
    /// The `produced` entry.
    public var producedSeq: UInt64
    /// The latest entry about this pack.
    public var lastSeq: UInt64
    /// `at` of the latest event: later events may not go back before it.
    public var lastAt: Timestamp
    /// Placing on the market: the first `sold` or `installed`.
    public var placedAt: Timestamp?
    /// Market of that placing, when stated.
    public var placedMarket: String?
    /// The second-life pack this one was repurposed into.
    public var repurposedInto: String?
    /// The packs this one was made from.
    public var derivedFrom: [String]
    /// Declared material content (`produced` data.materials_kg) as RFC 8785 JSON, or empty.
    public var materialsJSON: String = ""
    /// First `collected`, or the `intake` when it was never collected: when it became waste
    /// collected for the EPR collection figure.
    public var collectedAt: Timestamp?
    /// When a recycler took it in.
    public var intakeAt: Timestamp?
    /// The weighed intake mass.
    public var intakeKg: Double?
    /// The recycler that took it in.
    public var intakeBy: String?
    /// When it was recovered.
    public var recoveredAt: Timestamp?
    /// `recovered` data.input_kg.
    public var inputKg: Double?
    /// `recovered` data.recycled_output_kg.
    public var outputKg: Double?
    /// `recovered` data.recovered_kg as RFC 8785 JSON, or empty.
    public var recoveredJSON: String = ""
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
    var packs: [String: PackState] = [:]
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
    public func pack(_ id: String) -> PackState? { packs[id] }
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
        if let p = effects.pack { packs[p.pack] = p }
        if let origin = effects.origin { self.origin = origin }
        for c in effects.components { parents[c.component] = c.parent }
        events[event.eventKey] = record.seq
        if record.eventHash != .zero { eventHashes[event.eventKey] = record.eventHash }
    }
}
