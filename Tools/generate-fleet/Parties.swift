import PackLedgerKit

/// One organisation of the synthetic fleet.
struct FleetParty: Sendable {
    /// Party id in the registry.
    let id: String
    /// Display name.
    let name: String
    /// Its one role; the lifecycle rank of the role orders the party's files within a round.
    let role: Role
    /// The party's authorization window, relative to the generated period.
    let authorization: Authorization
    /// Short code used in pack ids, VIN world manufacturer identifiers and asset tags.
    let code: String
    /// Plants, depots or sites, used for `plant`, `site` and second-life asset names.
    let sites: [String]
}

/// The parties of the fleet, in lifecycle order.
///
/// The order is the import order of a round's files: a pack's events move from manufacturer to
/// recycler, so importing a round's files in this order lets most packs advance several steps in
/// one round. The index of a party in `all` is its *slot* and the last two digits of its
/// events files' names.
enum Parties {
    /// Every party, lifecycle rank first (manufacturer, distributor, oem, service, dismantler,
    /// collector, repurposer, recycler), then a fixed order within a rank.
    static let all: [FleetParty] = [
        FleetParty(id: "voltcell", name: "VoltCell Batteries GmbH", role: .manufacturer, authorization: .none,
                   code: "VCB", sites: ["Salzgitter", "Erfurt"]),
        FleetParty(id: "nordcell", name: "NordCell AB", role: .manufacturer, authorization: .none,
                   code: "NRC", sites: ["Skelleftea", "Gdansk"]),
        FleetParty(id: "amperion", name: "Amperion Energy Co., Ltd.", role: .manufacturer, authorization: .none,
                   code: "AMP", sites: ["Wuxi", "Debrecen", "Pune"]),
        FleetParty(id: "eurobatt", name: "EuroBatt Distribution SE", role: .distributor, authorization: .none,
                   code: "EBD", sites: ["Venlo"]),
        FleetParty(id: "cellhandel", name: "CellHandel GmbH", role: .distributor, authorization: .none,
                   code: "CHG", sites: ["Kassel"]),
        FleetParty(id: "autowerk", name: "Autowerk AG", role: .oem, authorization: .none,
                   code: "WAW", sites: ["Zwickau", "Bratislava"]),
        FleetParty(id: "velora", name: "Velora Mobility S.p.A.", role: .oem, authorization: .none,
                   code: "ZVL", sites: ["Torino", "Porto"]),
        FleetParty(id: "liftmaster", name: "LiftMaster Industrial Oy", role: .oem, authorization: .none,
                   code: "LFM", sites: ["Tampere"]),
        FleetParty(id: "fixnet", name: "FixNet Service Partners B.V.", role: .service, authorization: .none,
                   code: "FXN", sites: ["Utrecht", "Antwerpen", "Koeln"]),
        FleetParty(id: "evcare", name: "EVcare Werkstattverbund eG", role: .service, authorization: .none,
                   code: "EVC", sites: ["Muenchen", "Wien", "Lyon"]),
        FleetParty(id: "autodemontage", name: "AutoDemontage Nord GmbH", role: .dismantler, authorization: .none,
                   code: "ADN", sites: ["Hamburg", "Bremen"]),
        FleetParty(id: "scrapco", name: "ScrapCo Vehicle Recycling Ltd", role: .dismantler, authorization: .none,
                   code: "SCR", sites: ["Rotterdam", "Lille"]),
        FleetParty(id: "collectra", name: "Collectra Battery Collection SAS", role: .collector, authorization: .none,
                   code: "CLT", sites: ["Lyon hub", "Paris-Nord hub", "Madrid hub"]),
        FleetParty(id: "greenbin", name: "GreenBin Ruecknahmesystem e.V.", role: .collector, authorization: .none,
                   code: "GRB", sites: ["Hannover depot", "Leipzig depot", "Krakow depot"]),
        FleetParty(id: "secondwatt", name: "SecondWatt Storage B.V.", role: .repurposer, authorization: .always,
                   code: "SW", sites: ["Eindhoven", "Groningen"]),
        FleetParty(id: "relife", name: "ReLife Energy SAS", role: .repurposer, authorization: .from(0.10),
                   code: "RLF", sites: ["Grenoble", "Bordeaux"]),
        FleetParty(id: "hydromet", name: "HydroMet Recycling GmbH", role: .recycler, authorization: .always,
                   code: "HYM", sites: ["Freiberg"]),
        // Its licence lapses partway through the period (2024-06-30 for the default one): intake
        // after that is recorded (the ledger records what happened) and shows up in
        // `report compliance`.
        FleetParty(id: "pyrorec", name: "PyroRec Metals NV", role: .recycler, authorization: .until(0.55),
                   code: "PYR", sites: ["Hoboken"]),
        // Licensed only from a later date (2025-03-01 for the default period): a new plant that
        // starts taking packs once it may.
        FleetParty(id: "circlith", name: "CircLith Materials AB", role: .recycler, authorization: .from(0.70),
                   code: "CLM", sites: ["Vasteras"]),
    ]

    /// The slots of every party holding `role`, in slot order.
    static func slots(_ role: Role) -> [Int] {
        all.indices.filter { all[$0].role == role }
    }

}

/// An authorization window, given relative to the generated period so that every period has a
/// licence that lapses and one that starts late, whatever dates `--start` and `--end` give.
enum Authorization: Sendable {
    /// Not a licensed facility: no window.
    case none
    /// Licensed from before the period on, without end.
    case always
    /// Licensed from the first day of the month after this fraction of the period.
    case from(Double)
    /// Licensed from before the period until the last day of the month at this fraction of it.
    case until(Double)
}

/// The parties with concrete dates for one period: authorization windows and key validity.
struct Roster: Sendable {
    /// First day of every key's validity, and of the open-ended licences: 2020-01-01, or the
    /// period's first day when that is earlier, so every generated event is signed by a valid key.
    let since: Int64
    /// Per slot, the first day of the authorization, if any (midnight UTC).
    let authorizedFrom: [Int64?]
    /// Per slot, the last day of the authorization (inclusive, midnight UTC), if it ends.
    let authorizedUntil: [Int64?]

    /// The dates for the period [start, end] (seconds; `end` is its last second).
    init(start: Int64, end: Int64) {
        since = min(UTC.parseDate("2020-01-01") ?? 0, start)
        var from: [Int64?] = []
        var until: [Int64?] = []
        let span = Double(end - start)
        for party in Parties.all {
            switch party.authorization {
            case .none:
                from.append(nil); until.append(nil)
            case .always:
                from.append(since); until.append(nil)
            case .from(let fraction):
                let (y, m, _) = UTC.civil(days: UTC.dayNumber(start + Int64(span * fraction)))
                from.append(m == 12 ? UTC.days(year: y + 1, month: 1, day: 1) * UTC.day : UTC.days(year: y, month: m + 1, day: 1) * UTC.day)
                until.append(nil)
            case .until(let fraction):
                let (y, m, _) = UTC.civil(days: UTC.dayNumber(start + Int64(span * fraction)))
                from.append(since)
                until.append(UTC.days(year: y, month: m, day: UTC.daysIn(month: m, year: y)) * UTC.day)
            }
        }
        authorizedFrom = from
        authorizedUntil = until
    }

    /// Whether the party in `slot` is authorized at `seconds`, with whole days as the ledger
    /// reads dates given to `party add` (`until` inclusive). Parties without a window count as
    /// authorized.
    func isAuthorized(_ slot: Int, at seconds: Int64) -> Bool {
        if let from = authorizedFrom[slot], seconds < from { return false }
        if let until = authorizedUntil[slot], seconds >= until + UTC.day { return false }
        return true
    }

    /// `--authorized-from` of `slot` as `YYYY-MM-DD`, if any.
    func fromText(_ slot: Int) -> String? { authorizedFrom[slot].map(UTC.dateText) }

    /// `--authorized-until` of `slot` as `YYYY-MM-DD`, if any.
    func untilText(_ slot: Int) -> String? { authorizedUntil[slot].map(UTC.dateText) }
}
