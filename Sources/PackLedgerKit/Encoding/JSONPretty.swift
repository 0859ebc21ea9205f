/// Indented JSON for people and scripts: keys sorted, strings and numbers exactly as the
/// canonical encoder writes them, so the two outputs never disagree on a value.
public enum JSONPretty {
    /// Renders `value` with two-space indentation and a trailing newline.
    public static func render(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        out += "\n"
        return out
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += close + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            let keys = members.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            for (i, key) in keys.enumerated() {
                out += pad + CanonicalJSON.encodeString(.string(key)) + ": "
                if let member = members[key] { write(member, indent: indent + 1, into: &out) }
                out += i + 1 < keys.count ? ",\n" : "\n"
            }
            out += close + "}"
        default:
            out += CanonicalJSON.encodeString(value)
        }
    }
}
