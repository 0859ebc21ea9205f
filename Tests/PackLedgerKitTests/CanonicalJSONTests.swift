import Testing
@testable import PackLedgerKit

// MARK: - Helpers

private func canonical(_ text: String) throws -> String {
    CanonicalJSON.encodeString(try JSONParser.parse(text))
}

/// The error thrown for `bytes`, or nil when they parse.
private func parseError(_ bytes: [UInt8], limits: JSONParser.Limits = .default) -> JSONError? {
    do {
        _ = try JSONParser.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String, limits: JSONParser.Limits = .default) -> JSONError? {
    parseError(Array(text.utf8), limits: limits)
}

// MARK: - RFC 8785 vectors

@Test func rfc8785Sample() throws {
    let input = #"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#
    let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
    let output = CanonicalJSON.encode(try JSONParser.parse(input))
    #expect(output == Array(expected.utf8))
}

@Test(arguments: [
    (0x0000_0000_0000_0000, "0"),
    (0x8000_0000_0000_0000, "0"),
    (0x0000_0000_0000_0001, "5e-324"),
    (0x8000_0000_0000_0001, "-5e-324"),
    (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
    (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
    (0x4340_0000_0000_0000, "9007199254740992"),
    (0xc340_0000_0000_0000, "-9007199254740992"),
    (0x4430_0000_0000_0000, "295147905179352830000"),
    (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
    (0x44b5_2d02_c7e1_4af6, "1e+23"),
    (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
    (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
    (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
    (0x444b_1ae4_d6e2_ef50, "1e+21"),
    (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
    (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
    (0x41b3_de43_5555_5553, "333333333.3333332"),
    (0x41b3_de43_5555_5554, "333333333.33333325"),
    (0x41b3_de43_5555_5555, "333333333.3333333"),
    (0x41b3_de43_5555_5556, "333333333.3333334"),
    (0x41b3_de43_5555_5557, "333333333.33333343"),
    (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
    (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
] as [(UInt64, String)])
func appendixBNumbers(bits: UInt64, expected: String) throws {
    let value = Double(bitPattern: bits)
    #expect(CanonicalJSON.formatNumber(value) == expected)
    // The canonical text must also parse back to the same double (-0 becomes 0).
    let reparsed = try JSONParser.parse(expected).doubleValue
    #expect(reparsed == value)
}

@Test(arguments: [
    (412.5, "412.5"), (100, "100"), (0.1, "0.1"), (1e21, "1e+21"), (1e-7, "1e-7"),
    (123e-20, "1.23e-18"), (-1.5, "-1.5"), (1e20, "100000000000000000000"),
    (1.2345678901234568e20, "123456789012345680000"), (0.000001, "0.000001"),
    (1.5e-6, "0.0000015"), (-0.0, "0"), (4.5, "4.5"), (2e-3, "0.002"), (1e30, "1e+30"),
    (1.25e25, "1.25e+25"), (5e-7, "5e-7"), (0x1p53 + 2, "9007199254740994"),
] as [(Double, String)])
func simpleNumbers(value: Double, expected: String) {
    #expect(CanonicalJSON.formatNumber(value) == expected)
}

@Test func nonFiniteNumbersUseECMAScriptSpellings() {
    // Documented programming error: not JSON, and the parser rejects the result.
    #expect(CanonicalJSON.formatNumber(.nan) == "NaN")
    #expect(CanonicalJSON.formatNumber(.infinity) == "Infinity")
    #expect(CanonicalJSON.formatNumber(-.infinity) == "-Infinity")
    #expect(parseError(CanonicalJSON.encodeString([.number(.nan)])) != nil)
}

@Test func keysSortByUTF16CodeUnits() throws {
    let input = #"""
    {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }
    """#
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
        + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
        + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    #expect(try canonical(input) == expected)
}

@Test func utf16OrderingCornerCases() {
    // Supplementary characters sort between U+D7FF and U+E000 in UTF-16.
    #expect(CanonicalJSON.utf16Precedes("\u{D7FF}", "\u{10000}"))
    #expect(CanonicalJSON.utf16Precedes("\u{10FFFF}", "\u{E000}"))
    #expect(CanonicalJSON.utf16Precedes("\u{1F600}", "\u{FFFF}"))
    #expect(!CanonicalJSON.utf16Precedes("\u{FFFF}", "\u{1F600}"))
    #expect(CanonicalJSON.utf16Precedes("a", "ab"))
    #expect(!CanonicalJSON.utf16Precedes("ab", "ab"))
    #expect(CanonicalJSON.utf16Precedes("a\u{1F600}", "a\u{E000}"))
    let keys = ["\u{FB33}", "\u{1F600}", "z", "\u{E9}", "\u{10000}", "\u{D7FF}", "A"]
    let sorted = keys.sorted(by: CanonicalJSON.utf16Precedes)
    let reference = keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
    #expect(sorted == reference)
}

// MARK: - Round trips

@Test func roundTrip() throws {
    let values: [JSONValue] = [
        .null, true, false, 0, -1.5, 1e300, .number(.leastNonzeroMagnitude), "", "plain", "quote \" backslash \\ nul \u{0} emoji 😀",
        [], [:], [1, "two", [3, [4, [:]]], .null],
        ["pack_id": "PK-1", "cells": [["id": "C1", "mass_kg": 0.0485], ["id": "C2", "mass_kg": 0.049]],
         "meta": ["nested": ["deeper": [true, false, .null]]], "ünïcödé": "€", "\u{1F600}": 1],
    ]
    for value in values {
        let encoded = CanonicalJSON.encode(value)
        let reparsed = try JSONParser.parse(encoded)
        #expect(reparsed == value)
        #expect(CanonicalJSON.encode(reparsed) == encoded, "encode is idempotent on canonical input")
    }
}

@Test func canonicalizationIsIndependentOfInputFormatting() throws {
    let a = try canonical(#" { "b" : [ 1.0 , 2E0 , -0 ] , "a" : { "y" : "\u0041" , "x" : null } } "#)
    let b = try canonical(#"{"a":{"x":null,"y":"A"},"b":[1,2,0]}"#)
    #expect(a == b)
    #expect(a == #"{"a":{"x":null,"y":"A"},"b":[1,2,0]}"#)
}

@Test func literalsAndAccessors() throws {
    let value: JSONValue = ["s": "x", "n": 2.5, "i": 3, "b": true, "a": [1], "o": ["k": .null], "dup": 1, "dup": 2]
    #expect(value["s"]?.stringValue == "x")
    #expect(value["n"]?.doubleValue == 2.5)
    #expect(value["i"]?.doubleValue == 3)
    #expect(value["b"]?.boolValue == true)
    #expect(value["a"]?.arrayValue == [1])
    #expect(value["o"]?["k"]?.isNull == true)
    #expect(value["o"]?.objectValue == ["k": .null])
    #expect(value["dup"] == 2, "duplicate literal keys: last wins")
    #expect(value["missing"] == nil)
    #expect(JSONValue.string("x")["s"] == nil)
    #expect(JSONValue.number(1).stringValue == nil)
    #expect(!JSONValue.bool(false).isNull)
}

@Test func parsesScalarsAtTopLevel() throws {
    #expect(try JSONParser.parse(" null ") == .null)
    #expect(try JSONParser.parse("\t\r\ntrue\n") == true)
    #expect(try JSONParser.parse("false") == false)
    #expect(try JSONParser.parse("-0").doubleValue?.sign == .minus)
    #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
    #expect(try JSONParser.parse(#""\u00E9\u00e9\/\b\f\n\r\t""#) == .string("éé/\u{8}\u{C}\n\r\t"))
    #expect(try JSONParser.parse(#""\uD83D\uDE00""#) == .string("😀"))
    #expect(try JSONParser.parse(Array("\"€😀\"".utf8)) == .string("€😀"))
}

@Test func numbersConvertWithCorrectRounding() throws {
    let cases: [(String, Double)] = [
        ("0.1", 0.1), ("1e-400", 0), ("-1e-400", -0.0), ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)),
        ("9007199254740993", 9007199254740992), ("1.7976931348623157e308", .greatestFiniteMagnitude),
        ("4.9e-324", .leastNonzeroMagnitude), ("123456789012345678901234567890", 1.2345678901234568e29),
        ("0.30000000000000004", 0.30000000000000004), ("1E+2", 100), ("1e-2", 0.01),
        ("0e99999999999999999999", 0), ("12.5e-1", 1.25),
    ]
    for (text, expected) in cases {
        let value = try JSONParser.parse(text).doubleValue
        #expect(value == expected, "\(text)")
        #expect(value?.sign == expected.sign, "\(text)")
    }
    let longest = "0." + String(repeating: "1", count: 998)
    #expect(try JSONParser.parse(longest).doubleValue == 0.1111111111111111)
    #expect(parseError(longest + "1")?.code == .invalidNumber)
}

// MARK: - Rejections

@Test func rejectsDuplicateKeys() {
    let flat = parseError(#"{"mass_kg":1,"mass_kg":2}"#)
    #expect(flat?.code == .duplicateKey)
    #expect(flat?.offset == 13)
    #expect(flat?.description == #"invalid JSON at byte 13: duplicate key "mass_kg""#)
    let nested = parseError(#"{"a":[{"x":1,"y":2,"x":3}]}"#)
    #expect(nested?.code == .duplicateKey)
    #expect(nested?.offset == 19)
    // Escapes are compared after unescaping.
    #expect(parseError(#"{"a":1,"\u0061":2}"#)?.code == .duplicateKey)
    // Same keys in different objects are fine.
    #expect(parseError(#"{"a":{"a":1},"b":{"a":2}}"#) == nil)
}

@Test func canonicallyEquivalentKeysAreDuplicates() {
    // Swift String equality is canonical equivalence, so [String: JSONValue] cannot hold both.
    let error = parseError("{\"\u{E9}\":1,\"e\u{301}\":2}")
    #expect(error?.code == .duplicateKey)
    #expect(error?.reason.contains("canonically equivalent") == true)
}

@Test func rejectsTrailingData() {
    #expect(parseError("{} x") == JSONError(code: .trailingData, reason: "unexpected 'x' after the top-level value", offset: 3))
    #expect(parseError("{}{}")?.code == .trailingData)
    #expect(parseError("{}{}")?.offset == 2)
    #expect(parseError("1 2")?.code == .trailingData)
    #expect(parseError("{}\u{0}")?.code == .trailingData)
}

@Test func rejectsByteOrderMark() {
    let error = parseError([0xEF, 0xBB, 0xBF] + Array("{}".utf8))
    #expect(error?.code == .unexpectedCharacter)
    #expect(error?.offset == 0)
    #expect(parseError("\u{FEFF}{}")?.code == .unexpectedCharacter)
}

@Test(arguments: [
    ([0xC0, 0xAF], "overlong"),
    ([0xE0, 0x80, 0xAF], "overlong 3-byte"),
    ([0xF0, 0x80, 0x80, 0xAF], "overlong 4-byte"),
    ([0xED, 0xA0, 0x80], "encoded surrogate"),
    ([0xF5, 0x80, 0x80, 0x80], "lead byte above U+10FFFF"),
    ([0xF4, 0x90, 0x80, 0x80], "U+110000"),
    ([0xFF], "0xFF"),
    ([0x80], "lone continuation"),
    ([0xC3, 0x28], "bad continuation"),
] as [([UInt8], String)])
func rejectsInvalidUTF8InStrings(sequence: [UInt8], label: String) {
    let error = parseError([0x22] + sequence + [0x22])
    #expect(error?.code == .invalidUTF8, "\(label)")
    #expect(error?.offset == 1, "\(label)")
}

@Test func rejectsInvalidUTF8Elsewhere() {
    #expect(parseError([0x22, 0xE2, 0x82]) == JSONError(code: .invalidUTF8, reason: "invalid UTF-8: truncated UTF-8 sequence", offset: 1))
    #expect(parseError([0xE2, 0x82])?.code == .invalidUTF8)
    #expect(parseError([0x80]) == JSONError(code: .invalidUTF8, reason: "invalid UTF-8: unexpected continuation byte 0x80", offset: 0))
    #expect(parseError([0x5B, 0xC0, 0xAF, 0x5D])?.offset == 1)
    // Valid but misplaced non-ASCII is just an unexpected character.
    #expect(parseError("[é]")?.code == .unexpectedCharacter)
    // Valid multi-byte text inside strings is accepted, including U+10FFFF.
    #expect(parseError([0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]) == nil)
    #expect(parseError([0x22, 0xEF, 0xBF, 0xBF, 0x22]) == nil)
}

@Test func rejectsBadSurrogatesAndEscapes() {
    #expect(parseError(#""\ud800""#) == JSONError(code: .invalidSurrogate, reason: #"high surrogate \ud800 is not followed by a low surrogate"#, offset: 1))
    #expect(parseError(#""\ud800x""#)?.code == .invalidSurrogate)
    #expect(parseError(#""\udc00\ud800""#)?.code == .invalidSurrogate)
    #expect(parseError(#""\ud800\u0041""#)?.code == .invalidSurrogate)
    #expect(parseError(#""\ud800\ud800""#)?.code == .invalidSurrogate)
    #expect(parseError(#""a\x""#) == JSONError(code: .invalidEscape, reason: #"invalid escape \x"#, offset: 2))
    #expect(parseError(#""\u12G4""#)?.code == .invalidEscape)
    #expect(parseError(#""\U0041""#)?.code == .invalidEscape)
    #expect(parseError(#""\'""#)?.code == .invalidEscape)
    #expect(parseError(#""\u00"#)?.code == .unexpectedEnd)
}

@Test func rejectsRawControlCharacters() {
    let nul = parseError([0x22, 0x61, 0x00, 0x22])
    #expect(nul?.code == .controlCharacter)
    #expect(nul?.offset == 2)
    #expect(parseError("\"a\tb\"")?.code == .controlCharacter)
    #expect(parseError("\"line\nbreak\"")?.code == .controlCharacter)
    #expect(parseError("\"after escape \\n then \u{1F}\"")?.code == .controlCharacter)
    // DEL is not a control character for JSON.
    #expect(parseError("\"\u{7F}\"") == nil)
}

@Test(arguments: [
    ("01", 1), ("-01", 2), ("-", 1), ("1.", 2), (".5", 0), ("+1", 0), ("1e", 2), ("1e+", 3),
    ("NaN", 0), ("Infinity", 0), ("-Infinity", 1), ("0x1F", 1), ("1.5.3", 3), ("[1.]", 3), ("[01]", 2),
    ("1.e5", 2), ("-.5", 1), ("2a", 1),
] as [(String, Int)])
func rejectsMalformedNumbers(text: String, offset: Int) {
    let error = parseError(text)
    #expect(error?.code == .invalidNumber, "\(text)")
    #expect(error?.offset == offset, "\(text)")
}

@Test func rejectsOutOfRangeNumbers() {
    #expect(parseError("1e400") == JSONError(code: .numberOutOfRange, reason: "number is too large in magnitude for a double", offset: 0))
    #expect(parseError("[-1e400]")?.code == .numberOutOfRange)
    #expect(parseError("[-1e400]")?.offset == 1)
    #expect(parseError("1.7976931348623159e308")?.code == .numberOutOfRange)
    #expect(parseError("1" + String(repeating: "0", count: 400))?.code == .numberOutOfRange)
}

@Test func rejectsStructuralErrors() {
    #expect(parseError(#""abc"#) == JSONError(code: .unexpectedEnd, reason: "unexpected end of input: unterminated string", offset: 4))
    #expect(parseError(#""ab\"#)?.code == .unexpectedEnd)
    #expect(parseError(#"{"a":1"#)?.code == .unexpectedEnd)
    #expect(parseError(#"{"a":"#)?.code == .unexpectedEnd)
    #expect(parseError("{")?.code == .unexpectedEnd)
    #expect(parseError("[1,2")?.code == .unexpectedEnd)
    #expect(parseError("[")?.code == .unexpectedEnd)
    #expect(parseError("tru")?.code == .unexpectedEnd)
    #expect(parseError(#"{"a" 1}"#) == JSONError(code: .unexpectedCharacter, reason: "unexpected '1'; expected ':' after object key", offset: 5))
    #expect(parseError(#"{"a":1,}"#) == JSONError(code: .unexpectedCharacter, reason: "unexpected '}'; expected a string key", offset: 7))
    #expect(parseError("[1,]")?.code == .unexpectedCharacter)
    #expect(parseError("[1,]")?.offset == 3)
    #expect(parseError("[1 2]")?.code == .unexpectedCharacter)
    #expect(parseError(#"{"a":1 "b":2}"#)?.code == .unexpectedCharacter)
    #expect(parseError("{1:2}")?.code == .unexpectedCharacter)
    #expect(parseError("[,1]")?.code == .unexpectedCharacter)
    #expect(parseError("]")?.code == .unexpectedCharacter)
    #expect(parseError("nul1")?.code == .unexpectedCharacter)
    #expect(parseError("True")?.code == .unexpectedCharacter)
    #expect(parseError("['a']")?.code == .unexpectedCharacter)
    #expect(parseError("{'a':1}")?.code == .unexpectedCharacter)
    #expect(parseError("[1] // comment")?.code == .trailingData)
    #expect(parseError("/* comment */ [1]")?.code == .unexpectedCharacter)
    #expect(parseError("[1, /* c */ 2]")?.code == .unexpectedCharacter)
    #expect(parseError("\u{A0}1")?.code == .unexpectedCharacter, "only JSON whitespace is skipped")
    #expect(parseError("\u{C}1")?.code == .unexpectedCharacter, "form feed is not JSON whitespace")
}

@Test func rejectsEmptyInput() {
    #expect(parseError([UInt8]()) == JSONError(code: .unexpectedEnd, reason: "unexpected end of input: expected a value", offset: 0))
    #expect(parseError(" \n\t ")?.code == .unexpectedEnd)
    #expect(parseError(" \n\t ")?.offset == 4)
}

@Test func enforcesDepthLimit() {
    let depth32 = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
    #expect(parseError(depth32) == nil)
    let depth33 = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
    #expect(parseError(depth33) == JSONError(code: .tooDeep, reason: "arrays and objects nested deeper than 32", offset: 32))
    let objects33 = String(repeating: #"{"k":"#, count: 33) + "0" + String(repeating: "}", count: 33)
    #expect(parseError(objects33)?.code == .tooDeep)
    let objects32 = String(repeating: #"{"k":"#, count: 32) + "0" + String(repeating: "}", count: 32)
    #expect(parseError(objects32) == nil)
    #expect(parseError("[[1]]", limits: .init(maxDepth: 1))?.code == .tooDeep)
    #expect(parseError("1", limits: .init(maxDepth: 0)) == nil)
}

/// Containers nested past the parser's inline frames (eight) and back out come back intact:
/// each level's kind and items, with siblings before and after the deep part.
@Test func deepMixedNestingRoundTrips() throws {
    for depth in [7, 8, 9, 12, 20, 32] {
        var value: JSONValue = "leaf"
        for level in 0..<depth {
            value = level % 2 == 0 ? .array([.number(Double(level)), value, .bool(true)])
                                   : .object(["a\(level)": .number(Double(level)), "m": value, "z": .null])
        }
        let bytes = CanonicalJSON.encode(value)
        #expect(try JSONParser.parse(bytes) == value, "depth \(depth)")
        let noted = try JSONParser.parseNotingCanonical(bytes, members: true)
        #expect(noted.isCanonical && noted.value == value, "depth \(depth)")
    }
}

@Test(.timeLimit(.minutes(1)))
func hostileNestingFailsFastWithoutRecursion() {
    let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
    let error = parseError(hostile)
    #expect(error?.code == .tooDeep)
    #expect(error?.offset == 32)
    // Even with the depth limit lifted, the parser's own stack is explicit, so this cannot crash.
    let lifted = parseError(hostile, limits: .init(maxDepth: .max))
    #expect(lifted?.code == .unexpectedEnd)
    let mixed = Array(String(repeating: #"{"a":["#, count: 50_000).utf8)
    #expect(parseError(mixed, limits: .init(maxDepth: .max))?.code == .unexpectedEnd)
}

@Test func enforcesSizeLimits() {
    let small = JSONParser.Limits(maxStringBytes: 4)
    #expect(parseError(#""abcd""#, limits: small) == nil)
    #expect(parseError(#""abcde""#, limits: small) == JSONError(code: .stringTooLong, reason: "string is longer than 4 bytes", offset: 0))
    #expect(parseError(#"["\u0041bcde"]"#, limits: small)?.code == .stringTooLong)
    #expect(parseError(#"["\u0041bcd"]"#, limits: small) == nil, "the limit applies after unescaping")
    #expect(parseError(#"{"abcde":1}"#, limits: small)?.code == .stringTooLong)
    #expect(parseError(#""€€""#, limits: small)?.code == .stringTooLong, "the limit counts UTF-8 bytes")

    let tiny = JSONParser.Limits(maxInputBytes: 8)
    #expect(parseError("[1,2,3] ", limits: tiny) == nil)
    #expect(parseError("[1,2,3]  ", limits: tiny) == JSONError(code: .inputTooLarge, reason: "input is 9 bytes; the limit is 8", offset: 8))
    #expect(JSONParser.Limits.default == JSONParser.Limits(maxDepth: 32, maxStringBytes: 65_536, maxInputBytes: 1_048_576))
}

@Test func stringAndRawBufferEntryPointsAgree() throws {
    let text = #"{"b":[1,"x"],"a":null}"#
    let bytes = Array(text.utf8)
    let fromBuffer = try bytes.withUnsafeBytes { raw in try JSONParser.parse(raw) }
    #expect(try JSONParser.parse(text) == JSONParser.parse(bytes))
    #expect(fromBuffer == (try JSONParser.parse(text)))
    let substringBacked = String(text.dropFirst(0))
    #expect(try JSONParser.parse(substringBacked) == JSONParser.parse(bytes))
}

@Test func neverTrapsOnTruncationsOfValidInput() {
    // Every prefix of a document is either valid or rejected; none may crash.
    let document = Array(#"{"a":[1,-2.5e-3,true,false,null,"\u00e9\ud83d\ude00\n"],"b":{"c":"€"}}"#.utf8)
    for length in 0..<document.count {
        _ = parseError(Array(document[0..<length]))
    }
    // And every single-byte corruption of it.
    for position in document.indices {
        for replacement: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x5D, 0x80, 0xFF, UInt8(ascii: "u")] {
            var corrupted = document
            corrupted[position] = replacement
            _ = parseError(corrupted)
        }
    }
}

// MARK: - Escaping

@Test func escapesEveryControlCharacter() {
    let short: [UInt8: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
    let hex = Array("0123456789abcdef")
    for code in UInt8(0)..<0x20 {
        let text = String(UnicodeScalar(code))
        let expected = short[code] ?? "\\u00\(hex[Int(code >> 4)])\(hex[Int(code & 0xF)])"
        #expect(CanonicalJSON.encodeString(.string(text)) == "\"\(expected)\"", "U+00\(code)")
    }
    #expect(CanonicalJSON.encodeString("\u{1F}") == #""\u001f""#)
    #expect(CanonicalJSON.encodeString("\u{0B}") == #""\u000b""#)
}

@Test func leavesOtherCharactersRaw() {
    #expect(CanonicalJSON.encode("\u{7F}") == [0x22, 0x7F, 0x22])
    #expect(CanonicalJSON.encode("\u{2028}\u{2029}") == [0x22, 0xE2, 0x80, 0xA8, 0xE2, 0x80, 0xA9, 0x22])
    #expect(CanonicalJSON.encodeString("a/b") == #""a/b""#)
    #expect(CanonicalJSON.encodeString(#"q"b\"#) == #""q\"b\\""#)
    #expect(CanonicalJSON.encodeString("😀é") == "\"😀é\"")
    #expect(CanonicalJSON.encodeString(["k\n": "v"]) == #"{"k\n":"v"}"#)
}

/// The parser's canonical note, value by value: it must say exactly what re-encoding says.
@Test func canonicalNoteMatchesReencodingForEachSpelling() throws {
    let numbers = ["0", "-0", "7", "-7", "100", "1e2", "1E+2", "1.0", "1.50", "0.5", "-0.5", "5e-1", "0.10", "0.000001", "0.0000001",
                   "0.0000012", "1e-7", "1e21", "1e+21", "100000000000000000000", "1000000000000000000000", "123456789012345",
                   "1234567890123456", "9007199254740993", "123456789012.345", "1234567890123.456", "0.123456789012345",
                   "0.1234567890123456", "452.5", "12.1", "0.30000000000000004", "-0.0", "2.5e-3", "0.0025"]
    let strings = [#""a""#, #""\u0041""#, #""\u001f""#, #""\u001F""#, #""\u000a""#, #""\n""#, #""\/""#, #""/""#, #""\"""#, #""\\""#,
                   #""\ud83d\ude00""#, "\"😀\"", #""\u007f""#, "\"\u{7f}\"", #""\b\f\r\t""#, #""\u0008""#]
    let containers = [#"{"a":1,"b":2}"#, #"{"b":1,"a":2}"#, #"{ "a":1}"#, #"[1, 2]"#, #"[]"#, #"{}"#, #"{"é":1,"z":2}"#, #"{"z":1,"é":2}"#,
                      #"{"\ud83d\ude00":1,"\uffff":2}"#, "{\"\u{FFFF}\":1,\"😀\":2}", " 1", "1 ", "true", "null"]
    var agreed = (canonical: 0, not: 0)
    for spelling in numbers + strings + containers {
        for text in [spelling, "[\(spelling)]", "{\"k\":\(spelling)}"] {
            let bytes = Array(text.utf8)
            let noted = try JSONParser.parseNotingCanonical(bytes)
            let reencoded = CanonicalJSON.encode(noted.value) == bytes
            #expect(noted.isCanonical == reencoded, "\(text)")
            if reencoded { agreed.canonical += 1 } else { agreed.not += 1 }
        }
    }
    #expect(try JSONParser.parseNotingCanonical(Array("0.000001".utf8)).isCanonical)
    #expect(try !JSONParser.parseNotingCanonical(Array("0.0000001".utf8)).isCanonical)
    #expect(try !JSONParser.parseNotingCanonical(Array(#""\/""#.utf8)).isCanonical)
    #expect(agreed.canonical > 20 && agreed.not > 20)
}

/// A top-level object kept as a member list (events on the import and verify paths) must be
/// exactly the object `parse` builds, reject the same repeated keys (including keys equal
/// only under Unicode canonical equivalence, which sorted-order alone cannot catch), and note
/// canonical order the same way.
@Test func topLevelMembersMatchTheParsedObject() throws {
    for text in [#"{"a":1,"b":{"c":[2]},"z":"y"}"#, #"{"b":1,"a":2}"#, #"{ "a" : 1 }"#, #"{"é":1,"z":2}"#, #"{"z":1,"é":2}"#, "{}",
                 #"{"d":{"m":{"x":1},"n":[{"y":2}]},"e":{},"f":[{"g":1}]}"#, #"{"d":{"z":1, "a":2}}"#,
                 #"{"a":1,"ab":2}"#, #"{"ab":1,"a":2}"#, #"{"":1,"a":2}"#, #"{"a":1,"":2}"#, #"{"d":{"ab":1,"a":2}}"#, #"{"d":{"a":1,"ab":2}}"#,
                 #"{"\u0061":1,"b":2}"#, #"{"a\"":1,"b":2}"#] {
        let bytes = Array(text.utf8)
        let noted = try JSONParser.parseNotingCanonical(bytes, members: true)
        let members = try #require(noted.members, "\(text)")
        #expect(noted.value == (try JSONParser.parse(bytes)), "\(text)")
        #expect(noted.isCanonical == (CanonicalJSON.encode(noted.value) == bytes), "\(text)")
        #expect(members.map(\.key).count == members.count)
        for m in members {
            #expect(bytes[m.range].first == UInt8(ascii: "\""))
            // Objects directly inside are lists too, with ranges into the same bytes.
            if let inner = m.objectMembers {
                #expect(m.value == (try JSONParser.parse([UInt8(ascii: "{")] + bytes[m.range] + [UInt8(ascii: "}")]))[m.key])
                for n in inner { #expect(bytes[n.range].first == UInt8(ascii: "\"")) }
            }
        }
        if text.hasPrefix(#"{"d":{"m""#) { #expect(members.first?.objectMembers?.map(\.key) == ["m", "n"]) }
    }
    for text in [#"{"a":1,"a":2}"#, #"{"b":1,"a":2,"b":3}"#, "{\"é\":1,\"e\u{301}\":2}", "{\"e\u{301}\":1,\"é\":2}",
                 #"{"d":{"a":1,"a":2}}"#, "{\"d\":{\"é\":1,\"e\u{301}\":2}}", #"{"a":1,"\u0061":2}"#, #"{"d":{"a":1,"\u0061":2}}"#] {
        let error = #expect(throws: JSONError.self, "\(text)") { try JSONParser.parseNotingCanonical(Array(text.utf8), members: true) }
        #expect(error?.code == .duplicateKey, "\(text)")
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }
    // Not an object: no member list, the value as usual.
    let array = try JSONParser.parseNotingCanonical(Array("[1]".utf8), members: true)
    #expect(array.members == nil && array.value == .array([.number(1)]))
}

/// Pretty output: two-space indentation, canonical key order (UTF-16, so a supplementary
/// character sorts before U+E000), canonical strings and numbers, empty containers inline.
@Test func prettyRenderingKnownAnswer() {
    let value: JSONValue = .object([
        "b": .array([.number(1.5), .string("x\"\n")]), "a": .object([:]), "c": .array([]), "é": .null,
        "\u{E000}": .bool(true), "😀": .bool(false), "n": .object(["z": .number(1e21), "y": .object(["k": .number(-0.0)])]),
    ])
    let expected = """
    {
      "a": {},
      "b": [
        1.5,
        "x\\"\\n"
      ],
      "c": [],
      "n": {
        "y": {
          "k": 0
        },
        "z": 1e+21
      },
      "é": null,
      "😀": false,
      "\u{E000}": true
    }

    """
    #expect(JSONPretty.render(value) == expected)
    #expect(JSONPretty.render(.array([])) == "[]\n")
    #expect(JSONPretty.render(.string("s")) == "\"s\"\n")
}
