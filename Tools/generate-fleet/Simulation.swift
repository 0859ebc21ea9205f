import PackLedgerKit

/// An event the simulation decided on, before it is signed.
struct PlannedEvent: Sendable {
    /// Position in generation order: the last tie-break when ordering a file, so that output
    /// never depends on sort stability.
    let seq: Int
    /// The actor's slot in `Parties.all`.
    let slot: Int
    /// The import round whose file holds the event (1 = the first month of the window);
    /// assigned by `FleetSimulation.assignRounds()` once every event is planned.
    var round = 0
    /// Extra months before upload for a late upload (0 when on time).
    let lateMonths: Int
    /// When it happened, seconds since the epoch.
    let at: Int64
    /// The event's UUID.
    let eventID: String
    /// What happened.
    let kind: EventKind
    /// The pack.
    let pack: String
    /// Kind-specific data.
    let data: [String: JSONValue]
}

/// How a pack ended up, for the summary.
struct PackOutcome: Sendable {
    /// Category.
    let category: Category
    /// Chemistry.
    let chemistry: String
    /// Declared mass.
    let massKg: Double
    /// Status after its last generated event.
    let status: PackStatus
    /// Whether it is a repurposer's second-life pack.
    let secondLife: Bool
}

/// Where a pack stands while its lifecycle is being written: the same state the ledger keeps
/// (status, custodian, time of the latest event).
struct PackTrack {
    /// Pack id.
    let id: String
    /// What its `produced` declared.
    let spec: PackSpec
    /// Current status.
    var status: PackStatus = .new
    /// Slot of the current custodian.
    var custodian: Int
    /// `at` of the latest event.
    var lastAt: Int64
}

/// An original pack repurposed into a second-life pack that is not produced yet, because the
/// repurposer may combine it with the next suitable pack.
struct PendingRepurpose {
    /// The original, after its `repurposed` event.
    let track: PackTrack
    /// The second-life pack id named by `repurposed`.
    let into: String
    /// State of health from the repurposer's assessment.
    let soh: Double
}

/// Writes whole pack lifecycles as planned events, pack after pack, until enough events exist.
///
/// Rounds are assigned afterwards, by `assignRounds()`.
final class FleetSimulation {
    /// First instant of the window.
    let start: Int64
    /// Last instant of the window (23:59:59 of the end date).
    let end: Int64
    /// Month number of the first round.
    let firstMonth: Int
    /// Authorization windows for the period.
    let roster: Roster
    /// Every planned event, in generation order.
    private(set) var events: [PlannedEvent] = []
    /// Every pack produced, originals and second-life.
    private(set) var outcomes: [PackOutcome] = []
    /// The one random stream every decision draws from, in a fixed order.
    private var rng: FleetRandom
    /// Serial counters for pack ids, VINs and asset tags. Only looked up, never iterated, so
    /// dictionary order cannot leak into the output.
    private var serials: [String: Int] = [:]
    /// Per repurposer slot, a pack waiting for a partner.
    private var pending: [Int: PendingRepurpose] = [:]

    /// Slots of the parties holding each role.
    private let manufacturers = Parties.slots(.manufacturer)
    private let distributors = Parties.slots(.distributor)
    private let services = Parties.slots(.service)
    private let dismantlers = Parties.slots(.dismantler)
    private let collectors = Parties.slots(.collector)
    private let repurposers = Parties.slots(.repurposer)
    private let recyclers = Parties.slots(.recycler)

    /// Share of events uploaded late: recorded in a round 2–9 months after the month of `at`.
    static let lateShare = 0.02

    /// A simulation over [start, end] seeded with `seed`.
    init(seed: UInt64, start: Int64, end: Int64) {
        self.rng = FleetRandom(seed: seed)
        self.start = start
        self.end = end
        self.firstMonth = UTC.monthNumber(start)
        self.roster = Roster(start: start, end: end)
    }

    /// Months per round in which each party uploads (by slot): 1 or 3, set by `assignRounds()`.
    private(set) var cadence: [Int] = Parties.all.map { _ in 1 }

    /// Parties with fewer events than this per month upload quarterly, as small organisations do;
    /// it also keeps small fleets from scattering into hundreds of tiny files.
    static let monthlyUploadThreshold = 20.0

    /// Starts new packs until `targetEvents` events exist, finishing every lifecycle it starts,
    /// then assigns the events to rounds.
    func run(targetEvents: Int) {
        while events.count < targetEvents { simulateOriginal() }
        for slot in pending.keys.sorted() { flushPending(slot) }
        assignRounds()
    }

    /// Puts every event into an import round so that importing round after round, and within a
    /// round the actors' files in slot (lifecycle) order, replays each pack in generation order.
    ///
    /// An event's round is the first one at or after
    /// - its month (plus the late-upload delay, if drawn),
    /// - the round of the pack's previous event, or the next round when the actor's slot comes
    ///   before the previous actor's (that file of the round is imported earlier), and for a
    ///   second-life `produced` the same for every original's `repurposed`,
    ///
    /// that ends one of the actor's upload periods (every month, or every third). Rounds of a
    /// pack's events thus never decrease; within one round its events are imported in slot order,
    /// and within one actor's file in time order, which is the order of the lifecycle because
    /// every event is strictly later than the pack's previous one.
    func assignRounds() {
        let months = Double(UTC.monthNumber(end) - firstMonth + 1)
        var perSlot = [Int](repeating: 0, count: Parties.all.count)
        for e in events { perSlot[e.slot] += 1 }
        cadence = perSlot.map { Double($0) / months >= FleetSimulation.monthlyUploadThreshold ? 1 : 3 }
        var last: [String: (round: Int, slot: Int)] = [:]
        for i in events.indices {
            let e = events[i]
            func after(_ previous: (round: Int, slot: Int)) -> Int { previous.round + (e.slot < previous.slot ? 1 : 0) }
            var earliest = monthRound(e.at) + e.lateMonths
            if let previous = last[e.pack] {
                earliest = max(earliest, after(previous))
            } else if let originals = e.data["derived_from"]?.arrayValue {
                for original in originals {
                    if let id = original.stringValue, let previous = last[id] { earliest = max(earliest, after(previous)) }
                }
            }
            let c = cadence[e.slot]
            let round = (earliest + c - 1) / c * c
            events[i].round = round
            last[e.pack] = (round, e.slot)
        }
    }

    /// The round `at` falls into when uploaded on time.
    func monthRound(_ at: Int64) -> Int { UTC.monthNumber(at) - firstMonth + 1 }

    // MARK: - Parties

    /// The slot of party `id` (only called with ids from `Parties.all`).
    private func slot(_ id: String) -> Int { Parties.all.firstIndex { $0.id == id } ?? 0 }

    /// A manufacturer for a new pack: not every maker builds every category.
    private func manufacturer(for category: Category) -> Int {
        let weights: [Double]
        switch category {
        case .ev: weights = [0.40, 0.35, 0.25]
        case .industrial: weights = [0.30, 0.45, 0.25]
        case .lmt: weights = [0.35, 0.0, 0.65]
        case .portable: weights = [0.20, 0.0, 0.80]
        case .sli: weights = [0.45, 0.0, 0.55]
        }
        return manufacturers[rng.weighted(weights)]
    }

    /// The vehicle or equipment maker that fits packs of `category`.
    private func pickOEM(for category: Category) -> Int {
        switch category {
        case .ev: return rng.chance(0.65) ? slot("autowerk") : slot("velora")
        case .sli: return slot("autowerk")
        case .lmt: return slot("velora")
        case .portable: return rng.chance(0.6) ? slot("velora") : slot("liftmaster")
        case .industrial: return slot("liftmaster")
        }
    }

    /// A market, weighted roughly by European registrations.
    private func pickMarket() -> String {
        rng.weightedPick([("DE", 0.25), ("FR", 0.15), ("IT", 0.10), ("ES", 0.10), ("NL", 0.08), ("PL", 0.08),
                          ("SE", 0.06), ("BE", 0.05), ("AT", 0.05), ("NO", 0.04), ("DK", 0.04)])
    }

    /// A recycler for a pack handed over at `at`: one licensed at the time, except for the
    /// occasional delivery to an unlicensed plant that `report compliance` should find.
    private func recycler(at: Int64, chemistry: String) -> Int {
        let licensed = recyclers.filter { roster.isAuthorized($0, at: at) }
        let pool = licensed.isEmpty || rng.chance(0.03) ? recyclers : licensed
        // PyroRec runs a lead smelter, so lead-acid goes there more often.
        let weights = pool.map { Parties.all[$0].id == "pyrorec" ? (chemistry == "lead-acid" ? 3.0 : 0.7) : 1.0 }
        return pool[rng.weighted(weights)]
    }

    /// The next number of the serial series `key`, from 1.
    private func nextSerial(_ key: String) -> Int {
        let n = (serials[key] ?? 0) + 1
        serials[key] = n
        return n
    }

    // MARK: - Time

    /// A working-hours instant about `days` after the pack's latest event, strictly after it.
    private func later(_ t: PackTrack, _ days: ClosedRange<Double>) -> Int64 {
        businessTime(t.lastAt + Int64(rng.uniform(days.lowerBound, days.upperBound) * Double(UTC.day)), after: t.lastAt)
    }

    /// Moves `raw` to a working-hours time on its day, keeping it after `after`.
    private func businessTime(_ raw: Int64, after: Int64) -> Int64 {
        let at = UTC.dayNumber(raw) * UTC.day + Int64(rng.int(7 * 3600...18 * 3600))
        return at > after ? at : after + Int64(rng.int(900...14_400))
    }

    // MARK: - Emitting

    /// Plans `kind` for the pack at `at` by `slot` and applies its effect to `t`. Returns false,
    /// planning nothing, when `at` lies after the window: the lifecycle stops there, and the pack
    /// stays in whatever status it reached.
    @discardableResult
    private func emit(_ t: inout PackTrack, _ kind: EventKind, by slot: Int, at: Int64, _ data: [String: JSONValue] = [:]) -> Bool {
        guard at <= end, at > t.lastAt else { return false }
        let late = rng.chance(FleetSimulation.lateShare) ? rng.int(2...9) : 0
        events.append(PlannedEvent(seq: events.count, slot: slot, lateMonths: late, at: at, eventID: rng.uuid(),
                                   kind: kind, pack: t.id, data: data))
        t.lastAt = at
        switch kind {
        case .produced: t.status = .new; t.custodian = slot
        case .installed: t.status = .inService; t.custodian = slot
        case .removed: t.status = .removed; t.custodian = slot
        case .reused: t.status = .new
        case .repurposed: t.status = .repurposed
        case .collected: t.status = .waste; t.custodian = slot
        case .intake: t.status = .atRecycler; t.custodian = slot
        case .recovered: t.status = .recycled
        case .transferred:
            if let to = data["to"]?.stringValue { t.custodian = self.slot(to) }
        default: break
        }
        return true
    }

    /// Plans `kind` `days` after the pack's latest event.
    @discardableResult
    private func step(_ t: inout PackTrack, _ kind: EventKind, by slot: Int, after days: ClosedRange<Double>,
                      _ data: [String: JSONValue] = [:]) -> Bool {
        emit(&t, kind, by: slot, at: later(t, days), data)
    }

    /// Hands custody to `to`; only the custodian may, so the custodian is the actor.
    private func transfer(_ t: inout PackTrack, to: Int, after days: ClosedRange<Double>) -> Bool {
        guard t.custodian != to else { return true }
        return step(&t, .transferred, by: t.custodian, after: days, ["to": .string(Parties.all[to].id)])
    }

    // MARK: - First life

    /// One manufacturer-built pack, from `produced` to wherever its life ends or the window does.
    private func simulateOriginal() {
        let category = rng.weightedPick(Category.allCases.map { ($0, $0.share) })
        let chemistry = rng.weightedPick(Catalogue.chemistries(category))
        let maker = manufacturer(for: category)
        // Production spread over the window, ending a little before its end so the last packs
        // still get sold and installed.
        let latest = max(start, end - 45 * UTC.day)
        let producedAt = min(end, businessTime(start + Int64(rng.unit() * Double(latest - start)), after: start - 1))
        let spec = Catalogue.spec(category, chemistry, producedIn: UTC.year(producedAt), rng: &rng)
        var t = PackTrack(id: packID(maker: maker, category: category, at: producedAt), spec: spec,
                          custodian: maker, lastAt: start - 1)
        emit(&t, .produced, by: maker, at: producedAt, producedData(spec, by: maker))
        firstLife(&t)
        outcomes.append(PackOutcome(category: category, chemistry: chemistry, massKg: spec.massKg, status: t.status, secondLife: false))
    }

    /// Pack ids in three styles, as makers really differ: a dashed serial, a slashed serial and
    /// (NordCell, which issues battery passports) a `urn:uuid:` identifier.
    private func packID(maker: Int, category: Category, at: Int64) -> String {
        let party = Parties.all[maker]
        let year = UTC.year(at)
        switch party.id {
        case "nordcell":
            return "urn:uuid:" + rng.uuid()
        case "amperion":
            return "AMP/\(category.code)/\(year)/" + UTC.pad(nextSerial("pack-amperion"), 6)
        default:
            return "\(party.code)-\(category.code)-\(UTC.pad(year % 100, 2))-" + UTC.pad(nextSerial("pack-\(party.id)"), 7)
        }
    }

    /// The `data` of a manufacturer's `produced`.
    private func producedData(_ spec: PackSpec, by maker: Int) -> [String: JSONValue] {
        let party = Parties.all[maker]
        var data: [String: JSONValue] = [
            "category": .string(spec.category.rawValue), "chemistry": .string(spec.chemistry),
            "mass_kg": .number(spec.massKg), "energy_kwh": .number(spec.energyKwh),
            "plant": .string(rng.pick(party.sites)),
            "model": .string("\(party.code) \(spec.chemistry.uppercased()) \(capacityLabel(spec.energyKwh))"),
        ]
        if !spec.materials.isEmpty { data["materials_kg"] = materialObject(spec.materials) }
        if !spec.recycledShare.isEmpty { data["recycled_share"] = materialObject(spec.recycledShare) }
        return data
    }

    /// A model-name capacity: kWh for big packs, Wh for small ones.
    private func capacityLabel(_ kwh: Double) -> String {
        kwh >= 1 ? "\(Int(kwh.rounded())) kWh" : "\(Int((kwh * 1000).rounded())) Wh"
    }

    /// A materials list as a JSON object.
    private func materialObject(_ materials: [Material]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for m in materials { object[m.name] = .number(m.value) }
        return .object(object)
    }

    /// Sale (directly or through a distributor), installation, service, then removal and
    /// whatever follows it.
    private func firstLife(_ t: inout PackTrack) {
        let category = t.spec.category
        let oem = pickOEM(for: category)
        // Replacement starter batteries are fitted by workshops, not on the assembly line.
        let installer = category == .sli && rng.chance(0.3) ? rng.pick(services) : oem
        let market = pickMarket()
        guard step(&t, .sold, by: t.custodian, after: 2...25, ["market": .string(market)]) else { return }
        let distributorShare: Double
        switch category {
        case .ev: distributorShare = 0.15
        case .industrial: distributorShare = 0.30
        case .lmt: distributorShare = 0.50
        case .portable: distributorShare = 0.70
        case .sli: distributorShare = 0.60
        }
        if rng.chance(distributorShare) {
            let distributor = rng.pick(distributors)
            if rng.chance(0.6) { guard transfer(&t, to: distributor, after: 1...10) else { return } }
            guard step(&t, .sold, by: distributor, after: 5...60, ["market": .string(market)]) else { return }
        }
        if rng.chance(0.5) { guard transfer(&t, to: installer, after: 1...10) else { return } }
        guard install(&t, by: installer, after: 7...90, market: rng.chance(0.6) ? market : nil) else { return }

        var reinstalls = 0
        while true {
            let removalAt = t.lastAt + Int64(lifeDays(category) * Double(UTC.day))
            guard serviceUntil(&t, removalAt) else { return }
            var reason = removalReason(category)
            if reinstalls >= 2 && (reason == "swap" || reason == "repair") { reason = "end-of-life" }
            let at = businessTime(removalAt, after: t.lastAt)
            switch reason {
            case "swap", "repair":
                // A workshop takes the pack out, checks it and fits it again (a swap puts it in
                // another vehicle), sometimes after sending it back to the vehicle maker.
                let workshop = rng.pick(services)
                guard emit(&t, .removed, by: workshop, at: at, ["reason": .string(reason)]),
                      step(&t, .assessed, by: workshop, after: 1...14,
                           ["soh_pct": .number(Decimals.round(rng.uniform(72, 96), 1)), "grade": "reuse"]),
                      step(&t, .reused, by: workshop, after: 1...30) else { return }
                let fitter = rng.chance(0.6) ? workshop : oem
                guard install(&t, by: fitter, after: 3...60, market: nil) else { return }
                reinstalls += 1
                continue
            case "vehicle-scrapped":
                let dismantler = rng.pick(dismantlers)
                if rng.chance(0.3) {
                    // Scrapped with the vehicle: collected straight from service.
                    guard emit(&t, .collected, by: dismantler, at: at, ["site": .string(rng.pick(Parties.all[dismantler].sites))]) else { return }
                } else {
                    guard emit(&t, .removed, by: dismantler, at: at, ["reason": "vehicle-scrapped"]) else { return }
                }
                let toSecondLife = category == .ev && Catalogue.isRepurposable(t.spec.chemistry) && rng.chance(0.25)
                if rng.chance(0.5) {
                    let soh = toSecondLife ? rng.uniform(68, 88) : rng.uniform(20, 65)
                    guard step(&t, .assessed, by: dismantler, after: 1...15,
                               ["soh_pct": .number(Decimals.round(soh, 1)), "grade": .string(toSecondLife ? "repurpose" : "recycle")]) else { return }
                }
                if toSecondLife { repurpose(&t) } else { recycle(&t, collect: true) }
            default:
                let remover: Int
                let r = rng.unit()
                if r < 0.5 { remover = rng.pick(services) } else if r < 0.8 || category != .ev { remover = oem } else { remover = rng.pick(dismantlers) }
                guard emit(&t, .removed, by: remover, at: at, ["reason": "end-of-life"]) else { return }
                // A few packs vanish after removal: what `report compliance` looks for.
                if rng.chance(0.04) { return }
                // Storage units are built from traction and industrial packs; small packs are
                // not worth re-engineering.
                let repurposeShare: Double
                switch category {
                case .ev: repurposeShare = 0.30
                case .industrial: repurposeShare = 0.20
                case .lmt, .portable, .sli: repurposeShare = 0
                }
                if Catalogue.isRepurposable(t.spec.chemistry) && rng.chance(repurposeShare) {
                    repurpose(&t)
                } else {
                    recycle(&t, collect: true)
                }
            }
            return
        }
    }

    /// Service life in days before removal: EVs see early removals (warranty, accidents)
    /// besides a long tail that mostly outlasts the window.
    private func lifeDays(_ category: Category) -> Double {
        switch category {
        case .ev: return rng.chance(0.3) ? rng.uniform(60, 900) : rng.uniform(1800, 5000)
        case .industrial: return rng.chance(0.25) ? rng.uniform(180, 1200) : rng.uniform(1500, 4000)
        case .lmt: return rng.uniform(300, 2200)
        case .portable: return rng.uniform(200, 1500)
        case .sli: return rng.uniform(600, 2200)
        }
    }

    /// Why the pack comes out: end of life mostly; swaps and repairs bring it back.
    private func removalReason(_ category: Category) -> String {
        switch category {
        case .ev: return rng.weightedPick([("end-of-life", 0.55), ("swap", 0.12), ("vehicle-scrapped", 0.22), ("repair", 0.11)])
        case .industrial: return rng.weightedPick([("end-of-life", 0.85), ("swap", 0.07), ("repair", 0.08)])
        case .lmt: return rng.weightedPick([("end-of-life", 0.85), ("swap", 0.05), ("repair", 0.05), ("vehicle-scrapped", 0.05)])
        case .portable: return rng.weightedPick([("end-of-life", 0.92), ("repair", 0.08)])
        case .sli: return rng.weightedPick([("end-of-life", 0.85), ("vehicle-scrapped", 0.12), ("repair", 0.03)])
        }
    }

    /// `installed` with a VIN for cars and an asset tag for everything else.
    private func install(_ t: inout PackTrack, by slot: Int, after days: ClosedRange<Double>, market: String?) -> Bool {
        let at = later(t, days)
        var data: [String: JSONValue] = [:]
        let party = Parties.all[slot]
        switch t.spec.category {
        case .ev, .sli:
            // Workshops fit packs into cars built by either vehicle maker.
            let maker = party.role == .oem ? slot : (rng.chance(0.6) ? self.slot("autowerk") : self.slot("velora"))
            data["vin"] = .string(vin(maker: maker, year: UTC.year(at)))
        case .industrial:
            data["asset"] = .string("\(rng.pick(["FORKLIFT", "AGV", "REACH-TRUCK", "ESS"]))-\(party.code)-\(UTC.pad(nextSerial("asset-\(party.id)"), 6))")
        case .lmt:
            data["asset"] = .string("\(rng.pick(["EBIKE", "ESCOOTER", "CARGO-BIKE", "EMOPED"]))-\(party.code)-\(UTC.pad(nextSerial("asset-\(party.id)"), 6))")
        case .portable:
            data["asset"] = .string("\(rng.pick(["DRILL", "SCANNER", "VACUUM", "MOWER", "LANTERN"]))-\(party.code)-\(UTC.pad(nextSerial("asset-\(party.id)"), 6))")
        }
        if let market { data["market"] = .string(market) }
        return emit(&t, .installed, by: slot, at: at, data)
    }

    /// A VIN of ISO 3779 characters with a valid check digit (position 9, as North American VINs
    /// carry it), the model year code of `year` and a serial that never repeats.
    private func vin(maker: Int, year: Int) -> String {
        let allowed = Array("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
        let party = Parties.all[maker]
        var chars = Array(party.code.prefix(3))
        for _ in 0..<5 { chars.append(rng.pick(allowed)) }
        chars.append("0")   // check digit, computed below
        let yearCodes = Array("ABCDEFGHJKLMNPRSTVWXY123456789")
        chars.append(yearCodes[((year - 1980) % 30 + 30) % 30])
        chars.append(rng.pick(Array("BZ")))
        chars.append(contentsOf: Array(UTC.pad(nextSerial("vin-\(party.id)") % 1_000_000, 6)))
        let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
        var sum = 0
        for (i, c) in chars.enumerated() { sum += VIN.value(c) * weights[i] }
        let check = sum % 11
        chars[8] = check == 10 ? "X" : Character(String(check))
        return String(chars)
    }

    /// `serviced` events every few months to years, while the pack is in service and before
    /// `removalAt`. Returns false when the window ended first.
    private func serviceUntil(_ t: inout PackTrack, _ removalAt: Int64) -> Bool {
        let rate: Double
        switch t.spec.category {
        case .ev, .industrial: rate = 0.65
        case .lmt: rate = 0.35
        case .portable, .sli: rate = 0.1
        }
        while rng.chance(rate) {
            let at = later(t, 120...540)
            if at >= removalAt { break }
            let workshop = rng.chance(0.7) ? rng.pick(services) : pickOEM(for: t.spec.category)
            var data: [String: JSONValue]
            if rng.chance(0.12) {
                let modules = rng.int(1...2)
                var ids: [JSONValue] = []
                var used: Set<Int> = []
                for _ in 0..<modules {
                    let m = rng.int(1...24)
                    if used.insert(m).inserted { ids.append(.string("\(t.id)-M\(UTC.pad(m, 2))")) }
                }
                data = ["work": "module replacement after cell imbalance", "replaced_modules": .array(ids)]
            } else {
                data = ["work": .string(rng.pick(["annual inspection", "BMS firmware update", "coolant check and top-up",
                                                  "cell balancing", "contactor replacement", "insulation resistance test",
                                                  "capacity test"]))]
            }
            guard emit(&t, .serviced, by: workshop, at: at, data) else { return false }
        }
        return true
    }

    // MARK: - End of life

    /// Collection, hand-over to a recycler, weighing and material recovery.
    private func recycle(_ t: inout PackTrack, collect: Bool) {
        if collect && t.status == .removed {
            if Parties.all[t.custodian].role == .dismantler && rng.chance(0.5) {
                guard step(&t, .collected, by: t.custodian, after: 1...20,
                           ["site": .string(rng.pick(Parties.all[t.custodian].sites))]) else { return }
            } else if rng.chance(0.92) {
                let collector = rng.pick(collectors)
                guard step(&t, .collected, by: collector, after: 7...90,
                           ["site": .string(rng.pick(Parties.all[collector].sites))]) else { return }
            }
            // Otherwise the remover hands the pack straight to a recycler (intake from removed).
        }
        let handOver = later(t, 5...60)
        let plant = recycler(at: handOver, chemistry: t.spec.chemistry)
        if t.custodian != plant {
            guard emit(&t, .transferred, by: t.custodian, at: handOver, ["to": .string(Parties.all[plant].id)]) else { return }
        }
        if rng.chance(0.12) {
            guard step(&t, .assessed, by: plant, after: 1...10,
                       ["soh_pct": .number(Decimals.round(rng.uniform(5, 60), 1)), "grade": "recycle"]) else { return }
        }
        let category = t.spec.category
        // Weighed at the gate: a little under the declared mass (coolant, connectors, wear).
        let input = Decimals.floor(t.spec.massKg * rng.uniform(0.97, 0.995), category.massDecimals)
        guard input > 0, step(&t, .intake, by: plant, after: 1...14, ["mass_kg": .number(input)]) else { return }
        var recovered: [String: JSONValue] = [:]
        var recoveredSum = 0.0
        for m in t.spec.materials {
            var rate = Catalogue.recoveryRate(m.name)
            if m.name == "graphite" && rng.chance(0.3) { rate = 0.1...0.5 }
            guard let rate else { continue }
            let kg = Decimals.floor(m.value * rng.uniform(rate.lowerBound, rate.upperBound), category.materialDecimals)
            recovered[m.name] = .number(kg)
            recoveredSum += kg
        }
        let efficiency = Catalogue.recyclingEfficiency(t.spec.chemistry)
        let output = min(input, Decimals.round(max(input * rng.uniform(efficiency.lowerBound, efficiency.upperBound), recoveredSum),
                                               category.massDecimals))
        step(&t, .recovered, by: plant, after: 14...120,
             ["input_kg": .number(input), "recycled_output_kg": .number(output), "recovered_kg": .object(recovered)])
    }

    /// Hand-over to a repurposer, assessment, and either repurposing into a second-life storage
    /// pack or, when the pack is too worn, recycling.
    private func repurpose(_ t: inout PackTrack) {
        let licensed = repurposers.filter { roster.isAuthorized($0, at: t.lastAt) }
        guard !licensed.isEmpty else { return recycle(&t, collect: true) }
        let repurposer = rng.pick(licensed)
        if t.status == .removed && rng.chance(0.25) {
            let collector = rng.pick(collectors)
            guard step(&t, .collected, by: collector, after: 7...60,
                       ["site": .string(rng.pick(Parties.all[collector].sites))]) else { return }
        }
        guard transfer(&t, to: repurposer, after: 3...45) else { return }
        let soh = Decimals.round(rng.chance(0.15) ? rng.uniform(40, 64) : rng.uniform(66, 88), 1)
        guard step(&t, .assessed, by: repurposer, after: 2...20,
                   ["soh_pct": .number(soh), "grade": .string(soh < 65 ? "recycle" : "repurpose")]) else { return }
        if soh < 65 { return recycle(&t, collect: false) }
        let at = later(t, 5...40)
        guard at <= end else { return }
        // A storage integrator sometimes builds one unit from two packs of the same chemistry
        // repurposed within half a year of each other.
        var partner: PendingRepurpose?
        if let waiting = pending[repurposer] {
            if waiting.track.spec.chemistry == t.spec.chemistry, abs(waiting.track.lastAt - at) <= 180 * UTC.day,
               waiting.track.spec.massKg + t.spec.massKg <= 1_900 {
                partner = waiting
                pending[repurposer] = nil
            } else {
                flushPending(repurposer)
            }
        }
        let into = partner?.into ?? secondLifeID(repurposer)
        guard emit(&t, .repurposed, by: repurposer, at: at, ["into": .string(into)]) else { return }
        let mine = PendingRepurpose(track: t, into: into, soh: soh)
        if let partner {
            secondLife([partner, mine], by: repurposer)
        } else if t.spec.category == .ev && rng.chance(0.3) {
            pending[repurposer] = mine
        } else {
            secondLife([mine], by: repurposer)
        }
    }

    /// A new, never used pack id for a second-life unit of `repurposer`.
    private func secondLifeID(_ repurposer: Int) -> String {
        "\(Parties.all[repurposer].code)-ESS-" + UTC.pad(nextSerial("ess-\(Parties.all[repurposer].id)"), 6)
    }

    /// Produces the waiting pack of `repurposer` on its own.
    private func flushPending(_ repurposer: Int) {
        guard let waiting = pending.removeValue(forKey: repurposer) else { return }
        secondLife([waiting], by: repurposer)
    }

    /// The repurposer's `produced` of the second-life pack (industrial, `derived_from` its
    /// originals), its installation as a storage asset and occasional service.
    private func secondLife(_ originals: [PendingRepurpose], by repurposer: Int) {
        guard let first = originals.first else { return }
        let party = Parties.all[repurposer]
        let sourceMass = originals.reduce(0) { $0 + $1.track.spec.massKg }
        // New housing, inverter interface and cooling: within a few percent of the originals.
        let mass = min(2_000, Decimals.round(sourceMass * rng.uniform(0.92, 1.04), 1))
        let energy = Decimals.round(originals.reduce(0) { $0 + $1.track.spec.energyKwh * $1.soh / 100 }, 1)
        // The cells carry over, so the material content is the originals' (scaled when the new
        // pack is lighter, which keeps the sum below the mass).
        var content: [String: Double] = [:]
        for o in originals { for m in o.track.spec.materials { content[m.name, default: 0] += m.value } }
        let scale = min(1, mass / sourceMass)
        let materials = content.keys.sorted().compactMap { name -> Material? in
            let kg = Decimals.floor((content[name] ?? 0) * scale, 2)
            return kg > 0 ? Material(name: name, value: kg) : nil
        }
        let spec = PackSpec(category: .industrial, chemistry: first.track.spec.chemistry, massKg: mass, energyKwh: energy,
                            materials: materials, recycledShare: [])
        var t = PackTrack(id: first.into, spec: spec, custodian: repurposer,
                          lastAt: originals.map(\.track.lastAt).max() ?? first.track.lastAt)
        var data: [String: JSONValue] = [
            "category": "industrial", "chemistry": .string(spec.chemistry), "mass_kg": .number(mass), "energy_kwh": .number(energy),
            "plant": .string(rng.pick(party.sites)), "model": .string("\(party.code) ESS \(capacityLabel(energy))"),
            "derived_from": .array(originals.map { .string($0.track.id) }),
        ]
        if !materials.isEmpty { data["materials_kg"] = materialObject(materials) }
        guard step(&t, .produced, by: repurposer, after: 5...30, data) else { return }
        defer {
            outcomes.append(PackOutcome(category: .industrial, chemistry: spec.chemistry, massKg: mass, status: t.status, secondLife: true))
        }
        let asset = "BESS \(rng.pick(party.sites)) #\(UTC.pad(nextSerial("bess-\(party.id)"), 5))"
        guard step(&t, .installed, by: repurposer, after: 10...60, ["asset": .string(asset)]) else { return }
        while rng.chance(0.3) {
            guard step(&t, .serviced, by: rng.pick(services), after: 150...500, ["work": "storage system inspection"]) else { return }
        }
    }
}

/// ISO 3779 transliteration for the VIN check digit.
enum VIN {
    /// The numeric value of a VIN character.
    static func value(_ c: Character) -> Int {
        if let d = c.wholeNumberValue { return d }
        switch c {
        case "A", "J": return 1
        case "B", "K", "S": return 2
        case "C", "L", "T": return 3
        case "D", "M", "U": return 4
        case "E", "N", "V": return 5
        case "F", "W": return 6
        case "G", "P", "X": return 7
        case "H", "Y": return 8
        case "R", "Z": return 9
        default: return 0
        }
    }
}
