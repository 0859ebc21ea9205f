/// Battery categories of PRODUCT.md §3, with how common each is in the fleet.
enum Category: String, CaseIterable, Sendable {
    case ev, industrial, lmt, portable, sli

    /// Share of newly produced packs: mostly traction batteries, as in EU collection data by mass.
    var share: Double {
        switch self {
        case .ev: return 0.50
        case .industrial: return 0.17
        case .lmt: return 0.14
        case .portable: return 0.12
        case .sli: return 0.07
        }
    }

    /// Short code used in pack ids.
    var code: String {
        switch self {
        case .ev: return "EV"
        case .industrial: return "IND"
        case .lmt: return "LMT"
        case .portable: return "POR"
        case .sli: return "SLI"
        }
    }

    /// Decimal places for masses: 0.1 kg on a traction pack, grams on a phone-sized cell pack.
    var massDecimals: Int {
        switch self {
        case .ev, .industrial: return 1
        case .lmt, .sli: return 2
        case .portable: return 3
        }
    }

    /// Decimal places for material contents.
    var materialDecimals: Int {
        switch self {
        case .ev, .industrial: return 2
        case .lmt, .sli: return 3
        case .portable: return 5
        }
    }

    /// Decimal places for energy in kWh.
    var energyDecimals: Int {
        switch self {
        case .ev, .industrial: return 1
        case .lmt, .sli: return 3
        case .portable: return 4
        }
    }
}

/// What a `produced` event declares about a pack.
struct PackSpec: Sendable {
    /// Category.
    let category: Category
    /// Chemistry, one of the ledger's chemistry names.
    let chemistry: String
    /// Declared mass.
    let massKg: Double
    /// Declared energy.
    let energyKwh: Double
    /// Declared material content, by material name in ascending order (empty when undeclared).
    let materials: [Material]
    /// Declared recycled content shares, by material name in ascending order.
    let recycledShare: [Material]
}

/// A material amount (kg) or share, by name.
struct Material: Sendable {
    /// Material name (`li`, `co`, …).
    let name: String
    /// Kilograms, or a share in [0, 1].
    let value: Double
}

/// Chemistry mixes, specific energies and material contents per category.
///
/// Figures are typical pack-level values (cells plus housing, cooling and electronics), so that
/// the declared materials always add up to well below the pack mass, as they do in reality.
enum Catalogue {
    /// Chemistries that occur in each category, with their shares.
    static func chemistries(_ category: Category) -> [(String, Double)] {
        switch category {
        case .ev: return [("nmc", 0.45), ("lfp", 0.35), ("nca", 0.12), ("lmfp", 0.08)]
        case .industrial: return [("lfp", 0.50), ("lead-acid", 0.22), ("nmc", 0.12), ("lto", 0.08), ("sodium-ion", 0.08)]
        case .lmt: return [("nmc", 0.55), ("lfp", 0.20), ("lmo", 0.10), ("lead-acid", 0.10), ("nca", 0.05)]
        case .portable: return [("nmc", 0.35), ("nimh", 0.25), ("lmo", 0.20), ("lfp", 0.15), ("nca", 0.05)]
        case .sli: return [("lead-acid", 0.95), ("lfp", 0.05)]
        }
    }

    /// Mass fraction of each declared material in a pack of `chemistry` (before ±15 % jitter).
    /// No cobalt or nickel in LFP, only lead in lead-acid, no lithium in sodium-ion.
    static func materialFractions(_ chemistry: String) -> [(String, Double)] {
        switch chemistry {
        case "nmc": return [("al", 0.15), ("co", 0.018), ("cu", 0.05), ("graphite", 0.10), ("li", 0.013), ("mn", 0.018), ("ni", 0.065)]
        case "nca": return [("al", 0.17), ("co", 0.012), ("cu", 0.05), ("graphite", 0.11), ("li", 0.013), ("ni", 0.09)]
        case "lfp": return [("al", 0.16), ("cu", 0.055), ("graphite", 0.11), ("li", 0.010)]
        case "lmfp": return [("al", 0.16), ("cu", 0.05), ("graphite", 0.10), ("li", 0.010), ("mn", 0.04)]
        case "lmo": return [("al", 0.14), ("cu", 0.05), ("graphite", 0.10), ("li", 0.012), ("mn", 0.11)]
        case "lto": return [("al", 0.20), ("li", 0.015), ("mn", 0.05)]
        case "sodium-ion": return [("al", 0.20), ("mn", 0.05), ("ni", 0.03)]
        case "nimh": return [("co", 0.035), ("mn", 0.02), ("ni", 0.30)]
        case "lead-acid": return [("pb", 0.62)]
        default: return []
        }
    }

    /// Pack-level specific energy in kWh/kg.
    static func specificEnergy(_ chemistry: String, _ category: Category) -> ClosedRange<Double> {
        switch chemistry {
        case "nmc": return category == .ev ? 0.15...0.19 : 0.11...0.17
        case "nca": return category == .ev ? 0.16...0.20 : 0.12...0.18
        case "lfp": return category == .ev ? 0.12...0.155 : 0.09...0.13
        case "lmfp": return 0.13...0.165
        case "lmo": return 0.10...0.14
        case "lto": return 0.05...0.08
        case "sodium-ion": return 0.08...0.12
        case "nimh": return 0.06...0.08
        case "lead-acid": return 0.025...0.038
        default: return 0.05...0.1
        }
    }

    /// Pack energy range of an EV pack by chemistry: LFP packs are heavier per kWh, so the
    /// large ones would exceed a car's 700 kg.
    static func evEnergy(_ chemistry: String) -> ClosedRange<Double> {
        switch chemistry {
        case "lfp": return 40...85
        case "lmfp": return 45...95
        case "nca": return 60...110
        default: return 50...110
        }
    }

    /// Whether second life is plausible: lithium-ion chemistries age gracefully enough for
    /// stationary storage; lead-acid and NiMH are recycled.
    static func isRepurposable(_ chemistry: String) -> Bool {
        !["lead-acid", "nimh", "other"].contains(chemistry)
    }

    /// Share of recovered mass a recycler achieves for the chemistry (recycled output ÷ input).
    static func recyclingEfficiency(_ chemistry: String) -> ClosedRange<Double> {
        chemistry == "lead-acid" ? 0.75...0.85 : 0.60...0.80
    }

    /// Recovery rate per material, for `recovered_kg` (nil: not recovered).
    static func recoveryRate(_ material: String) -> ClosedRange<Double>? {
        switch material {
        case "li": return 0.40...0.90
        case "co", "ni", "cu", "pb": return 0.85...0.98
        case "mn": return 0.50...0.90
        case "al": return 0.70...0.95
        default: return nil
        }
    }

    /// A new pack's declared data.
    static func spec(_ category: Category, _ chemistry: String, producedIn year: Int, rng: inout FleetRandom) -> PackSpec {
        let specific = specificEnergy(chemistry, category)
        let mass: Double
        let energy: Double
        switch category {
        case .ev:
            let e = rng.uniform(evEnergy(chemistry).lowerBound, evEnergy(chemistry).upperBound)
            mass = min(700, max(250, e / rng.uniform(specific.lowerBound, specific.upperBound)))
            energy = e
        case .industrial:
            mass = rng.logUniform(50, 2000)
            energy = mass * rng.uniform(specific.lowerBound, specific.upperBound)
        case .lmt:
            mass = chemistry == "lead-acid" ? rng.uniform(10, 25) : rng.uniform(5, 25)
            energy = mass * rng.uniform(specific.lowerBound, specific.upperBound)
        case .portable:
            mass = rng.logUniform(0.05, 5)
            energy = mass * rng.uniform(specific.lowerBound, specific.upperBound)
        case .sli:
            mass = chemistry == "lead-acid" ? rng.uniform(10, 30) : rng.uniform(10, 16)
            energy = mass * rng.uniform(specific.lowerBound, specific.upperBound)
        }
        let massKg = Decimals.round(mass, category.massDecimals)
        // Traction and industrial packs always declare their content (it is what EPR reports
        // are computed from); some small-battery makers leave it out.
        var materials: [Material] = []
        if category == .ev || category == .industrial || rng.chance(0.85) {
            for (name, fraction) in materialFractions(chemistry) {
                let kg = Decimals.round(massKg * fraction * rng.uniform(0.85, 1.15), category.materialDecimals)
                if kg > 0 { materials.append(Material(name: name, value: kg)) }
            }
        }
        return PackSpec(category: category, chemistry: chemistry, massKg: massKg,
                        energyKwh: Decimals.round(energy, category.energyDecimals), materials: materials,
                        recycledShare: recycledShare(chemistry, producedIn: year, rng: &rng))
    }

    /// Recycled content shares: common for lead (a closed loop for decades), rare and small for
    /// lithium-ion before the EU minimum shares apply, slowly growing from 2024.
    static func recycledShare(_ chemistry: String, producedIn year: Int, rng: inout FleetRandom) -> [Material] {
        let present = Set(materialFractions(chemistry).map(\.0))
        switch chemistry {
        case "lead-acid":
            return rng.chance(0.7) ? [Material(name: "pb", value: Decimals.round(rng.uniform(0.45, 0.85), 3))] : []
        case "nimh":
            return rng.chance(0.25) ? [Material(name: "ni", value: Decimals.round(rng.uniform(0.05, 0.2), 3))] : []
        default:
            guard year >= 2024, rng.chance(0.35) else { return [] }
            var shares: [Material] = []
            if present.contains("co") { shares.append(Material(name: "co", value: Decimals.round(rng.uniform(0.04, 0.16), 3))) }
            if present.contains("li") { shares.append(Material(name: "li", value: Decimals.round(rng.uniform(0.01, 0.06), 3))) }
            if present.contains("ni") { shares.append(Material(name: "ni", value: Decimals.round(rng.uniform(0.02, 0.08), 3))) }
            return shares
        }
    }
}

/// Decimal rounding of doubles, so that event data reads like measured values.
enum Decimals {
    /// Powers of ten by number of decimals.
    private static let powers: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    /// `x` rounded to `places` decimals (half away from zero).
    static func round(_ x: Double, _ places: Int) -> Double {
        let p = powers[min(max(places, 0), powers.count - 1)]
        return (x * p).rounded() / p
    }

    /// `x` rounded down to `places` decimals: for values that must not exceed a bound they were
    /// computed from (recovered ≤ declared content).
    static func floor(_ x: Double, _ places: Int) -> Double {
        let p = powers[min(max(places, 0), powers.count - 1)]
        return (x * p).rounded(.down) / p
    }
}
