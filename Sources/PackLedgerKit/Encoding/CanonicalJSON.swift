/// RFC 8785 JSON Canonicalization Scheme.
///
/// Members are sorted by their keys' UTF-16 code units, there is no whitespace, strings use
/// the minimal escaping of ECMAScript `JSON.stringify`, and numbers use ECMAScript
/// `Number.prototype.toString`. Values must hold finite numbers only (see `formatNumber(_:)`).
/// Encoding recurses once per nesting level; parsed values are bounded by `JSONParser.Limits.maxDepth`.
public enum CanonicalJSON {
    /// The canonical UTF-8 encoding of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, to: &out)
        return out
    }

    /// The canonical encoding of `value` as a `String` (the same bytes as `encode(_:)`).
    public static func encodeString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// ECMAScript `Number.prototype.toString` for a finite double (RFC 8785 §3.2.2.3); -0 gives "0".
    ///
    /// A non-finite double is a programming error: no JSON text can hold one and the parser never
    /// produces one. To stay deterministic and trap-free it yields ECMAScript's "NaN", "Infinity"
    /// or "-Infinity", which is not valid JSON and will be rejected by `JSONParser`.
    public static func formatNumber(_ value: Double) -> String {
        var out: [UInt8] = []
        appendNumber(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            out.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .number(let number):
            appendNumber(number, to: &out)
        case .string(let text):
            appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let sorted = members.sorted { utf16Precedes($0.key, $1.key) }
            for (position, member) in sorted.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whether `a` sorts before `b` when both are compared as UTF-16 code unit arrays.
    ///
    /// Compares UTF-8 bytes, which order like code points, and corrects the one case where
    /// UTF-16 differs: a supplementary character (lead byte F0–F4, surrogates D800–DBFF in
    /// UTF-16) sorts before U+E000–U+FFFF (lead byte EE–EF). The first differing bytes are
    /// either both lead bytes or both continuation bytes, because the prefixes are equal.
    static func utf16Precedes(_ a: String, _ b: String) -> Bool {
        // Iterating the UTF-8 views measured faster than contiguous-storage access for short keys.
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil):
                return false
            case (nil, _):
                return true
            case (_, nil):
                return false
            case let (x?, y?):
                if x == y { continue }
                if x >= 0xF0 && (0xEE...0xEF).contains(y) { return true }
                if y >= 0xF0 && (0xEE...0xEF).contains(x) { return false }
                return x < y
            }
        }
    }

    /// Appends `text` as a JSON string with RFC 8785 escaping.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { appendEscaped($0, to: &out) }
        if done == nil {
            Array(text.utf8).withUnsafeBufferPointer { appendEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let hexDigits: StaticString = "0123456789abcdef"
        var runStart = 0
        for position in 0..<bytes.count {
            let byte = bytes[position]
            // Everything except '"', '\' and C0 controls is copied raw (including '/', DEL, U+2028).
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            runStart = position + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            default:
                out.append(contentsOf: "u00".utf8)
                out.append(hexDigits.utf8Start[Int(byte >> 4)])
                out.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
    }

    /// Appends ECMAScript `Number::toString(value)`.
    static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: value.isNaN ? "NaN".utf8 : value < 0 ? "-Infinity".utf8 : "Infinity".utf8)
            return
        }
        if value == 0 {
            out.append(UInt8(ascii: "0"))  // covers -0
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude

        // Integers below 2^53 print as their exact digits; skip the shortest-digits machinery.
        // (Conversion, not rounded(.towardZero), which would need libm's trunc at link time.)
        if magnitude < 9_007_199_254_740_992 {
            let integer = UInt64(magnitude)
            if Double(integer) == magnitude {
                appendDecimal(integer, to: &out)
                return
            }
        }

        // Swift's description gives the shortest round-trip digits, closest to the exact value
        // (the digit string ECMAScript asks for); only its layout differs, so re-lay them out.
        // The digits go to a buffer on the stack (never more of them than characters in the
        // description): every declared mass in an event passes here.
        let description = magnitude.description
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: description.utf8.count) { digits in
            var count = 0
            var integerDigits = 0
            var seenPoint = false
            var inExponent = false
            var exponentNegative = false
            var exponent = 0
            for byte in description.utf8 {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if inExponent {
                        exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                    } else {
                        digits[count] = byte
                        count += 1
                        if !seenPoint { integerDigits += 1 }
                    }
                case UInt8(ascii: "."):
                    seenPoint = true
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    inExponent = true
                case UInt8(ascii: "-"):
                    exponentNegative = true
                default:
                    break
                }
            }
            // value = 0.d1…dk × 10^n, per ECMAScript's definition of n.
            var n = integerDigits + (exponentNegative ? -exponent : exponent)
            var first = 0
            while first < count && digits[first] == UInt8(ascii: "0") {
                first += 1
                n -= 1
            }
            var last = count
            while last > first && digits[last - 1] == UInt8(ascii: "0") { last -= 1 }
            let significant = UnsafeBufferPointer(rebasing: digits[first..<last])
            let k = significant.count
            guard k > 0 else {
                out.append(UInt8(ascii: "0"))
                return
            }

            if k <= n && n <= 21 {
                out.append(contentsOf: significant)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
            } else if 0 < n && n <= 21 {
                out.append(contentsOf: significant.prefix(n))
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: significant.dropFirst(n))
            } else if -6 < n && n <= 0 {
                out.append(contentsOf: "0.".utf8)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
                out.append(contentsOf: significant)
            } else {
                out.append(significant[0])
                if k > 1 {
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: significant.dropFirst())
                }
                out.append(UInt8(ascii: "e"))
                let e = n - 1
                out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                appendDecimal(UInt64(e.magnitude), to: &out)
            }
        }
    }

    /// Appends `value` in decimal (no sign, no leading zeros): digits are written from the
    /// right and reversed in place, without a scratch array. Also writes entry headers' numbers.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var rest = value
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        } while rest > 0
        // Reversed by swapping in place: reversing the slice `out[start...]` copied it to a new
        // array, an allocation for every number written into every entry header.
        var low = start, high = out.count - 1
        while low < high {
            out.swapAt(low, high)
            low += 1
            high -= 1
        }
    }
}
