import Foundation

/// An instant as nanoseconds since the Unix epoch (UTC), parsed from and printed as RFC 3339.
///
/// Integers rather than `Date` so that comparisons are exact and the same on every machine.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public let nanoseconds: Int64

    /// The earliest and latest years accepted: far enough for any battery, well inside Int64 ns.
    public static let yearRange = 1970...2200

    /// Wraps a nanosecond count.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The current wall-clock time, to the microsecond.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let micros = Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
        return Timestamp(nanoseconds: micros * 1_000)
    }

    /// This instant plus `seconds`.
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(nanoseconds: nanoseconds &+ seconds &* 1_000_000_000)
    }

    /// Orders instants.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with up to 9 fraction digits.
    /// Uppercase `T` and `Z` only, no leap seconds: one spelling per instant family keeps
    /// signed bytes unambiguous to every reader.
    public init?(rfc3339 text: String) {
        // Parsed in place when the string is contiguous UTF-8 (native strings are): every event
        // time and entry header time comes through here.
        guard let parsed = text.utf8.withContiguousStorageIfAvailable({ Timestamp(rfc3339Bytes: $0) }) ?? Array(text.utf8).withUnsafeBufferPointer({ Timestamp(rfc3339Bytes: $0) }) else { return nil }
        self = parsed
    }

    /// `init(rfc3339:)` on UTF-8 bytes.
    init?(rfc3339Bytes c: UnsafeBufferPointer<UInt8>) {
        guard c.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= c.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                value = value * 10 + Int(c[i] - 48)
            }
            return value
        }
        guard let year = digits(0, 4), c[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              c[7] == UInt8(ascii: "-"), let day = digits(8, 2), c[10] == UInt8(ascii: "T"),
              let hour = digits(11, 2), c[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
              c[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if c[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < c.count, c[i] >= 48, c[i] <= 57 {
                guard count < 9 else { return nil }
                fraction = fraction * 10 + Int64(c[i] - 48)
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { fraction *= 10 }
        }
        guard i < c.count else { return nil }
        var offsetSeconds = 0
        if c[i] == UInt8(ascii: "Z") {
            i += 1
        } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
            let sign = c[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(i + 1, 2), i + 3 < c.count, c[i + 3] == UInt8(ascii: ":"),
                  let om = digits(i + 4, 2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == c.count else { return nil }
        guard Timestamp.yearRange.contains(year), (1...12).contains(month),
              day >= 1, day <= Timestamp.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        self.nanoseconds = seconds * 1_000_000_000 + fraction
    }

    /// Parses either a full RFC 3339 time or a calendar date `YYYY-MM-DD` (midnight UTC).
    public init?(dateOrTime text: String) {
        if text.utf8.count == 10 {
            self.init(rfc3339: text + "T00:00:00Z")
        } else {
            self.init(rfc3339: text)
        }
    }

    /// The calendar date and time in UTC.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanos: Int) {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        let nanos = Int(nanoseconds - seconds * 1_000_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rem = Int(seconds - days * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        return (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60, nanos)
    }

    /// Appends `value` as exactly `width` decimal digits. (String(format:) goes through
    /// CoreFoundation and a va_list, and was a tenth of an import's time.)
    private static func digits(_ value: Int, _ width: Int, into out: inout [UInt8]) {
        // Filled from the last digit backwards in place: every entry header and record time
        // passes through here.
        var v = value
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var i = start + width - 1
        while i >= start {
            out[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
            i -= 1
        }
    }

    private func dateTime(into out: inout [UInt8]) -> Int {
        let c = components
        Timestamp.digits(c.year, 4, into: &out)
        out.append(UInt8(ascii: "-"))
        Timestamp.digits(c.month, 2, into: &out)
        out.append(UInt8(ascii: "-"))
        Timestamp.digits(c.day, 2, into: &out)
        out.append(UInt8(ascii: "T"))
        Timestamp.digits(c.hour, 2, into: &out)
        out.append(UInt8(ascii: ":"))
        Timestamp.digits(c.minute, 2, into: &out)
        out.append(UInt8(ascii: ":"))
        Timestamp.digits(c.second, 2, into: &out)
        return c.nanos
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the fixed-width form the ledger writes in entry headers.
    public var rfc3339Micros: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        appendRFC3339Micros(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the `rfc3339Micros` form to `out`.
    func appendRFC3339Micros(to out: inout [UInt8]) {
        let nanos = dateTime(into: &out)
        out.append(UInt8(ascii: "."))
        Timestamp.digits(nanos / 1000, 6, into: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Whether `text` is exactly what `appendRFC3339Micros` writes for this time: the check that
    /// an entry header's record time is in its one spelling, made on every entry a `verify`
    /// reads, so digits are compared in place instead of re-encoded into a new array.
    func rfc3339MicrosEquals(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.count == 27 else { return false }
        let c = components
        return text.withUnsafeBufferPointer { t in
            /// The last `width` digits of `value` at `offset`, as `digits(_:_:into:)` writes them.
            func matches(_ value: Int, _ width: Int, at offset: Int) -> Bool {
                var v = value
                var i = offset + width - 1
                while i >= offset {
                    guard t[i] == UInt8(truncatingIfNeeded: 48 + v % 10) else { return false }
                    v /= 10
                    i -= 1
                }
                return true
            }
            return matches(c.year, 4, at: 0) && t[4] == UInt8(ascii: "-") && matches(c.month, 2, at: 5) && t[7] == UInt8(ascii: "-")
                && matches(c.day, 2, at: 8) && t[10] == UInt8(ascii: "T") && matches(c.hour, 2, at: 11) && t[13] == UInt8(ascii: ":")
                && matches(c.minute, 2, at: 14) && t[16] == UInt8(ascii: ":") && matches(c.second, 2, at: 17)
                && t[19] == UInt8(ascii: ".") && matches(c.nanos / 1000, 6, at: 20) && t[26] == UInt8(ascii: "Z")
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, with a fraction only when there is one: the form `record` writes.
    public var rfc3339: String {
        var out: [UInt8] = []
        out.reserveCapacity(30)
        let nanos = dateTime(into: &out)
        if nanos != 0 {
            out.append(UInt8(ascii: "."))
            Timestamp.digits(nanos, 9, into: &out)
            while out.last == UInt8(ascii: "0") { out.removeLast() }
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The RFC 3339 form.
    public var description: String { rfc3339 }

    /// Days in a month of the proleptic Gregorian calendar.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil:
    /// exact integer arithmetic, no locale or time zone).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date (year, month, day) of a day count since 1970-01-01 (civil_from_days).
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
