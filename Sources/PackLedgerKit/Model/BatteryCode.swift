/// A GB/T 34014-2017 battery code: 24 characters identifying a pack, module or cell
/// (DOMAIN.md). The mapping of year characters to years is not settled by public sources, so
/// the date characters are reported as they are, not turned into a date.
public struct BatteryCode: Sendable, Equatable {
    /// The product level (position 4).
    public enum Level: String, Sendable { case pack = "P", module = "M", cell = "C" }

    /// The 24 characters.
    public let code: String
    /// Positions 1–3, assigned to the manufacturer.
    public let manufacturer: String
    /// Position 4.
    public let level: Level
    /// Position 5.
    public let batteryType: Character
    /// Positions 6–7.
    public let specification: String
    /// Positions 8–14.
    public let traceability: String
    /// Positions 15, 16, 17: year, month and day characters.
    public let year: Character, month: Character, day: Character
    /// Positions 18–24: serial number of the day.
    public let serial: String

    /// Digits and capital letters: the alphabet of most fields.
    static let alnum = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    /// Year and day characters skip I, O and Q (31 day characters).
    static let dateChars = Set("123456789ABCDEFGHJKLMNPRSTUVWXY")
    static let monthChars = Set("123456789ABC")
    static let typeChars = Set("ABCDEFGZ")

    /// Whether an identifier has the shape of a battery code (24 capital letters and digits) and
    /// must therefore validate as one.
    public static func hasShape(_ id: String) -> Bool { id.count == 24 && id.allSatisfy(alnum.contains) }

    /// Parses and validates a code, naming the first bad position.
    public init(_ text: String) throws(LedgerError) {
        let c = Array(text)
        func bad(_ position: Int, _ what: String) -> LedgerError {
            LedgerError(.malformed, "battery code \(text): position \(position) \(what)")
        }
        guard c.count == 24 else {
            throw LedgerError(.malformed, "battery code \(text): a GB/T 34014 code has 24 characters, not \(c.count)")
        }
        func check(_ range: ClosedRange<Int>, _ allowed: Set<Character>, _ what: String) throws(LedgerError) {
            for p in range where !allowed.contains(c[p - 1]) { throw bad(p, "'\(c[p - 1])' is not \(what)") }
        }
        try check(1...3, Self.alnum, "a capital letter or digit (manufacturer code)")
        guard let level = Level(rawValue: String(c[3])) else { throw bad(4, "'\(c[3])' is not a product level (P pack, M module, C cell)") }
        try check(5...5, Self.typeChars, "a battery type (A–G or Z)")
        try check(6...7, Self.alnum, "a capital letter or digit (specification code)")
        try check(8...14, Self.alnum, "a capital letter or digit (traceability information)")
        try check(15...15, Self.dateChars, "a year character (1–9, A–Y without I, O, Q)")
        try check(16...16, Self.monthChars, "a month character (1–9, A–C)")
        try check(17...17, Self.dateChars, "a day character (1–9, A–Y without I, O, Q)")
        try check(18...24, Set("0123456789"), "a digit (serial number)")
        // Day 31 in a 30-day month (or 30–31 February) cannot be right whatever the year.
        let month = Self.monthChars.sorted().firstIndex(of: c[15]).map { $0 + 1 } ?? 1
        let day = Self.dateChars.sorted().firstIndex(of: c[16]).map { $0 + 1 } ?? 1
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= longest else { throw bad(17, "day \(day) does not exist in month \(month)") }
        code = text
        manufacturer = String(c[0..<3])
        self.level = level
        batteryType = c[4]
        specification = String(c[5..<7])
        traceability = String(c[7..<14])
        year = c[14]
        self.month = c[15]
        self.day = c[16]
        serial = String(c[17..<24])
    }

    /// Month 1–12 of the month character.
    public var monthNumber: Int { (Self.monthChars.sorted().firstIndex(of: month) ?? 0) + 1 }
    /// Day 1–31 of the day character.
    public var dayNumber: Int { (Self.dateChars.sorted().firstIndex(of: day) ?? 0) + 1 }

    /// What the battery-type character is known to mean (DOMAIN.md names B and E).
    public var batteryTypeMeaning: String {
        switch batteryType {
        case "B": return "lithium iron phosphate"
        case "E": return "ternary lithium (NCM/NCA)"
        default: return "type \(batteryType) (see GB/T 34014 for its meaning)"
        }
    }

    /// The fields, as the stable JSON of `code parse --format json`.
    public var json: JSONValue {
        .object([
            "code": .string(code), "manufacturer": .string(manufacturer),
            "level": .string(level == .pack ? "pack" : level == .module ? "module" : "cell"),
            "battery_type": .object(["character": .string(String(batteryType)), "meaning": .string(batteryTypeMeaning)]),
            "specification": .string(specification), "traceability": .string(traceability),
            "production_date": .object(["year_character": .string(String(year)), "month": .number(Double(monthNumber)), "day": .number(Double(dayNumber))]),
            "serial": .string(serial),
        ])
    }
}
