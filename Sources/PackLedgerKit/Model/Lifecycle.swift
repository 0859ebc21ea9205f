/// The roles a party may hold (PRODUCT.md §2).
public enum Role: String, CaseIterable, Sendable, Comparable {
    case manufacturer, oem, distributor, service, dismantler, collector, repurposer, recycler, regulator

    /// Orders roles by name so that stored role lists have one spelling.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A pack's lifecycle status (PRODUCT.md §3).
public enum PackStatus: String, CaseIterable, Sendable {
    case new
    case inService = "in-service"
    case removed
    case waste
    case atRecycler = "at-recycler"
    case recycled
    case repurposed

    /// Terminal statuses accept no further events for that identifier.
    public var isTerminal: Bool { self == .recycled || self == .repurposed }
}

/// Every kind of ledger entry: the pack event kinds of PRODUCT.md §3 and the registry
/// kinds that the operator signs.
public enum EventKind: String, CaseIterable, Sendable {
    case produced, sold, installed, serviced, removed, assessed, reused, repurposed,
         collected, transferred, intake, recovered
    /// The first entry of every ledger: origin and operator key.
    case ledgerInit = "ledger.init"
    /// A party is registered with its roles and first key.
    case partyRegistered = "party.registered"
    /// A party gains a key.
    case partyKeyAdded = "party.key-added"
    /// A party's key stops being valid from a given time.
    case partyKeyRevoked = "party.key-revoked"
    /// An actor's one signature over a batch of its events that follow (FORMAT.md §13).
    case batch

    /// The kind spelled `name`, as `init(rawValue:)` gives it. Every decoded event looks its
    /// kind up, and the synthesised initialiser compares the name with each spelling in turn
    /// through the generic string comparison (1.5 % of `verify`); here only spellings of the
    /// same length are compared, byte by byte.
    public static func named(_ name: String) -> EventKind? {
        var name = name
        return name.withUTF8 { text -> EventKind? in
            for (spelling, kind) in spellings where spelling.count == text.count {
                if spelling.withUnsafeBufferPointer({ $0.elementsEqual(text) }) { return kind }
            }
            return nil
        }
    }

    private static let spellings: [([UInt8], EventKind)] = allCases.map { (Array($0.rawValue.utf8), $0) }

    /// Registry kinds concern a party and are signed by the operator.
    public var isRegistry: Bool {
        switch self {
        case .ledgerInit, .partyRegistered, .partyKeyAdded, .partyKeyRevoked: return true
        default: return false
        }
    }
}

/// One row of the lifecycle table: who may record a kind, from which statuses, and to which.
public struct LifecycleRule: Sendable {
    /// Roles allowed to record the kind.
    public let roles: Set<Role>
    /// Statuses the pack may be in; nil means the pack must not exist yet.
    public let from: Set<PackStatus>?
    /// The status afterwards; nil means unchanged.
    public let to: PackStatus?
    /// `roles` and `from` as bit masks (`Role.bit`, `PackStatus.bit`; `from` nil is 0): the
    /// rules test membership for every pack event, and a `Set` of a String-backed enum hashes
    /// the raw string each time.
    let roleBits: UInt16, fromBits: UInt16

    /// A row of the table.
    public init(roles: Set<Role>, from: Set<PackStatus>?, to: PackStatus?) {
        self.roles = roles
        self.from = from
        self.to = to
        roleBits = roles.reduce(0) { $0 | $1.bit }
        fromBits = from?.reduce(0) { $0 | $1.bit } ?? 0
    }

    /// The PRODUCT.md §3 table. `transferred` is further limited to the current custodian,
    /// which no role can express, so its role set is every role.
    public static func rule(for kind: EventKind) -> LifecycleRule? {
        // An index into a table built once, not a dictionary: the rules are consulted for every
        // event of every import and verify, and a String-backed enum hashes its raw value.
        switch kind {
        case .produced: return table[0]
        case .sold: return table[1]
        case .installed: return table[2]
        case .serviced: return table[3]
        case .removed: return table[4]
        case .assessed: return table[5]
        case .reused: return table[6]
        case .repurposed: return table[7]
        case .collected: return table[8]
        case .transferred: return table[9]
        case .intake: return table[10]
        case .recovered: return table[11]
        case .ledgerInit, .partyRegistered, .partyKeyAdded, .partyKeyRevoked, .batch: return nil
        }
    }

    /// The pack kinds' rules, in the order `rule(for:)` indexes them.
    private static let table: [LifecycleRule?] = [EventKind.produced, .sold, .installed, .serviced, .removed, .assessed,
                                                  .reused, .repurposed, .collected, .transferred, .intake, .recovered].map(build)

    /// The rule for `kind`, built from the PRODUCT.md §3 table; `rule(for:)` serves it from `table`.
    static func build(_ kind: EventKind) -> LifecycleRule? {
        let nonTerminal = Set(PackStatus.allCases.filter { !$0.isTerminal })
        switch kind {
        case .produced: return LifecycleRule(roles: [.manufacturer, .repurposer], from: nil, to: .new)
        case .sold: return LifecycleRule(roles: [.manufacturer, .oem, .distributor], from: [.new], to: .new)
        case .installed: return LifecycleRule(roles: [.oem, .service, .repurposer], from: [.new], to: .inService)
        case .serviced: return LifecycleRule(roles: [.oem, .service], from: [.inService], to: .inService)
        case .removed: return LifecycleRule(roles: [.oem, .service, .dismantler], from: [.inService], to: .removed)
        case .assessed:
            return LifecycleRule(roles: [.service, .dismantler, .repurposer, .recycler], from: [.new, .removed, .waste], to: nil)
        case .reused: return LifecycleRule(roles: [.service, .repurposer], from: [.removed], to: .new)
        case .repurposed: return LifecycleRule(roles: [.repurposer], from: [.removed, .waste], to: .repurposed)
        case .collected:
            return LifecycleRule(roles: [.collector, .dismantler, .oem, .service, .recycler], from: [.removed, .inService], to: .waste)
        case .transferred: return LifecycleRule(roles: Set(Role.allCases), from: nonTerminal, to: nil)
        case .intake: return LifecycleRule(roles: [.recycler], from: [.waste, .removed], to: .atRecycler)
        case .recovered: return LifecycleRule(roles: [.recycler], from: [.atRecycler], to: .recycled)
        case .ledgerInit, .partyRegistered, .partyKeyAdded, .partyKeyRevoked, .batch: return nil
        }
    }
}

extension Role {
    /// A bit of its own (see `LifecycleRule.roleBits`).
    var bit: UInt16 {
        switch self {
        case .manufacturer: 1 << 0
        case .oem: 1 << 1
        case .distributor: 1 << 2
        case .service: 1 << 3
        case .dismantler: 1 << 4
        case .collector: 1 << 5
        case .repurposer: 1 << 6
        case .recycler: 1 << 7
        case .regulator: 1 << 8
        }
    }
}

extension PackStatus {
    /// A bit of its own (see `LifecycleRule.fromBits`).
    var bit: UInt16 {
        switch self {
        case .new: 1 << 0
        case .inService: 1 << 1
        case .removed: 1 << 2
        case .waste: 1 << 3
        case .atRecycler: 1 << 4
        case .recycled: 1 << 5
        case .repurposed: 1 << 6
        }
    }
}
