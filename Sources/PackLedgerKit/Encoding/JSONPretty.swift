/// Indented JSON for people and scripts: keys sorted, strings and numbers exactly as the
/// canonical encoder writes them, so the two outputs never disagree on a value.
public enum JSONPretty {
    /// Renders `value` with two-space indentation and a trailing newline.
    public static func render(_ value: JSONValue) -> String {
        // Built as bytes and decoded once: a compliance report of a large ledger is millions of
        // small values, and appending each to a String cost more than computing the report.
        var out: [UInt8] = []
        write(value, indent: 0, into: &out)
        out.append(0x0a)
        return String(decoding: out, as: UTF8.self)
    }

    /// A newline and `indent` levels of two spaces.
    private static func newline(_ indent: Int, _ out: inout [UInt8]) {
        out.append(0x0a)
        out.append(contentsOf: repeatElement(0x20, count: 2 * indent))
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout [UInt8]) {
        switch value {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1, &out)
                write(item, indent: indent + 1, into: &out)
            }
            newline(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            // The canonical key order (UTF-16 code units), so pretty and canonical output list
            // members alike.
            for (i, member) in members.sorted(by: { CanonicalJSON.utf16Precedes($0.key, $1.key) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1, &out)
                CanonicalJSON.appendString(member.key, to: &out)
                out.append(contentsOf: ": ".utf8)
                write(member.value, indent: indent + 1, into: &out)
            }
            newline(indent, &out)
            out.append(UInt8(ascii: "}"))
        default:
            CanonicalJSON.write(value, to: &out)
        }
    }
}
