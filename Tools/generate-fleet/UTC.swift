import PackLedgerKit

/// UTC calendar arithmetic on whole seconds since the Unix epoch.
///
/// Whole-second helpers over the library's `Timestamp`, whose integer civil-date arithmetic
/// keeps formatting a million timestamps cheap and independent of locale and time zone.
enum UTC {
    /// Seconds in a day.
    static let day: Int64 = 86_400

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        Int64(Timestamp.daysFromCivil(year: year, month: month, day: day))
    }

    /// The date of a day count since 1970-01-01.
    static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        Timestamp.civilFromDays(Int(days))
    }

    /// Floor division, so instants before 1970 (never produced, but cheap to get right) land
    /// on the right day.
    static func dayNumber(_ seconds: Int64) -> Int64 {
        seconds >= 0 ? seconds / day : (seconds - (day - 1)) / day
    }

    /// Parses `YYYY-MM-DD` (a real date, years 1970–2200) to the second of its midnight, UTC.
    static func parseDate(_ text: String) -> Int64? {
        guard text.utf8.count == 10, let t = Timestamp(dateOrTime: text) else { return nil }
        return t.nanoseconds / 1_000_000_000
    }

    /// Days in a month of the Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int { Timestamp.daysIn(month: month, year: year) }

    /// A month count (year · 12 + month − 1): consecutive calendar months differ by one.
    static func monthNumber(_ seconds: Int64) -> Int {
        let (y, m, _) = civil(days: dayNumber(seconds))
        return y * 12 + m - 1
    }

    /// `YYYY-MM` of a month number.
    static func monthText(_ monthNumber: Int) -> String {
        pad(monthNumber / 12, 4) + "-" + pad(monthNumber % 12 + 1, 2)
    }

    /// The calendar year of an instant.
    static func year(_ seconds: Int64) -> Int { civil(days: dayNumber(seconds)).year }

    /// `YYYY-MM-DD`.
    static func dateText(_ seconds: Int64) -> String {
        let (y, m, d) = civil(days: dayNumber(seconds))
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`: whole seconds, the form `packledger record` writes.
    static func rfc3339(_ seconds: Int64) -> String {
        Timestamp(nanoseconds: seconds * 1_000_000_000).rfc3339
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
