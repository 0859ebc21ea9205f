/// Where a problem was found: any combination of file, line, field and entry sequence number.
public struct ErrorLocation: Sendable, Equatable, CustomStringConvertible {
    /// A file path, when the problem is in a file the user gave.
    public var file: String?
    /// A 1-based line number in that file.
    public var line: Int?
    /// A dotted field path such as `data.mass_kg`.
    public var field: String?
    /// The ledger entry sequence number.
    public var entry: UInt64?

    /// Creates a location; every part is optional.
    public init(file: String? = nil, line: Int? = nil, field: String? = nil, entry: UInt64? = nil) {
        self.file = file
        self.line = line
        self.field = field
        self.entry = entry
    }

    /// `file:line`, `entry N`, `field F` joined with commas.
    public var description: String {
        var parts: [String] = []
        if let file {
            parts.append(line.map { "\(file):\($0)" } ?? file)
        } else if let line {
            parts.append("line \(line)")
        }
        if let entry { parts.append("entry \(entry)") }
        if let field { parts.append("field \(field)") }
        return parts.joined(separator: ", ")
    }
}

/// The one error type the ledger throws: a stable code, a sentence, and where.
///
/// Modelled on swift-certificates' errors: callers switch on `code`; people read `description`.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, as printed in JSON error output.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// Input could not be parsed or is not of the required shape.
        public static let malformed = Code("malformed")
        /// A value is outside its allowed range or set.
        public static let outOfRange = Code("out-of-range")
        /// The actor or party is not registered.
        public static let unknownParty = Code("unknown-party")
        /// The actor does not hold a role that may record this kind.
        public static let missingRole = Code("missing-role")
        /// The signing key is unknown, revoked or not valid at the event time.
        public static let invalidKey = Code("invalid-key")
        /// The signature does not verify.
        public static let badSignature = Code("bad-signature")
        /// The lifecycle does not allow this event from the pack's status.
        public static let forbiddenTransition = Code("forbidden-transition")
        /// The event time is before the previous event or too far in the future.
        public static let badTime = Code("bad-time")
        /// An event id was reused with different content.
        public static let conflict = Code("conflict")
        /// Something the command names does not exist.
        public static let notFound = Code("not-found")
        /// The ledger file is damaged, tampered with or inconsistent.
        public static let integrity = Code("integrity")
        /// SQLite or the file system failed.
        public static let storage = Code("storage")
        /// OpenSSL failed or a key file is unusable.
        public static let crypto = Code("crypto")
        /// The command line itself is wrong (exit status 64); never used for rejected input.
        public static let usage = Code("usage")
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence saying what went wrong.
    public var reason: String
    /// Where it went wrong.
    public var location: ErrorLocation

    /// Creates an error.
    public init(_ code: Code, _ reason: String, at location: ErrorLocation = ErrorLocation()) {
        self.code = code
        self.reason = reason
        self.location = location
    }

    /// `location: reason`, or just the reason when there is no location.
    public var description: String {
        let place = location.description
        return place.isEmpty ? reason : "\(place): \(reason)"
    }

    /// The same error with more location detail filled in where it was missing.
    public func located(file: String? = nil, line: Int? = nil, field: String? = nil, entry: UInt64? = nil) -> LedgerError {
        var copy = self
        if copy.location.file == nil { copy.location.file = file }
        if copy.location.line == nil { copy.location.line = line }
        if copy.location.field == nil { copy.location.field = field }
        if copy.location.entry == nil { copy.location.entry = entry }
        return copy
    }
}
