/// Lowercase hexadecimal, the form used for hashes and key ids in text output.
public enum Hex {
    /// The lowercase digit for a nibble, computed rather than looked up (no table, no bounds check).
    @inline(__always) private static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    /// Appends the lowercase hex of `bytes` to `out`.
    static func append(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 2 * bytes.count)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0f))
        }
    }

    /// Encodes bytes as lowercase hex.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case); nil if the text is not an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bad: UInt8 = 0
        let out = (0..<chars.count / 2).map { k in
            let hi = nibble(chars[2 * k]), lo = nibble(chars[2 * k + 1])
            bad |= (hi | lo) & 0xf0
            return hi << 4 | lo
        }
        return bad == 0 ? out : nil
    }

    /// Whether every byte of `chars` is a lowercase hex digit (the one spelling key ids and
    /// hashes are stored in).
    static func isLowercase(_ chars: some Sequence<UInt8>) -> Bool {
        chars.allSatisfy { lowercaseNibble($0) < 0x10 }
    }

    /// The value of a lowercase hex digit, or a value ≥ 0x10 for any other byte (branch-free
    /// callers OR these together and check once).
    @inline(__always) static func lowercaseNibble(_ c: UInt8) -> UInt8 {
        let d = c &- 48, l = c &- 87
        return d < 10 ? d : (c >= 97 && c <= 102 ? l : 0xff)
    }

    /// The value of a hex digit of either case, or a value ≥ 0x10 for any other byte.
    @inline(__always) static func nibble(_ c: UInt8) -> UInt8 {
        let folded = c | 0x20, d = c &- 48
        return d < 10 ? d : (folded >= 97 && folded <= 102 ? folded &- 87 : 0xff)
    }
}

/// Standard base64 (RFC 4648 §4) with padding, strict on decode: the alphabet the
/// signed-note and checkpoint formats use, and no whitespace or missing padding accepted.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Encodes bytes as padded standard base64.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the padded standard base64 of `bytes` to `out`: an entry header writes its
    /// signature straight into its buffer, without a string in between.
    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
    }

    /// Decodes padded standard base64; nil on any deviation, including non-zero pad bits,
    /// so that each byte string has exactly one accepted encoding.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        // Native strings are read in place; copying them first cost an allocation per signature.
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode(chars: $0) }) { return decoded }
        return Array(text.utf8).withUnsafeBufferPointer { decode(chars: $0) }
    }

    /// Decodes base64 text given as bytes (an entry header's signature), without making a
    /// String of it first.
    static func decode(bytes: ArraySlice<UInt8>) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { decode(chars: $0) }
    }

    private static func decode(chars: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let c0 = reverse[Int(chars[i])], c1 = reverse[Int(chars[i + 1])]
            guard c0 != 0xff, c1 != 0xff else { return nil }
            let p2 = chars[i + 2] == UInt8(ascii: "="), p3 = chars[i + 3] == UInt8(ascii: "=")
            if p2 || p3 {
                guard last, p3 else { return nil }
                if p2 {
                    guard c1 & 0x0f == 0 else { return nil }
                    out.append(c0 << 2 | c1 >> 4)
                } else {
                    let c2 = reverse[Int(chars[i + 2])]
                    guard c2 != 0xff, c2 & 0x03 == 0 else { return nil }
                    out.append(c0 << 2 | c1 >> 4)
                    out.append(c1 << 4 | c2 >> 2)
                }
            } else {
                let c2 = reverse[Int(chars[i + 2])], c3 = reverse[Int(chars[i + 3])]
                guard c2 != 0xff, c3 != 0xff else { return nil }
                out.append(c0 << 2 | c1 >> 4)
                out.append(c1 << 4 | c2 >> 2)
                out.append(c2 << 6 | c3)
            }
            i += 4
        }
        return out
    }
}
