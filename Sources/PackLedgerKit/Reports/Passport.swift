/// The battery-passport view of one pack (EU 2023/1542 Art. 77–78, Annex XIII): static data from
/// `produced`, dynamic data from later events, lineage, and the ledger state it was read from.
/// Field names follow the BatteryPass data model (DIN DKE SPEC 99100), grouped as Annex XIII
/// groups them; Schema/passport-mapping.md maps each one.
public enum Passport {
    /// Passport status from the pack's state and history (Art. 77: original, repurposed, reused,
    /// waste; and recycled, after which the passport ceases).
    public static func status(_ pack: PackState, history: [HistoryItem]) -> String {
        switch pack.status {
        case .recycled: return "recycled"
        case .waste, .atRecycler: return "waste"
        case .repurposed: return "repurposed"
        default:
            if !pack.derivedFrom.isEmpty { return "repurposed" }
            if history.contains(where: { $0.event.kind == .reused && $0.event.pack == pack.pack }) { return "reused" }
            return "original"
        }
    }

    /// The passport as JSON (`passport PACK --format json`).
    public static func json(ledger: Ledger, pack id: String) throws(LedgerError) -> JSONValue {
        try ledger.db.readTransaction { () throws(LedgerError) -> JSONValue in
            guard let pack = try ledger.pack(id) else { throw LedgerError(.notFound, "pack \(id) is not in the ledger") }
            let history = try ledger.history(id)
            let info = try ledger.info()
            let latest = try ledger.latestCheckpoint()?.checkpoint
            let produced = history.first { $0.event.kind == .produced && $0.event.pack == id }
            let data = produced?.event.data ?? [:]
            func party(_ pid: String) throws(LedgerError) -> JSONValue {
                let p = try ledger.party(pid)
                return .object(["id": .string(pid), "name": p.map { .string($0.name) } ?? .null])
            }
            let assessed = history.last { $0.event.kind == .assessed && $0.event.pack == id }
            let soh: JSONValue = assessed.map { a in
                .object(["value": a.event.dataValue("soh_pct") ?? .null, "grade": a.event.dataValue("grade") ?? .null,
                         "assessedAt": .string(a.event.at.rfc3339), "assessedBy": .string(a.event.actor), "entry": .number(Double(a.entry.seq))])
            } ?? .null
            let code: JSONValue = BatteryCode.hasShape(id) ? ((try? BatteryCode(id))?.json ?? .null) : .null
            let events: [JSONValue] = history.filter { $0.entry.seq != produced?.entry.seq }.map { item in
                .object(["entry": .number(Double(item.entry.seq)), "pack": .string(item.event.pack ?? id), "kind": .string(item.event.kind.rawValue), "at": .string(item.event.at.rfc3339),
                         "actor": .string(item.event.actor), "data": .object(item.event.data)])
            }
            let placed: JSONValue = pack.placedAt.map { .object(["date": .string($0.rfc3339), "market": pack.placedMarket.map { .string($0) } ?? .null]) } ?? .null
            let general: JSONValue = .object([
                "manufacturerIdentification": try party(produced?.event.actor ?? pack.producer),
                "economicOperator": try party(pack.producer),
                "manufacturingDate": produced.map { .string($0.event.at.rfc3339) } ?? .null,
                "manufacturingPlace": data["plant"] ?? .null,
                "batteryModel": data["model"] ?? .null,
                "batteryCategory": .string(pack.category),
                "batteryMass": .number(pack.massKg),
                "placedOnMarket": placed,
            ])
            let composition: JSONValue = .object(["batteryChemistry": .string(pack.chemistry), "batteryMaterials": data["materials_kg"] ?? .null,
                                                  "components": .array(try ledger.compositionTree(of: id))])
            let predecessors: [JSONValue] = try ledger.predecessors(of: id).map { .string($0) }
            let lineage: JSONValue = .object([
                "derivedFrom": .array(pack.derivedFrom.map { .string($0) }),
                "repurposedFrom": .array(predecessors),
                "repurposedInto": pack.repurposedInto.map { .string($0) } ?? .null,
            ])
            let circularity: JSONValue = .object(["recycledContent": data["recycled_share"] ?? .null, "lineage": lineage])
            let performance: JSONValue = .object(["ratedEnergy": .number(pack.energyKwh), "stateOfHealth": soh])
            let lifecycle: JSONValue = .object([
                "custodian": try party(pack.custodian),
                "ledgerStatus": .string(pack.status.rawValue),
                "lastEventAt": .string(pack.lastAt.rfc3339),
                "events": .array(events),
            ])
            let checkpointed = latest.map { $0.size == info.size && $0.root == info.root } ?? false
            let state: JSONValue = .object([
                "origin": .string(info.origin), "size": .number(Double(info.size)), "root": .string(info.root.base64), "checkpointed": .bool(checkpointed),
            ])
            let passport: [String: JSONValue] = [
                "passport": "packledger-passport/v1",
                "batteryPassportIdentifier": .string(id),
                "batteryStatus": .string(status(pack, history: history)),
                "identification": .object(["productIdentifier": .string(id), "gbt34014": code]),
                "generalProductInformation": general,
                "materialComposition": composition,
                "circularity": circularity,
                "performanceAndDurability": performance,
                "lifecycle": lifecycle,
                "ledger": state,
            ]
            return .object(passport)
        }
    }
}
