/// The extended-producer-responsibility figures of PRODUCT.md §5 for one producer and year,
/// per category and chemistry, computed from the `packs` and `events` projections.
public struct EPRReport: Sendable {
    /// A rate, or why it cannot be computed, beside the target in force.
    public struct Rate: Sendable, Equatable {
        /// The value, nil when it cannot be computed.
        public var value: Double?
        /// Why there is no value.
        public var reason: String?
        /// The EU target in force in the report's year, if there is one.
        public var target: Double?

        /// The same rate without its target (for totals across categories, which have none).
        public var withoutTarget: Rate { Rate(value: value, reason: reason, target: nil) }

        /// Whether the target is met; nil without a value or a target.
        public var met: Bool? {
            guard let value, let target else { return nil }
            return value >= target
        }

        var json: JSONValue {
            .object(["value": value.map { .number($0) } ?? .null, "reason": reason.map { .string($0) } ?? .null,
                     "target": target.map { .number($0) } ?? .null, "met": met.map { .bool($0) } ?? .null])
        }
    }

    /// The figures for one category and chemistry (or the totals).
    public struct Figures: Sendable {
        /// Battery category, nil in the totals.
        public var category: String?
        /// Chemistry, nil in the totals.
        public var chemistry: String?
        /// Packs placed on the market in the year, and their declared mass.
        public var placedUnits = 0
        /// Mass placed on the market in the year.
        public var placedKg = 0.0
        /// Mass placed on the market in each of the years Y−2, Y−1, Y.
        public var placedKgByYear = [0.0, 0.0, 0.0]
        /// Packs collected in the year (first `collected`, else `intake`).
        public var collectedUnits = 0
        /// Their declared mass.
        public var collectedKg = 0.0
        /// Weighed intake by recyclers authorized at the time.
        public var deliveredKg = 0.0
        /// Weighed intake by recyclers not authorized at the time.
        public var unauthorizedKg = 0.0
        /// `reused` events in the year.
        public var reused = 0
        /// `repurposed` events in the year.
        public var repurposed = 0
        /// Σ input_kg of packs recovered in the year.
        public var inputKg = 0.0
        /// Σ recycled_output_kg of those packs.
        public var outputKg = 0.0
        /// Per material: Σ recovered, Σ declared content, over packs recovered in the year.
        public var materials: [String: (recovered: Double, contained: Double)] = [:]
    }

    /// The producer.
    public let producer: String
    /// The reporting year.
    public let year: Int
    /// The market filter (the pack's market when first placed), if any.
    public let market: String?
    /// Per category and chemistry, sorted.
    public let groups: [Figures]
    /// All groups together.
    public let totals: Figures
    /// The ledger state the figures come from.
    public let ledger: LedgerInfo
    /// The latest checkpoint, when it covers exactly that state.
    public let checkpoint: Checkpoint?

    /// Computes the report. Reads only the producer's rows of the projections.
    public static func compute(ledger: Ledger, producer: String, year: Int, market: String? = nil) throws(LedgerError) -> EPRReport {
        try ledger.db.readTransaction { () throws(LedgerError) -> EPRReport in
            guard (1971...2199).contains(year) else {
                throw LedgerError(.outOfRange, "year \(year) is outside 1971–2199", at: ErrorLocation(field: "year"))
            }
            let info = try ledger.info()
            let start = Timestamp.startOfYear(year), end = Timestamp.startOfYear(year + 1)
            let firstCounted = Timestamp.startOfYear(year - 2)
            func inYear(_ t: Timestamp?) -> Bool { t.map { $0 >= start && $0 < end } ?? false }
            var parties: [String: PartyState] = [:]
            var groups: [String: Figures] = [:]
            let packs = try ledger.packs(producer: producer)
            for pack in packs {
                if let market, pack.placedMarket != market { continue }
                let key = "\(pack.category)\u{0}\(pack.chemistry)"
                var f = groups[key] ?? Figures(category: pack.category, chemistry: pack.chemistry)
                if let placed = pack.placedAt, placed >= firstCounted, placed < end {
                    let index = placed >= start ? 2 : (placed >= Timestamp.startOfYear(year - 1) ? 1 : 0)
                    f.placedKgByYear[index] += pack.massKg
                    if index == 2 {
                        f.placedUnits += 1
                        f.placedKg += pack.massKg
                    }
                }
                if inYear(pack.collectedAt) {
                    f.collectedUnits += 1
                    f.collectedKg += pack.massKg
                }
                if inYear(pack.intakeAt), let at = pack.intakeAt, let kg = pack.intakeKg, let recycler = pack.intakeBy {
                    if parties[recycler] == nil { parties[recycler] = try ledger.party(recycler) }
                    let p = parties[recycler]
                    let authorized = p?.authorizedFrom.map { $0 <= at } == true && (p?.authorizedUntil.map { at < $0 } ?? true)
                    if authorized { f.deliveredKg += kg } else { f.unauthorizedKg += kg }
                }
                if inYear(pack.recoveredAt), let input = pack.inputKg, let output = pack.outputKg {
                    f.inputKg += input
                    f.outputKg += output
                    let recovered = numbers(pack.recoveredJSON), contained = numbers(pack.materialsJSON)
                    for (m, c) in contained where c > 0 {
                        var sums = f.materials[m] ?? (0, 0)
                        sums.contained += c
                        sums.recovered += recovered[m] ?? 0
                        f.materials[m] = sums
                    }
                }
                groups[key] = f
            }
            // Second-life events of the producer's packs in the year, through the pack index.
            let s = try ledger.db.prepare("""
                SELECT p.category, p.chemistry, p.placed_market, e.kind FROM packs p JOIN second_life e ON e.pack = p.pack
                WHERE p.producer = ? AND e.kind IN ('reused', 'repurposed') AND e.at_ns >= ? AND e.at_ns < ?
                """).bind(producer, start.nanoseconds, end.nanoseconds)
            while try s.step() {
                if let market, s.text(2) != market { continue }
                let category = s.text(0) ?? "", chemistry = s.text(1) ?? ""
                let key = "\(category)\u{0}\(chemistry)"
                var f = groups[key] ?? Figures(category: category, chemistry: chemistry)
                if s.text(3) == "reused" { f.reused += 1 } else { f.repurposed += 1 }
                groups[key] = f
            }
            let sorted = groups.values.sorted { ($0.category ?? "", $0.chemistry ?? "") < ($1.category ?? "", $1.chemistry ?? "") }
            var totals = Figures()
            for g in sorted {
                totals.placedUnits += g.placedUnits
                totals.placedKg += g.placedKg
                for i in 0..<3 { totals.placedKgByYear[i] += g.placedKgByYear[i] }
                totals.collectedUnits += g.collectedUnits
                totals.collectedKg += g.collectedKg
                totals.deliveredKg += g.deliveredKg
                totals.unauthorizedKg += g.unauthorizedKg
                totals.reused += g.reused
                totals.repurposed += g.repurposed
                totals.inputKg += g.inputKg
                totals.outputKg += g.outputKg
                for (m, v) in g.materials {
                    var sums = totals.materials[m] ?? (0, 0)
                    sums.recovered += v.recovered
                    sums.contained += v.contained
                    totals.materials[m] = sums
                }
            }
            let latest = try ledger.latestCheckpoint()?.checkpoint
            return EPRReport(producer: producer, year: year, market: market, groups: sorted, totals: totals, ledger: info,
                             checkpoint: latest.flatMap { $0.size == info.size && $0.root == info.root ? $0 : nil })
        }
    }

    /// The numbers of a flat JSON object such as materials_kg.
    static func numbers(_ json: String) -> [String: Double] {
        guard !json.isEmpty, let object = (try? JSONParser.parse(json))?.objectValue else { return [:] }
        return object.compactMapValues(\.doubleValue)
    }

    /// Collected kg ÷ mean placed-on-market kg over Y−2…Y (EU 2023/1542 method).
    public func collectionRate(_ f: Figures) -> Rate {
        let target = f.category.flatMap { Targets.inForce(Targets.eu.collectionRate[$0], year: year)?.target }
        let mean = f.placedKgByYear.reduce(0, +) / 3
        guard mean > 0 else { return Rate(value: nil, reason: "no packs placed on the market in \(year - 2)–\(year)", target: target) }
        return Rate(value: f.collectedKg / mean, reason: nil, target: target)
    }

    /// Σ recycled output ÷ Σ input of packs recovered in the year.
    public func recyclingEfficiency(_ f: Figures) -> Rate {
        let group = f.chemistry.flatMap { Targets.eu.efficiencyGroups[$0] }
        let target = group.flatMap { Targets.inForce(Targets.eu.recyclingEfficiency[$0], year: year)?.target }
        guard f.inputKg > 0 else { return Rate(value: nil, reason: "no packs recovered in \(year)", target: target) }
        return Rate(value: f.outputKg / f.inputKg, reason: nil, target: target)
    }

    /// Per material: recovered ÷ declared content, over packs recovered in the year that declare it.
    public func materialRecovery(_ f: Figures) -> [String: Rate] {
        var out: [String: Rate] = [:]
        for m in Set(f.materials.keys).union(Targets.eu.materialRecovery.keys) {
            let target = Targets.inForce(Targets.eu.materialRecovery[m], year: year)?.target
            guard let sums = f.materials[m], sums.contained > 0 else {
                out[m] = Rate(value: nil, reason: f.inputKg > 0 ? "no \(m) content declared for the packs recovered in \(year)" : "no packs recovered in \(year)", target: target)
                continue
            }
            out[m] = Rate(value: sums.recovered / sums.contained, reason: nil, target: target)
        }
        return out
    }

    func json(_ f: Figures, withTargets: Bool) -> JSONValue {
        func strip(_ r: Rate) -> Rate { withTargets ? r : r.withoutTarget }
        var object: [String: JSONValue] = [
            "placed_on_market": .object(["units": .number(Double(f.placedUnits)), "kg": .number(f.placedKg)]),
            "placed_on_market_kg_by_year": .object([
                String(year - 2): .number(f.placedKgByYear[0]), String(year - 1): .number(f.placedKgByYear[1]), String(year): .number(f.placedKgByYear[2]),
            ]),
            "collected": .object(["units": .number(Double(f.collectedUnits)), "kg": .number(f.collectedKg)]),
            "collection_rate": strip(collectionRate(f)).json,
            "delivered_to_recyclers_kg": .number(f.deliveredKg),
            "delivered_unauthorized_kg": .number(f.unauthorizedKg),
            "second_life": .object(["reused": .number(Double(f.reused)), "repurposed": .number(Double(f.repurposed))]),
            "recycling_efficiency": strip(recyclingEfficiency(f)).json,
            "material_recovery": .object(materialRecovery(f).mapValues { strip($0).json }),
        ]
        if let category = f.category { object["category"] = .string(category) }
        if let chemistry = f.chemistry { object["chemistry"] = .string(chemistry) }
        return .object(object)
    }

    /// The report as the stable JSON structure of `report epr --format json`.
    public var json: JSONValue {
        .object([
            "report": "epr", "producer": .string(producer), "year": .number(Double(year)), "market": market.map { .string($0) } ?? .null,
            "ledger": .object([
                "origin": .string(ledger.origin), "size": .number(Double(ledger.size)), "root": .string(ledger.root.base64),
                "checkpointed": .bool(checkpoint != nil),
            ]),
            "groups": .array(groups.map { json($0, withTargets: true) }),
            // Targets differ by category and chemistry, so the totals carry none.
            "totals": json(totals, withTargets: false),
        ])
    }
}

extension Timestamp {
    /// 1 January of `year`, 00:00 UTC.
    public static func startOfYear(_ year: Int) -> Timestamp {
        Timestamp(nanoseconds: Int64(daysFromCivil(year: year, month: 1, day: 1)) * 86_400 * 1_000_000_000)
    }
}
