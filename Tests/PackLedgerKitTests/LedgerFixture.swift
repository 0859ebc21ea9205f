import Foundation
@testable import PackLedgerKit

/// A ledger in a temporary directory with one party per role, keys valid from 2020.
final class World {
    let dir: TemporaryDirectory
    let path: String
    let ledger: Ledger
    let operatorKey: Ed25519PrivateKey
    private(set) var keys: [String: Ed25519PrivateKey] = [:]

    static let parties: [(String, [Role])] = [
        ("maker", [.manufacturer]), ("oem", [.oem]), ("dist", [.distributor]), ("svc", [.service]),
        ("dis", [.dismantler]), ("coll", [.collector]), ("rep", [.repurposer]), ("rec", [.recycler]),
    ]

    init(parties: [(String, [Role])] = World.parties) throws {
        dir = try TemporaryDirectory()
        path = dir.path("ledger.db")
        operatorKey = try Ed25519PrivateKey.generate()
        ledger = try Ledger.create(path: path, origin: "test.example/ledger", operatorKey: operatorKey)
        for (id, roles) in parties { try register(id, roles: roles) }
    }

    func registry(_ kind: EventKind, party: String, data: [String: JSONValue]) throws -> AppendResult {
        let json: JSONValue = .object([
            "event_id": .string(UUID().uuidString.lowercased()), "kind": .string(kind.rawValue), "actor": "operator",
            "party": .string(party), "at": .string(Timestamp.now().rfc3339), "data": .object(data),
        ])
        return try ledger.append(SignedEvent(signing: Event(json: json), with: operatorKey))
    }

    @discardableResult
    func register(_ id: String, roles: [Role], validFrom: String = "2020-01-01T00:00:00Z") throws -> Ed25519PrivateKey {
        let key = try Ed25519PrivateKey.generate()
        _ = try registry(.partyRegistered, party: id, data: [
            "name": .string("Party \(id)"), "roles": .array(roles.map { .string($0.rawValue) }),
            "key": .string(Base64.encode(key.publicKey.raw)), "key_valid_from": .string(validFrom),
        ])
        keys[id] = key
        return key
    }

    func event(_ kind: String, pack: String, actor: String, at: String, data: [String: JSONValue] = [:], eventID: String? = nil) -> JSONValue {
        .object([
            "event_id": .string(eventID ?? UUID().uuidString.lowercased()), "kind": .string(kind), "pack": .string(pack),
            "actor": .string(actor), "at": .string(at), "data": .object(data),
        ])
    }

    @discardableResult
    func record(_ kind: String, pack: String, actor: String, at: String, data: [String: JSONValue] = [:],
                eventID: String? = nil, key: Ed25519PrivateKey? = nil) throws -> AppendResult {
        let json = event(kind, pack: pack, actor: actor, at: at, data: data, eventID: eventID)
        guard let signer = key ?? keys[actor] else { throw LedgerError(.usage, "no key for \(actor)") }
        return try ledger.append(SignedEvent(signing: Event(json: json), with: signer))
    }

    static let evPack: [String: JSONValue] = [
        "category": "ev", "chemistry": "nmc", "mass_kg": 450.5, "energy_kwh": 75,
        "materials_kg": ["li": 9.1, "co": 12.5, "ni": 38.2, "cu": 22], "recycled_share": ["co": 0.16, "li": 0.06],
    ]

    /// Pack `id` through produced → sold → installed → serviced → removed → collected →
    /// transferred → intake → recovered, in 2024–2025.
    func recycleFully(_ id: String) throws {
        try record("produced", pack: id, actor: "maker", at: "2024-01-10T08:00:00Z", data: World.evPack)
        try record("sold", pack: id, actor: "maker", at: "2024-02-01T08:00:00Z", data: ["market": "DE"])
        try record("installed", pack: id, actor: "oem", at: "2024-02-10T08:00:00Z", data: ["vin": "WVWZZZ1JZXW000001"])
        try record("serviced", pack: id, actor: "svc", at: "2024-09-10T08:00:00Z", data: ["work": "BMS firmware update"])
        try record("removed", pack: id, actor: "svc", at: "2025-03-01T08:00:00Z", data: ["reason": "end-of-life"])
        try record("assessed", pack: id, actor: "svc", at: "2025-03-02T08:00:00Z", data: ["soh_pct": 61, "grade": "recycle"])
        try record("collected", pack: id, actor: "coll", at: "2025-03-05T08:00:00Z", data: ["site": "Leipzig"])
        try record("transferred", pack: id, actor: "coll", at: "2025-03-06T08:00:00Z", data: ["to": "rec"])
        try record("intake", pack: id, actor: "rec", at: "2025-03-07T08:00:00Z", data: ["mass_kg": 449])
        try record("recovered", pack: id, actor: "rec", at: "2025-04-01T08:00:00Z", data: [
            "input_kg": 449, "recycled_output_kg": 310, "recovered_kg": ["li": 4.6, "co": 11.3, "ni": 35.1, "cu": 21],
        ])
    }
}
