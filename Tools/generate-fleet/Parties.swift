import PackLedgerKit

/// One organisation of the synthetic fleet.
struct FleetParty: Sendable {
    /// Party id in the registry.
    let id: String
    /// Display name.
    let name: String
    /// Its one role; the lifecycle rank of the role orders the party's files within a round.
    let role: Role
    /// First day of a recycler's or repurposer's authorization (`YYYY-MM-DD`), if any.
    let authorizedFrom: String?
    /// Last day (inclusive) of the authorization, if it ends.
    let authorizedUntil: String?
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
        FleetParty(id: "voltcell", name: "VoltCell Batteries GmbH", role: .manufacturer, authorizedFrom: nil, authorizedUntil: nil,
                   code: "VCB", sites: ["Salzgitter", "Erfurt"]),
        FleetParty(id: "nordcell", name: "NordCell AB", role: .manufacturer, authorizedFrom: nil, authorizedUntil: nil,
                   code: "NRC", sites: ["Skelleftea", "Gdansk"]),
        FleetParty(id: "amperion", name: "Amperion Energy Co., Ltd.", role: .manufacturer, authorizedFrom: nil, authorizedUntil: nil,
                   code: "AMP", sites: ["Wuxi", "Debrecen", "Pune"]),
        FleetParty(id: "eurobatt", name: "EuroBatt Distribution SE", role: .distributor, authorizedFrom: nil, authorizedUntil: nil,
                   code: "EBD", sites: ["Venlo"]),
        FleetParty(id: "cellhandel", name: "CellHandel GmbH", role: .distributor, authorizedFrom: nil, authorizedUntil: nil,
                   code: "CHG", sites: ["Kassel"]),
        FleetParty(id: "autowerk", name: "Autowerk AG", role: .oem, authorizedFrom: nil, authorizedUntil: nil,
                   code: "WAW", sites: ["Zwickau", "Bratislava"]),
        FleetParty(id: "velora", name: "Velora Mobility S.p.A.", role: .oem, authorizedFrom: nil, authorizedUntil: nil,
                   code: "ZVL", sites: ["Torino", "Porto"]),
        FleetParty(id: "liftmaster", name: "LiftMaster Industrial Oy", role: .oem, authorizedFrom: nil, authorizedUntil: nil,
                   code: "LFM", sites: ["Tampere"]),
        FleetParty(id: "fixnet", name: "FixNet Service Partners B.V.", role: .service, authorizedFrom: nil, authorizedUntil: nil,
                   code: "FXN", sites: ["Utrecht", "Antwerpen", "Koeln"]),
        FleetParty(id: "evcare", name: "EVcare Werkstattverbund eG", role: .service, authorizedFrom: nil, authorizedUntil: nil,
                   code: "EVC", sites: ["Muenchen", "Wien", "Lyon"]),
        FleetParty(id: "autodemontage", name: "AutoDemontage Nord GmbH", role: .dismantler, authorizedFrom: nil, authorizedUntil: nil,
                   code: "ADN", sites: ["Hamburg", "Bremen"]),
        FleetParty(id: "scrapco", name: "ScrapCo Vehicle Recycling Ltd", role: .dismantler, authorizedFrom: nil, authorizedUntil: nil,
                   code: "SCR", sites: ["Rotterdam", "Lille"]),
        FleetParty(id: "collectra", name: "Collectra Battery Collection SAS", role: .collector, authorizedFrom: nil, authorizedUntil: nil,
                   code: "CLT", sites: ["Lyon hub", "Paris-Nord hub", "Madrid hub"]),
        FleetParty(id: "greenbin", name: "GreenBin Ruecknahmesystem e.V.", role: .collector, authorizedFrom: nil, authorizedUntil: nil,
                   code: "GRB", sites: ["Hannover depot", "Leipzig depot", "Krakow depot"]),
        FleetParty(id: "secondwatt", name: "SecondWatt Storage B.V.", role: .repurposer, authorizedFrom: "2021-01-01", authorizedUntil: nil,
                   code: "SW", sites: ["Eindhoven", "Groningen"]),
        FleetParty(id: "relife", name: "ReLife Energy SAS", role: .repurposer, authorizedFrom: "2022-06-01", authorizedUntil: nil,
                   code: "RLF", sites: ["Grenoble", "Bordeaux"]),
        FleetParty(id: "hydromet", name: "HydroMet Recycling GmbH", role: .recycler, authorizedFrom: "2020-01-01", authorizedUntil: nil,
                   code: "HYM", sites: ["Freiberg"]),
        // Its licence lapses partway through the default period: intake after that is recorded
        // (the ledger records what happened) and shows up in `report compliance`.
        FleetParty(id: "pyrorec", name: "PyroRec Metals NV", role: .recycler, authorizedFrom: "2020-01-01", authorizedUntil: "2024-06-30",
                   code: "PYR", sites: ["Hoboken"]),
        // Licensed only from a later date: a new plant that starts taking packs once it may.
        FleetParty(id: "circlith", name: "CircLith Materials AB", role: .recycler, authorizedFrom: "2025-03-01", authorizedUntil: nil,
                   code: "CLM", sites: ["Vasteras"]),
    ]

    /// The slots of every party holding `role`, in slot order.
    static func slots(_ role: Role) -> [Int] {
        all.indices.filter { all[$0].role == role }
    }

    /// Whether the party in `slot` is authorized at `seconds` (whole days, `until` inclusive).
    /// Parties without a window are treated as authorized.
    static func isAuthorized(_ slot: Int, at seconds: Int64) -> Bool {
        let p = all[slot]
        if let from = p.authorizedFrom.flatMap(UTC.parseDate), seconds < from { return false }
        if let until = p.authorizedUntil.flatMap(UTC.parseDate), seconds >= until + UTC.day { return false }
        return true
    }
}
