/// The legal targets reports compare against, parsed from `Schema/targets.json`, which is
/// embedded here so the binary needs no resource files (`TargetsTests` checks the copy).
public struct Targets: Sendable {
    /// A target and the first reporting year it is in force.
    public struct Step: Sendable, Equatable {
        /// First reporting year.
        public let fromYear: Int
        /// The target, as a fraction.
        public let target: Double
    }

    /// EU collection-rate targets by battery category.
    public let collectionRate: [String: [Step]]
    /// EU recycling-efficiency targets by chemistry group.
    public let recyclingEfficiency: [String: [Step]]
    /// EU material-recovery targets by material.
    public let materialRecovery: [String: [Step]]
    /// Chemistry → recycling-efficiency group.
    public let efficiencyGroups: [String: String]
    /// Chinese upload deadlines in working days, by event kind.
    public let uploadDeadlines: [String: Int]

    /// The contents of Schema/targets.json.
    public static let json = """
{
  "about": "Legal targets PackLedger reports against. EU: Regulation (EU) 2023/1542 (collection Art. 59-60, recycling efficiency Annex XII Part B, material recovery Annex XII Part C). A target 'by end of year Y' is in force for reporting years Y and later, until the next one. China: upload deadlines of the 2018 interim traceability rules, kept by the 2026 measures, in working days after the event.",
  "eu_2023_1542": {
    "collection_rate": {
      "portable": [
        {"from_year": 2023, "target": 0.45},
        {"from_year": 2027, "target": 0.63},
        {"from_year": 2030, "target": 0.73}
      ],
      "lmt": [
        {"from_year": 2028, "target": 0.51},
        {"from_year": 2031, "target": 0.61}
      ]
    },
    "recycling_efficiency": {
      "lead-acid": [
        {"from_year": 2025, "target": 0.75},
        {"from_year": 2030, "target": 0.80}
      ],
      "lithium-based": [
        {"from_year": 2025, "target": 0.65},
        {"from_year": 2030, "target": 0.70}
      ],
      "nickel-cadmium": [
        {"from_year": 2025, "target": 0.80}
      ],
      "other": [
        {"from_year": 2025, "target": 0.50}
      ]
    },
    "material_recovery": {
      "co": [{"from_year": 2027, "target": 0.90}, {"from_year": 2031, "target": 0.95}],
      "cu": [{"from_year": 2027, "target": 0.90}, {"from_year": 2031, "target": 0.95}],
      "pb": [{"from_year": 2027, "target": 0.90}, {"from_year": 2031, "target": 0.95}],
      "ni": [{"from_year": 2027, "target": 0.90}, {"from_year": 2031, "target": 0.95}],
      "li": [{"from_year": 2027, "target": 0.50}, {"from_year": 2031, "target": 0.80}]
    },
    "recycling_efficiency_groups": {
      "lead-acid": "lead-acid",
      "lfp": "lithium-based",
      "nmc": "lithium-based",
      "nca": "lithium-based",
      "lmo": "lithium-based",
      "lto": "lithium-based",
      "lmfp": "lithium-based",
      "sodium-ion": "other",
      "nimh": "other",
      "other": "other"
    }
  },
  "cn_upload_deadline_working_days": {
    "produced": 15,
    "sold": 15,
    "installed": 15,
    "removed": 15,
    "repurposed": 15,
    "serviced": 30,
    "collected": 30,
    "intake": 30,
    "recovered": 30
  }
}

"""

    /// The embedded targets.
    public static let eu: Targets = (try? Targets(json: json)) ?? Targets(empty: ())

    private init(empty: ()) {
        collectionRate = [:]
        recyclingEfficiency = [:]
        materialRecovery = [:]
        efficiencyGroups = [:]
        uploadDeadlines = [:]
    }

    /// Parses a targets document.
    public init(json text: String) throws(LedgerError) {
        let root: JSONValue
        do {
            root = try JSONParser.parse(text)
        } catch {
            throw LedgerError(.malformed, "targets.json: \(error)")
        }
        func steps(_ value: JSONValue?) throws(LedgerError) -> [String: [Step]] {
            var out: [String: [Step]] = [:]
            for (name, list) in value?.objectValue ?? [:] {
                var parsed: [Step] = []
                for item in list.arrayValue ?? [] {
                    guard let year = item["from_year"]?.doubleValue, let target = item["target"]?.doubleValue else {
                        throw LedgerError(.malformed, "targets.json: \(name) needs from_year and target")
                    }
                    parsed.append(Step(fromYear: Int(year), target: target))
                }
                out[name] = parsed.sorted { $0.fromYear < $1.fromYear }
            }
            return out
        }
        let eu = root["eu_2023_1542"]
        collectionRate = try steps(eu?["collection_rate"])
        recyclingEfficiency = try steps(eu?["recycling_efficiency"])
        materialRecovery = try steps(eu?["material_recovery"])
        efficiencyGroups = (eu?["recycling_efficiency_groups"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        uploadDeadlines = (root["cn_upload_deadline_working_days"]?.objectValue ?? [:]).compactMapValues { $0.doubleValue.map(Int.init) }
    }

    /// The target in force in `year` among `steps`: the latest that applies from that year or before.
    public static func inForce(_ steps: [Step]?, year: Int) -> Step? {
        steps?.last { $0.fromYear <= year }
    }
}
