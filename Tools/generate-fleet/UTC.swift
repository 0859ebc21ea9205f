/// UTC calendar arithmetic on whole seconds since the Unix epoch.
///
/// The generator formats a million timestamps on several threads; doing it with integer
/// arithmetic (Howard Hinnant's civil-date algorithms) keeps that cheap and independent of
/// locale, time zone and Foundation's formatters.
enum UTC {
    /// Seconds in a day.
    static let day: Int64 = 86_400

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    /// The date of a day count since 1970-01-01.
    static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Floor division, so instants before 1970 (never produced, but cheap to get right) land
    /// on the right day.
    static func dayNumber(_ seconds: Int64) -> Int64 {
        seconds >= 0 ? seconds / day : (seconds - (day - 1)) / day
    }

    /// Parses `YYYY-MM-DD` (a real date, years 1970–2200) to the second of its midnight, UTC.
    static func parseDate(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        guard c.count == 10, c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                value = value * 10 + Int(c[i] - 48)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              (1970...2200).contains(y), (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        return days(year: y, month: m, day: d) * day
    }

    /// Days in a month of the Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

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
        let dayNo = dayNumber(seconds)
        let (y, m, d) = civil(days: dayNo)
        let rem = Int(seconds - dayNo * day)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        func put(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(48 + v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        put(y, 4); out.append(UInt8(ascii: "-")); put(m, 2); out.append(UInt8(ascii: "-")); put(d, 2)
        out.append(UInt8(ascii: "T"))
        put(rem / 3600, 2); out.append(UInt8(ascii: ":")); put(rem % 3600 / 60, 2); out.append(UInt8(ascii: ":")); put(rem % 60, 2)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
