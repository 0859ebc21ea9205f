/// Why a JSON document was rejected, and where.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem found.
    public enum Code: String, Sendable {
        /// The input is not well-formed UTF-8.
        case invalidUTF8
        /// A byte that cannot start or continue the expected token.
        case unexpectedCharacter
        /// The input ended before the value was complete.
        case unexpectedEnd
        /// Something other than whitespace follows the top-level value.
        case trailingData
        /// An object names the same key twice (offset: the repeated key). Checked when the
        /// object closes, so a syntax error later in the same object is reported instead.
        case duplicateKey
        /// Arrays and objects are nested deeper than `Limits.maxDepth`.
        case tooDeep
        /// A string or key is longer than `Limits.maxStringBytes` once unescaped.
        case stringTooLong
        /// The input is longer than `Limits.maxInputBytes`.
        case inputTooLarge
        /// A number does not follow the RFC 8259 grammar.
        case invalidNumber
        /// A number is too large in magnitude for a finite double.
        case numberOutOfRange
        /// A backslash escape that JSON does not define, or bad hex digits in `\u`.
        case invalidEscape
        /// A `\u` escape that is half of a surrogate pair without its partner.
        case invalidSurrogate
        /// A raw U+0000–U+001F inside a string.
        case controlCharacter
    }

    /// The kind of problem found.
    public var code: Code
    /// A human sentence describing the problem, e.g. `duplicate key "mass_kg"`.
    public var reason: String
    /// The byte offset in the input where the problem is.
    public var offset: Int

    /// Creates an error; the parser is the usual source of these.
    public init(code: Code, reason: String, offset: Int) {
        self.code = code
        self.reason = reason
        self.offset = offset
    }

    /// For example `invalid JSON at byte 17: duplicate key "mass_kg"`.
    public var description: String {
        "invalid JSON at byte \(offset): \(reason)"
    }
}

/// A strict RFC 8259 JSON parser producing `JSONValue`.
///
/// Accepts exactly one value of any type surrounded by optional whitespace, in UTF-8 without
/// a byte order mark. Rejects duplicate keys, NaN/Infinity, numbers beyond the double range
/// and anything else RFC 8259 does not allow. Never traps, whatever the input.
public struct JSONParser: Sendable {
    /// Resource bounds that keep hostile input cheap to reject.
    public struct Limits: Sendable, Equatable {
        /// Maximum nesting of arrays and objects; a top-level container has depth 1.
        public var maxDepth: Int
        /// Maximum UTF-8 length of one string or key after unescaping.
        public var maxStringBytes: Int
        /// Maximum length of the whole input in bytes.
        public var maxInputBytes: Int

        /// Creates limits; the defaults suit ledger events.
        ///
        /// Keep `maxDepth` modest (hundreds, not millions): parsing is iterative, but
        /// destroying, comparing and encoding a `JSONValue` recurse once per level.
        public init(maxDepth: Int = 32, maxStringBytes: Int = 65_536, maxInputBytes: Int = 1_048_576) {
            self.maxDepth = maxDepth
            self.maxStringBytes = maxStringBytes
            self.maxInputBytes = maxInputBytes
        }

        /// Depth 32, strings up to 64 KiB, input up to 1 MiB.
        public static let `default` = Limits()
    }

    /// Parses one JSON document from UTF-8 bytes.
    public static func parse(_ bytes: [UInt8], limits: Limits = .default) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { parseResult($0, limits) }.get()
    }

    /// Parses one JSON document from a string (its UTF-8 form, so the same rules apply).
    public static func parse(_ text: String, limits: Limits = .default) throws(JSONError) -> JSONValue {
        let result = text.utf8.withContiguousStorageIfAvailable { parseResult($0, limits) }
            ?? Array(text.utf8).withUnsafeBufferPointer { parseResult($0, limits) }
        return try result.get()
    }

    /// Parses one JSON document from raw UTF-8 bytes in memory the caller owns.
    public static func parse(_ buffer: UnsafeRawBufferPointer, limits: Limits = .default) throws(JSONError) -> JSONValue {
        try buffer.withMemoryRebound(to: UInt8.self) { parseResult($0, limits) }.get()
    }

    /// A document parsed by `parseNotingCanonical(_:members:limits:)`.
    public struct Noted: Sendable {
        private let parsed: JSONValue
        /// With `members`, a top-level object's members in document order (keys distinct, as in
        /// any parsed object), each with the byte range from its key's opening quote to the end
        /// of its value; nil otherwise. The object is then not built as a dictionary, nor are the
        /// objects directly inside it (see `JSONMember.objectMembers`): events read their
        /// envelope and their `data` fields straight from these lists.
        public let members: [JSONMember]?
        /// Whether the input is exactly `CanonicalJSON.encode(value)`: no whitespace, members in
        /// RFC 8785 order, minimal escapes, numbers as ECMAScript prints them.
        public let isCanonical: Bool

        init(parsed: JSONValue, members: [JSONMember]?, isCanonical: Bool) {
            self.parsed = parsed
            self.members = members
            self.isCanonical = isCanonical
        }

        /// The parsed value (for a top-level object read as `members`, built on each call).
        public var value: JSONValue {
            guard let members else { return parsed }
            return .object(JSONMember.dictionary(members))
        }
    }

    /// Parses one JSON document and notes, in the same pass, whether its bytes are already the
    /// RFC 8785 canonical encoding. The note equals `CanonicalJSON.encode(value) == bytes` but
    /// costs no re-encoding, which is what makes it worth having on the ingest and verify paths.
    /// With `members`, a top-level object is returned as its list of members.
    public static func parseNotingCanonical(_ bytes: [UInt8], members: Bool = false, limits: Limits = .default) throws(JSONError) -> Noted {
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<Noted, JSONError> in
            var core = ParserCore(bytes: buffer, limits: limits, noteCanonical: true)
            core.keepTopLevelMembers = members
            do throws(JSONError) {
                let value = try core.parseDocument()
                return .success(Noted(parsed: value, members: core.topLevelMembers, isCanonical: core.canonical))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // Result rather than typed throws through closures: the stdlib closure APIs used above rethrow untyped.
    private static func parseResult(_ bytes: UnsafeBufferPointer<UInt8>, _ limits: Limits) -> Result<JSONValue, JSONError> {
        var core = ParserCore(bytes: bytes, limits: limits, noteCanonical: false)
        do {
            return .success(try core.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

/// One member of a parsed object, where it was in the input.
public struct JSONMember: Sendable {
    /// The key.
    public let key: String
    private let stored: JSONValue
    /// When the value is an object read as a member list (the objects directly inside a
    /// top-level object parsed with `members`, such as an event's `data`): its members.
    public let objectMembers: [JSONMember]?
    /// From the key's opening quote to the end of the value.
    public let range: Range<Int>

    /// A member with an ordinary value.
    public init(key: String, value: JSONValue, range: Range<Int>) {
        self.init(key: key, objectMembers: nil, value: value, range: range)
    }

    init(key: String, objectMembers: [JSONMember]?, value: JSONValue, range: Range<Int>) {
        self.key = key
        self.stored = value
        self.objectMembers = objectMembers
        self.range = range
    }

    /// The value (an object kept as a member list is built into a dictionary on each call).
    public var value: JSONValue {
        guard let objectMembers else { return stored }
        return .object(JSONMember.dictionary(objectMembers))
    }

    /// The object `members` describe.
    public static func dictionary(_ members: [JSONMember]) -> [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

extension Array where Element == JSONMember {
    /// The value of the member named `key`, if any: a short linear search, which for the
    /// handful of members of an event, its `data` or an input record is cheaper than hashing.
    func value(forKey key: String) -> JSONValue? { first(where: { $0.key == key })?.value }
}

// MARK: - Implementation

private enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let lowerE = UInt8(ascii: "e")
    static let upperE = UInt8(ascii: "E")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
}

private let maxNumberLexemeLength = 1_000

// Exact doubles 10^0 ... 10^22, for the exact fast path of number conversion.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct ParserCore {
    private struct Frame {
        var isObject: Bool
        var start: Int  // where this container's items begin in the shared buffer
    }

    /// The open containers, innermost last. The first eight are held inline (an event nests
    /// three deep) and only deeper ones in an array: a stack array cost an allocation for
    /// every document parsed.
    private struct FrameStack {
        private static let inlineCount = 8
        private var inline: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
        private var overflow: [Int] = []
        private(set) var count = 0

        // A frame packed in one word: where its items start, shifted left, and whether it is an object.
        private static func pack(_ frame: Frame) -> Int { frame.start << 1 | (frame.isObject ? 1 : 0) }
        private static func unpack(_ word: Int) -> Frame { Frame(isObject: word & 1 == 1, start: word >> 1) }

        var isEmpty: Bool { count == 0 }
        var last: Frame? { count == 0 ? nil : self[count - 1] }

        subscript(i: Int) -> Frame {
            guard i < FrameStack.inlineCount else { return FrameStack.unpack(overflow[i - FrameStack.inlineCount]) }
            return FrameStack.unpack(withUnsafeBytes(of: inline) { $0.load(fromByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) })
        }

        mutating func append(_ frame: Frame) {
            let word = FrameStack.pack(frame), offset = count * MemoryLayout<Int>.stride
            if count < FrameStack.inlineCount {
                withUnsafeMutableBytes(of: &inline) { $0.storeBytes(of: word, toByteOffset: offset, as: Int.self) }
            } else {
                overflow.append(word)
            }
            count += 1
        }

        mutating func removeLast() {
            count -= 1
            if count >= FrameStack.inlineCount { overflow.removeLast() }
        }
    }

    private struct Member {
        var key: String
        var offset: Int
        /// Just past the key's closing quote.
        var keyEnd: Int
        var value: JSONValue
        /// Where the value ends; kept only in `keepTopLevelMembers` mode.
        var end = 0
        /// The value's members, when it is an object kept as a list.
        var list: [JSONMember]?
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let count: Int
    let limits: JSONParser.Limits
    var index = 0
    // Reused across strings that contain escapes, so unescaping allocates once per document.
    var scratch: [UInt8] = []
    /// Whether to track `canonical` (costs a little per number and member).
    let noteCanonical: Bool
    /// Cleared at the first byte that `CanonicalJSON.encode` would not have written.
    var canonical = true
    /// Whether a top-level object, and the objects directly inside it, are kept as member
    /// lists (`topLevelMembers`) instead of dictionaries.
    var keepTopLevelMembers = false
    var topLevelMembers: [JSONMember]?

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser.Limits, noteCanonical: Bool) {
        self.bytes = bytes
        self.count = bytes.count
        self.limits = limits
        self.noteCanonical = noteCanonical
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        guard count <= limits.maxInputBytes else {
            throw JSONError(code: .inputTooLarge,
                            reason: "input is \(count) bytes; the limit is \(limits.maxInputBytes)",
                            offset: max(0, limits.maxInputBytes))
        }
        let value = try parseValue()
        skipWhitespace()
        if index < count {
            throw JSONError(code: .trailingData,
                            reason: "unexpected \(describeByte(at: index)) after the top-level value",
                            offset: index)
        }
        return value
    }

    // Containers live on explicit stacks, never the call stack, so no input can overflow it.
    // Elements and members of all open containers share two flat buffers, so each finished
    // array or object costs one exact-size allocation instead of repeated growth.
    private mutating func parseValue() throws(JSONError) -> JSONValue {
        var frames = FrameStack()
        var elements: [JSONValue] = []
        var members: [Member] = []

        // An object directly inside a kept top-level object, just closed as a list: its parent
        // member takes it instead of a value.
        var list: [JSONMember]?
        nextValue: while true {
            skipWhitespace()
            guard index < count else { throw endError("expected a value") }
            var value: JSONValue
            let byte = bytes[index]
            switch byte {
            case Byte.openBracket:
                try checkDepth(frames.count + 1)
                index += 1
                skipWhitespace()
                if index < count && bytes[index] == Byte.closeBracket {
                    index += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, start: elements.count))
                    continue nextValue
                }
            case Byte.openBrace:
                try checkDepth(frames.count + 1)
                // One allocation each for a typical event (a dozen members, two levels) instead
                // of growth from one by doubling, which cost four or five per document.
                if members.capacity == 0 { members.reserveCapacity(16) }
                index += 1
                skipWhitespace()
                if index < count && bytes[index] == Byte.closeBrace {
                    index += 1
                    value = .object([:])
                    if keepTopLevelMembers && frames.isEmpty { topLevelMembers = [] }
                } else {
                    frames.append(Frame(isObject: true, start: members.count))
                    members.append(try parseKey())
                    continue nextValue
                }
            case Byte.quote:
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case Byte.minus, Byte.zero...Byte.nine:
                let start = index
                let number = try parseNumber()
                if noteCanonical && canonical { noteNumber(number, from: start) }
                value = .number(number)
            case UInt8(ascii: "N"), UInt8(ascii: "I"):
                throw JSONError(code: .invalidNumber, reason: "NaN and Infinity are not JSON numbers", offset: index)
            case Byte.plus:
                throw JSONError(code: .invalidNumber, reason: "a JSON number cannot start with '+'", offset: index)
            case Byte.dot:
                throw JSONError(code: .invalidNumber, reason: "a JSON number needs a digit before '.'", offset: index)
            default:
                throw try unexpectedError(expected: "a value")
            }

            // Attach the finished value to its parent, closing every container that ends here.
            while let frame = frames.last {
                if frame.isObject {
                    // The member was appended with its key; fill in its value.
                    members[members.count - 1].value = value
                    if keepTopLevelMembers && frames.count <= 2 {
                        members[members.count - 1].end = index
                        members[members.count - 1].list = list
                        list = nil
                    }
                    skipWhitespace()
                    guard index < count else { throw endError("expected ',' or '}' in object") }
                    switch bytes[index] {
                    case Byte.comma:
                        index += 1
                        skipWhitespace()
                        members.append(try parseKey())
                        continue nextValue
                    case Byte.closeBrace:
                        index += 1
                        frames.removeLast()
                        if keepTopLevelMembers && frames.isEmpty {
                            topLevelMembers = try memberList(&members, from: frame.start)
                            value = .null
                        } else if keepTopLevelMembers && frames.count == 1 && frames[0].isObject {
                            list = try memberList(&members, from: frame.start)
                            value = .null
                        } else {
                            value = .object(try makeObject(members[frame.start...]))
                        }
                        members.removeSubrange(frame.start...)
                    default:
                        throw try unexpectedError(expected: "',' or '}' in object")
                    }
                } else {
                    elements.append(value)
                    skipWhitespace()
                    guard index < count else { throw endError("expected ',' or ']' in array") }
                    switch bytes[index] {
                    case Byte.comma:
                        index += 1
                        continue nextValue
                    case Byte.closeBracket:
                        index += 1
                        frames.removeLast()
                        value = .array(Array(elements[frame.start...]))
                        elements.removeSubrange(frame.start...)
                    default:
                        throw try unexpectedError(expected: "',' or ']' in array")
                    }
                }
            }
            return value
        }
    }

    private func checkDepth(_ depth: Int) throws(JSONError) {
        if depth > limits.maxDepth {
            throw JSONError(code: .tooDeep,
                            reason: "arrays and objects nested deeper than \(limits.maxDepth)",
                            offset: index)
        }
    }

    /// Parses `"key"` and the `:` after it; the index must be at the key (whitespace skipped).
    private mutating func parseKey() throws(JSONError) -> Member {
        guard index < count else { throw endError("expected a string key") }
        guard bytes[index] == Byte.quote else { throw try unexpectedError(expected: "a string key") }
        let keyOffset = index
        let key = try parseString()
        let keyEnd = index
        skipWhitespace()
        guard index < count else { throw endError("expected ':' after object key") }
        guard bytes[index] == Byte.colon else { throw try unexpectedError(expected: "':' after object key") }
        index += 1
        return Member(key: key, offset: keyOffset, keyEnd: keyEnd, value: .null)
    }

    /// A closed object's members (those of `members` from `start` on) as a list, with the same
    /// duplicate check as `makeObject`: ASCII keys in strictly ascending order (every event;
    /// signed lines are canonical) cannot repeat, so only other objects pay for a dictionary.
    /// The members are moved out, leaving empty ones for the caller to remove: copying them
    /// cost a reference count per key, value and list of every event, and again to free them.
    private mutating func memberList(_ members: inout [Member], from start: Int) throws(JSONError) -> [JSONMember] {
        var ordered = true
        var previous: Range<Int>?
        for i in start..<members.count {
            let spelling = members[i].offset + 1..<members[i].keyEnd - 1
            guard isPlainASCII(spelling, after: previous) else { ordered = false; break }
            previous = spelling
        }
        // Sorted ASCII keys are also in RFC 8785 order (UTF-16 order is byte order for ASCII);
        // anything else goes through makeObject, which notes the order and finds repeats.
        if !ordered { _ = try makeObject(members[start...]) }
        var list: [JSONMember] = []
        list.reserveCapacity(members.count - start)
        for i in start..<members.count {
            var key = "", value = JSONValue.null, objectMembers: [JSONMember]?
            swap(&key, &members[i].key)
            swap(&value, &members[i].value)
            swap(&objectMembers, &members[i].list)
            list.append(JSONMember(key: key, objectMembers: objectMembers, value: value, range: members[i].offset..<members[i].end))
        }
        return list
    }

    /// Whether the input bytes `key` (a key between its quotes) are ASCII without escapes, so
    /// that they are the key itself, and come strictly after the bytes `previous` when given.
    /// Read from the input, not the parsed strings: the generic UTF-8 view comparison this
    /// replaces was a few percent of `verify`, for every member of every event.
    private func isPlainASCII(_ key: Range<Int>, after previous: Range<Int>?) -> Bool {
        for i in key where bytes[i] >= 0x80 || bytes[i] == Byte.backslash { return false }
        guard let previous else { return true }
        for (p, k) in zip(previous, key) where bytes[p] != bytes[k] { return bytes[p] < bytes[k] }
        return previous.count < key.count
    }

    /// Builds a closed object with one hash per key, rejecting its first repeated key in document order.
    private mutating func makeObject(_ members: ArraySlice<Member>) throws(JSONError) -> [String: JSONValue] {
        if noteCanonical && canonical {
            // RFC 8785 order: strictly ascending UTF-16 code units (equal keys fail below anyway).
            var previous: String?
            for member in members {
                if let previous, !CanonicalJSON.utf16Precedes(previous, member.key) { canonical = false; break }
                previous = member.key
            }
        }
        var object = [String: JSONValue](minimumCapacity: members.count)
        for member in members where object.updateValue(member.value, forKey: member.key) != nil {
            // Swift String equality is canonical equivalence, so this also catches keys that differ
            // only in Unicode normalization; a [String: JSONValue] could not hold both anyway.
            var reason = "duplicate key " + quoted(member.key)
            if let existing = object.index(forKey: member.key), !object[existing].key.utf8.elementsEqual(member.key.utf8) {
                reason += " (canonically equivalent to an earlier key)"
            }
            throw JSONError(code: .duplicateKey, reason: reason, offset: member.offset)
        }
        return object
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let start = index
        let length = literal.utf8CodeUnitCount
        for k in 0..<length {
            let position = start + k
            guard position < count else { throw endError("incomplete literal") }
            if bytes[position] != literal.utf8Start[k] {
                index = position
                throw try unexpectedError(expected: "the literal \(literal)")
            }
        }
        index = start + length
    }

    private mutating func skipWhitespace() {
        while index < count {
            switch bytes[index] {
            case Byte.space, Byte.newline, Byte.carriageReturn, Byte.tab:
                index += 1
                canonical = false
            default:
                return
            }
        }
    }

    // MARK: Strings

    /// Parses a string whose opening quote is at the index.
    private mutating func parseString() throws(JSONError) -> String {
        let quoteOffset = index
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes can become the String directly.
        while index < count {
            let byte = bytes[index]
            if byte == Byte.quote {
                let length = index - start
                guard length <= limits.maxStringBytes else { throw stringTooLong(at: quoteOffset) }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == Byte.backslash { break }
            if byte < 0x20 { throw controlCharacterError(byte) }
            if byte < 0x80 {
                index += 1
            } else {
                index = try endOfUTF8Sequence(at: index)
            }
        }
        guard index < count else { throw endError("unterminated string") }

        // Slow path: unescape into the scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < count {
            let byte = bytes[index]
            if byte == Byte.quote {
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == Byte.backslash {
                try parseEscape()
            } else if byte < 0x20 {
                throw controlCharacterError(byte)
            } else if byte < 0x80 {
                scratch.append(byte)
                index += 1
            } else {
                let end = try endOfUTF8Sequence(at: index)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                index = end
            }
            if scratch.count > limits.maxStringBytes { throw stringTooLong(at: quoteOffset) }
        }
        throw endError("unterminated string")
    }

    /// Unescapes the escape at the index (a backslash) onto the scratch buffer.
    private mutating func parseEscape() throws(JSONError) {
        let escapeOffset = index
        guard index + 1 < count else { throw endError("unterminated escape") }
        let simple: UInt8
        switch bytes[index + 1] {
        case Byte.quote: simple = Byte.quote
        case Byte.backslash: simple = Byte.backslash
        case Byte.slash:
            simple = Byte.slash
            canonical = false
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            let unit = try hexQuad(at: index + 2, escapeOffset: escapeOffset)
            // The encoder writes \u00xx (lowercase) only for C0 controls without a short form.
            if noteCanonical && canonical {
                let hasShortForm = unit == 0x08 || unit == 0x09 || unit == 0x0A || unit == 0x0C || unit == 0x0D
                let lowercase = (index + 2..<index + 6).allSatisfy { !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains(bytes[$0]) }
                if unit >= 0x20 || hasShortForm || !lowercase { canonical = false }
            }
            index += 6
            switch unit {
            case 0xD800...0xDBFF:
                let followedByEscapeU = (index >= count || bytes[index] == Byte.backslash)
                    && (index + 1 >= count || bytes[index + 1] == UInt8(ascii: "u"))
                guard followedByEscapeU else {
                    throw surrogateError("high surrogate \\u\(hex4(unit)) is not followed by a low surrogate",
                                         at: escapeOffset)
                }
                guard index + 1 < count else { throw endError("unterminated string") }
                let low = try hexQuad(at: index + 2, escapeOffset: index)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw surrogateError("high surrogate \\u\(hex4(unit)) is followed by \\u\(hex4(low)), not a low surrogate",
                                         at: escapeOffset)
                }
                index += 6
                appendUTF8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00...0xDFFF:
                throw surrogateError("low surrogate \\u\(hex4(unit)) without a preceding high surrogate", at: escapeOffset)
            default:
                appendUTF8(unit)
            }
            return
        default:
            throw JSONError(code: .invalidEscape,
                            reason: "invalid escape \\\(describeByte(at: index + 1, bare: true))",
                            offset: escapeOffset)
        }
        scratch.append(simple)
        index += 2
    }

    private func hexQuad(at position: Int, escapeOffset: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            guard position + k < count else { throw endError("unterminated \\u escape") }
            let byte = bytes[position + k]
            let digit: UInt8
            switch byte {
            case Byte.zero...Byte.nine: digit = byte - Byte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONError(code: .invalidEscape, reason: "\\u must be followed by four hex digits",
                                offset: escapeOffset)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        }
    }

    /// Validates the multi-byte UTF-8 sequence at `start` (RFC 3629 table) and returns the index after it.
    private func endOfUTF8Sequence(at start: Int) throws(JSONError) -> Int {
        let lead = bytes[start]
        let trailing: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        var secondProblem = ""
        switch lead {
        case 0xC2...0xDF:
            trailing = 1
        case 0xE0:
            trailing = 2; secondRange = 0xA0...0xBF; secondProblem = "overlong encoding"
        case 0xE1...0xEC, 0xEE...0xEF:
            trailing = 2
        case 0xED:
            trailing = 2; secondRange = 0x80...0x9F; secondProblem = "UTF-8-encoded surrogate"
        case 0xF0:
            trailing = 3; secondRange = 0x90...0xBF; secondProblem = "overlong encoding"
        case 0xF1...0xF3:
            trailing = 3
        case 0xF4:
            trailing = 3; secondRange = 0x80...0x8F; secondProblem = "code point above U+10FFFF"
        case 0x80...0xBF:
            throw utf8Error("unexpected continuation byte 0x\(hex2(lead))", at: start)
        case 0xC0, 0xC1:
            throw utf8Error("overlong encoding (lead byte 0x\(hex2(lead)))", at: start)
        default:
            throw utf8Error("byte 0x\(hex2(lead)) never appears in UTF-8", at: start)
        }
        for k in 1...trailing {
            let position = start + k
            guard position < count else { throw utf8Error("truncated UTF-8 sequence", at: start) }
            let byte = bytes[position]
            let allowed: ClosedRange<UInt8> = k == 1 ? secondRange : 0x80...0xBF
            if !allowed.contains(byte) {
                let isContinuation = (0x80...0xBF).contains(byte)
                throw utf8Error(isContinuation && k == 1 ? secondProblem : "incomplete UTF-8 sequence", at: start)
            }
        }
        return start + trailing + 1
    }

    // MARK: Numbers

    /// Parses a number starting at the index ('-' or a digit).
    private mutating func parseNumber() throws(JSONError) -> Double {
        let start = index
        let negative = bytes[index] == Byte.minus
        if negative { index += 1 }

        // Significant digits gathered for the exact fast path; only trusted while digitCount <= 15.
        var mantissa: UInt64 = 0
        var digitCount = 0
        var fractionDigits = 0

        guard index < count, isDigit(bytes[index]) else {
            throw numberError("expected a digit", at: index)
        }
        if bytes[index] == Byte.zero {
            index += 1
            digitCount = 1
            if index < count && isDigit(bytes[index]) {
                throw numberError("leading zeros are not allowed", at: index)
            }
        } else {
            while index < count, isDigit(bytes[index]) {
                if digitCount < 16 { mantissa = mantissa &* 10 &+ UInt64(bytes[index] - Byte.zero) }
                digitCount += 1
                index += 1
            }
        }
        if index < count && bytes[index] == Byte.dot {
            index += 1
            guard index < count, isDigit(bytes[index]) else {
                throw numberError("expected a digit after '.'", at: index)
            }
            while index < count, isDigit(bytes[index]) {
                if digitCount < 16 { mantissa = mantissa &* 10 &+ UInt64(bytes[index] - Byte.zero) }
                digitCount += 1
                fractionDigits += 1
                index += 1
            }
        }
        var exponent = 0
        if index < count && (bytes[index] == Byte.lowerE || bytes[index] == Byte.upperE) {
            index += 1
            var exponentNegative = false
            if index < count && (bytes[index] == Byte.plus || bytes[index] == Byte.minus) {
                exponentNegative = bytes[index] == Byte.minus
                index += 1
            }
            guard index < count, isDigit(bytes[index]) else {
                throw numberError("expected a digit in the exponent", at: index)
            }
            while index < count, isDigit(bytes[index]) {
                // Saturate: any exponent this large already over- or underflows.
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] - Byte.zero) }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        if index < count && isNumberContinuation(bytes[index]) {
            throw numberError("unexpected \(describeByte(at: index)) in number", at: index)
        }
        guard index - start <= maxNumberLexemeLength else {
            throw numberError("number is longer than \(maxNumberLexemeLength) characters", at: start)
        }

        // Exact fast path: mantissa < 10^15 < 2^53 and 10^|e| <= 10^22 are exact, so one
        // correctly rounded multiply or divide gives the correctly rounded result.
        let scale = exponent - fractionDigits
        if digitCount <= 15 && scale >= -22 && scale <= 22 {
            var value = Double(mantissa)
            if scale >= 0 {
                value *= exactPowersOfTen[scale]
            } else {
                value /= exactPowersOfTen[-scale]
            }
            return negative ? -value : value
        }

        // Stdlib conversion is correctly rounded for any length; the lexeme is already validated.
        let lexeme = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(lexeme) else {
            throw numberError("number could not be converted", at: start)
        }
        guard value.isFinite else {
            throw JSONError(code: .numberOutOfRange,
                            reason: "number is too large in magnitude for a double",
                            offset: start)
        }
        return value
    }

    /// Clears `canonical` unless the number just parsed from `start` is spelled as ECMAScript
    /// prints its value.
    private mutating func noteNumber(_ value: Double, from start: Int) {
        if isShortestPlainDecimal(from: start) { return }
        scratch.removeAll(keepingCapacity: true)
        CanonicalJSON.appendNumber(value, to: &scratch)
        if !scratch.elementsEqual(UnsafeBufferPointer(rebasing: bytes[start..<index])) { canonical = false }
    }

    /// Whether the number at `start..<index` is one ECMAScript prints digit for digit, known
    /// without printing it: at most 15 significant digits, no exponent, no trailing zero after
    /// a point, not -0, and not below 10^-6. Two different decimals of 15 or fewer significant
    /// digits never round to the same double (they lie more than an ulp apart), so such a
    /// spelling is the shortest one that round-trips, and in this range ECMAScript lays it out
    /// without an exponent.
    private func isShortestPlainDecimal(from start: Int) -> Bool {
        var i = start
        if bytes[i] == Byte.minus { i += 1 }
        var significant = 0
        var leadingZeros = 0  // after "0.", before the first significant digit
        let integerIsZero = bytes[i] == Byte.zero
        if integerIsZero {
            i += 1
        } else {
            while i < index, isDigit(bytes[i]) { significant += 1; i += 1 }
        }
        if i == index { return significant <= 15 && !(integerIsZero && bytes[start] == Byte.minus) }  // "-0" prints "0"
        guard bytes[i] == Byte.dot else { return false }
        i += 1
        let fractionStart = i
        while i < index, isDigit(bytes[i]) {
            if integerIsZero && significant == 0 && bytes[i] == Byte.zero { leadingZeros += 1 } else { significant += 1 }
            i += 1
        }
        guard i == index, i > fractionStart, bytes[i - 1] != Byte.zero else { return false }
        return significant <= 15 && leadingZeros <= 5
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= Byte.zero && byte <= Byte.nine
    }

    // Bytes that would make the token a malformed number rather than a number followed by something else.
    private func isNumberContinuation(_ byte: UInt8) -> Bool {
        switch byte {
        case Byte.zero...Byte.nine, Byte.dot, Byte.plus, Byte.minus,
             UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return false
        }
    }

    // MARK: Errors

    private func endError(_ reason: String) -> JSONError {
        JSONError(code: .unexpectedEnd, reason: "unexpected end of input: \(reason)", offset: count)
    }

    private func numberError(_ reason: String, at offset: Int) -> JSONError {
        JSONError(code: .invalidNumber, reason: "invalid number: \(reason)", offset: offset)
    }

    private func utf8Error(_ reason: String, at offset: Int) -> JSONError {
        JSONError(code: .invalidUTF8, reason: "invalid UTF-8: \(reason)", offset: offset)
    }

    private func surrogateError(_ reason: String, at offset: Int) -> JSONError {
        JSONError(code: .invalidSurrogate, reason: reason, offset: offset)
    }

    private func stringTooLong(at offset: Int) -> JSONError {
        JSONError(code: .stringTooLong,
                  reason: "string is longer than \(limits.maxStringBytes) bytes",
                  offset: offset)
    }

    private func controlCharacterError(_ byte: UInt8) -> JSONError {
        JSONError(code: .controlCharacter,
                  reason: "raw control character U+00\(hex2(byte).uppercased()) in string; it must be escaped",
                  offset: index)
    }

    /// The error for an unexpected byte at the index; a non-ASCII byte is first checked as UTF-8.
    private func unexpectedError(expected: String) throws(JSONError) -> JSONError {
        let byte = bytes[index]
        if byte >= 0x80 {
            _ = try endOfUTF8Sequence(at: index)
            if index == 0 && count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
                return JSONError(code: .unexpectedCharacter,
                                 reason: "a byte order mark is not allowed", offset: 0)
            }
        }
        return JSONError(code: .unexpectedCharacter,
                         reason: "unexpected \(describeByte(at: index)); expected \(expected)",
                         offset: index)
    }

    private func describeByte(at position: Int, bare: Bool = false) -> String {
        guard position < count else { return "end of input" }
        let byte = bytes[position]
        if byte > 0x20 && byte < 0x7F {
            let character = String(decoding: CollectionOfOne(byte), as: UTF8.self)
            return bare ? character : "'\(character)'"
        }
        return bare ? "(byte 0x\(hex2(byte)))" : "byte 0x\(hex2(byte))"
    }
}

private func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
}

private func hex4(_ unit: UInt32) -> String {
    hex2(UInt8(truncatingIfNeeded: unit >> 8)) + hex2(UInt8(truncatingIfNeeded: unit))
}

// Quotes a key for an error message, shortened so hostile keys can't bloat errors.
private func quoted(_ key: String) -> String {
    let shown = key.unicodeScalars.count > 64 ? String(key.unicodeScalars.prefix(64)) + "…" : key
    return CanonicalJSON.encodeString(.string(shown))
}
