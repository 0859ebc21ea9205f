import Foundation

/// Reads a file or standard input in fixed-size chunks, so memory stays bounded whatever the
/// file's size, and hands out lines or CSV records with the line number each starts on.
public final class ByteSource {
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: [UInt8] = []
    private var position = 0
    private var eof = false
    /// Bytes consumed so far (for progress).
    public private(set) var bytesRead: Int = 0
    /// The file's size when it is a regular file, for progress estimates.
    public let totalBytes: Int?
    /// The name used in error messages.
    public let name: String
    /// Longest line or record accepted.
    public static let maxRecordBytes = 1 << 20

    /// Opens `path`, or standard input for `-`.
    public init(path: String) throws(LedgerError) {
        if path == "-" {
            fd = 0
            ownsFD = false
            name = "<stdin>"
            totalBytes = nil
        } else {
            let opened = open(path, O_RDONLY)
            guard opened >= 0 else {
                throw LedgerError(.notFound, "cannot open \(path): \(String(cString: strerror(errno)))", at: ErrorLocation(file: path))
            }
            fd = opened
            ownsFD = true
            name = path
            var st = stat()
            totalBytes = fstat(opened, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        }
    }

    deinit { if ownsFD { close(fd) } }

    /// Ensures at least one unread byte is buffered; false at end of input.
    private func fill() throws(LedgerError) -> Bool {
        if position < buffer.count { return true }
        if eof { return false }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw LedgerError(.storage, "cannot read \(name): \(String(cString: strerror(errno)))", at: ErrorLocation(file: name)) }
        if n == 0 { eof = true; return false }
        buffer = Array(chunk[0..<n])
        position = 0
        return true
    }

    /// The next byte, or nil at the end.
    @inline(__always) func next() throws(LedgerError) -> UInt8? {
        guard try fill() else { return nil }
        let b = buffer[position]
        position += 1
        bytesRead += 1
        return b
    }

    /// The next byte without consuming it.
    func peek() throws(LedgerError) -> UInt8? {
        guard try fill() else { return nil }
        return buffer[position]
    }

    /// Where the next `\n` from `start` is in the buffer, if there is one (`memchr`: lines are
    /// read on one thread while the others wait to parse them).
    private func newline(from start: Int) -> Int? {
        buffer.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, start < bytes.count,
                  let found = memchr(base + start, 0x0a, bytes.count - start) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }

    /// The next line without its `\n` (and a `\r` before it), or nil at the end.
    func line(number: Int) throws(LedgerError) -> [UInt8]? {
        guard try fill() else { return nil }
        var out: [UInt8] = []
        while try fill() {
            if let nl = newline(from: position) {
                // The whole line is buffered (the usual case): copied once, at its exact size.
                if out.isEmpty {
                    let end = nl > position && buffer[nl - 1] == 0x0d ? nl - 1 : nl
                    out = Array(buffer[position..<end])
                } else {
                    out.append(contentsOf: buffer[position..<nl])
                    if out.last == 0x0d { out.removeLast() }
                }
                bytesRead += nl + 1 - position
                position = nl + 1
                return out
            }
            out.append(contentsOf: buffer[position...])
            bytesRead += buffer.count - position
            position = buffer.count
            guard out.count <= ByteSource.maxRecordBytes else {
                throw LedgerError(.malformed, "line is longer than \(ByteSource.maxRecordBytes) bytes", at: ErrorLocation(file: name, line: number))
            }
        }
        if out.last == 0x0d { out.removeLast() }
        return out
    }
}

/// One input record: an event object (possibly with a signature) and where it came from.
public struct InputRecord: Sendable {
    /// 1-based line on which the record starts.
    public let line: Int
    /// The object's members as read: event members, plus `key_id` and `signature` when signed.
    /// A list, not a dictionary: a record has a handful of members, looked up a few times.
    public let members: [JSONMember]
    /// The RFC 8785 bytes of `object` without `key_id` and `signature`, when the line was already
    /// canonical: then they are the line's own bytes with those members cut out, which spares
    /// re-encoding every event of a file that `packledger sign` wrote.
    public let canonicalEventBytes: [UInt8]?
    /// Why the record could not be read. Lines are parsed in parallel, ahead of the rules; the
    /// failure travels with its record so that the first error in file order is the one reported.
    public var failure: LedgerError?

    /// A record read successfully, as the parser's members (keys distinct).
    public init(line: Int, members: [JSONMember], canonicalEventBytes: [UInt8]? = nil) {
        self.line = line
        self.members = members
        self.canonicalEventBytes = canonicalEventBytes
        self.failure = nil
    }

    /// A record read successfully, as an object (members in key order).
    public init(line: Int, object: [String: JSONValue]) {
        self.init(line: line, members: object.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: $0.value, range: 0..<0) })
    }

    /// A record that could not be read.
    public init(line: Int, failure: LedgerError) {
        self.line = line
        self.members = []
        self.canonicalEventBytes = nil
        self.failure = failure
    }

    /// The member named `key`, if the record has one.
    public subscript(key: String) -> JSONValue? {
        members.value(forKey: key)
    }

    /// The object as read.
    public var object: [String: JSONValue] {
        JSONMember.dictionary(members)
    }
}

/// Turns JSON Lines or CSV (PRODUCT.md §4) into event objects, one record at a time.
public final class RecordReader {
    /// The input formats.
    public enum Format: String, Sendable { case jsonl, csv }

    private let source: ByteSource
    /// The input format (chosen by extension, or by the first byte: `{` means JSON Lines).
    public let format: Format
    private var lineNumber = 0
    private var header: [String]?
    /// The source's name, for messages.
    public var name: String { source.name }
    /// Progress: bytes read so far and the total when known.
    public var progress: (read: Int, total: Int?) { (source.bytesRead, source.totalBytes) }

    /// Opens `path` (or `-`), detecting the format unless given.
    public init(path: String, format: Format? = nil) throws(LedgerError) {
        source = try ByteSource(path: path)
        if let format {
            self.format = format
        } else if path.lowercased().hasSuffix(".csv") {
            self.format = .csv
        } else if path.lowercased().hasSuffix(".jsonl") || path.lowercased().hasSuffix(".ndjson") || path.lowercased().hasSuffix(".json") {
            self.format = .jsonl
        } else {
            // JSON Lines start with an object; anything else is read as CSV, whose header
            // check then says clearly what was expected.
            self.format = try source.peek() == UInt8(ascii: "{") ? .jsonl : .csv
        }
    }

    private var buffered: ArraySlice<InputRecord> = []
    /// With it set (an import), the parallel maps that parsed the records are kept, for the
    /// caller to retire (`takeKeptMaps`) so that the parsing threads free what they made.
    var keepsMaps = false
    private var keptMaps: [any Reclaimable] = []

    /// The maps kept since the last call (see `keepsMaps`).
    func takeKeptMaps() -> [any Reclaimable] {
        defer { keptMaps = [] }
        return keptMaps
    }

    /// Up to `count` records (fewer only at the end of input; blank lines skipped), JSON Lines
    /// parsed on all cores: reading stays sequential, parsing (the costly part) does not.
    public func nextChunk(_ count: Int) throws(LedgerError) -> [InputRecord] {
        try raiseDeferredError()
        if !buffered.isEmpty {
            let out = Array(buffered.prefix(count))
            buffered = buffered.dropFirst(out.count)
            return out
        }
        guard format == .jsonl else {
            var out: [InputRecord] = []
            while out.count < count, let r = try nextCSVRecord() { out.append(r) }
            return out
        }
        var raw: [(line: Int, bytes: [UInt8])] = []
        while raw.count < count, let line = try nextLine() { raw.append(line) }
        let file = name
        let parse = { @Sendable (item: (line: Int, bytes: [UInt8])) throws(LedgerError) -> InputRecord in
            RecordReader.record(line: item.line, bytes: item.bytes, file: file)
        }
        guard keepsMaps else { return try Ingest.parallelMap(raw, parse) }
        let map = Ingest.parallelKept(raw, parse)
        keptMaps.append(map)
        return (0..<map.count).map { i in
            switch map.result(i) {
            case .success(let record): record
            case .failure(let error): InputRecord(line: raw[i].line, failure: error)
            }
        }
    }

    /// The next JSON line that is not blank, with its number (a byte order mark before the
    /// first one dropped), or nil at the end of input.
    private func nextLine() throws(LedgerError) -> (line: Int, bytes: [UInt8])? {
        while true {
            lineNumber += 1
            guard var bytes = try source.line(number: lineNumber) else { return nil }
            if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            return (lineNumber, bytes)
        }
    }

    /// A record as `nextRaw` hands it out: a JSON line still to parse, or a record already
    /// read (CSV, which is parsed as it is read, or a record pushed back).
    enum Raw: Sendable {
        case line(number: Int, bytes: [UInt8])
        case record(InputRecord)
    }

    /// A read error met by `nextRaw` after some records: raised by the next call, so that a bad
    /// record before it is still the first error reported.
    private var deferredError: LedgerError?

    /// Throws the error `nextRaw` deferred, once.
    private func raiseDeferredError() throws(LedgerError) {
        if let error = deferredError {
            deferredError = nil
            throw error
        }
    }

    /// Up to `count` records (fewer only at the end of input), JSON lines left unparsed: for a
    /// caller that parses them on its own threads together with what it does with each record
    /// next (`import` parses and checks a line in one go; `record(_:file:)` does the parsing).
    func nextRaw(_ count: Int) throws(LedgerError) -> [Raw] {
        try raiseDeferredError()
        var out: [Raw] = []
        out.reserveCapacity(count)
        let pushedBack = buffered.prefix(count)
        for record in pushedBack { out.append(.record(record)) }
        buffered = buffered.dropFirst(pushedBack.count)
        do throws(LedgerError) {
            if format == .jsonl {
                while out.count < count, let line = try nextLine() { out.append(.line(number: line.line, bytes: line.bytes)) }
            } else {
                while out.count < count, let record = try nextCSVRecord() { out.append(.record(record)) }
            }
        } catch {
            guard out.isEmpty else {
                deferredError = error
                return out
            }
            throw error
        }
        return out
    }

    /// The record `raw` holds, its line parsed if need be; a line that cannot be read gives a
    /// record carrying the failure.
    static func record(_ raw: Raw, file: String) -> InputRecord {
        switch raw {
        case .record(let record):
            return record
        case .line(let number, let bytes):
            return record(line: number, bytes: bytes, file: file)
        }
    }

    /// The record JSON line `number` holds, or one carrying why it cannot be read.
    static func record(line number: Int, bytes: [UInt8], file: String) -> InputRecord {
        do throws(LedgerError) {
            return try parseLine(bytes, line: number, file: file)
        } catch {
            return InputRecord(line: number, failure: error)
        }
    }

    /// Takes records back so that the next `nextChunk` returns them first.
    func pushBack(_ records: [InputRecord]) {
        buffered = ArraySlice(records) + buffered
    }

    static func parseLine(_ bytes: [UInt8], line: Int, file: String) throws(LedgerError) -> InputRecord {
        let noted: JSONParser.Noted
        do {
            noted = try JSONParser.parseNotingCanonical(bytes, members: true)
        } catch {
            throw LedgerError(.malformed, "not valid JSON: \(error)", at: ErrorLocation(file: file, line: line))
        }
        guard let members = noted.members else {
            throw LedgerError(.malformed, "each line must be one JSON object", at: ErrorLocation(file: file, line: line))
        }
        guard noted.isCanonical else { return InputRecord(line: line, members: members) }
        guard members.contains(where: { Ingest.isSignatureMember($0.key) }) else {
            return InputRecord(line: line, members: members, canonicalEventBytes: bytes)
        }
        // Dropping members from a canonical object leaves the canonical form of what remains.
        var cut: [UInt8] = []
        cut.reserveCapacity(bytes.count)
        cut.append(UInt8(ascii: "{"))
        for member in members where !Ingest.isSignatureMember(member.key) {
            if cut.count > 1 { cut.append(UInt8(ascii: ",")) }
            cut.append(contentsOf: bytes[member.range])
        }
        cut.append(UInt8(ascii: "}"))
        return InputRecord(line: line, members: members, canonicalEventBytes: cut)
    }

    // MARK: CSV (RFC 4180, with a header row)

    /// Reads one CSV record: fields separated by commas, optionally quoted; a quoted field may
    /// contain commas, doubled quotes and newlines.
    private func csvFields() throws(LedgerError) -> (line: Int, fields: [String])? {
        guard try source.peek() != nil else { return nil }
        lineNumber += 1
        let start = lineNumber
        if start == 1, try source.peek() == 0xEF {
            for expected: UInt8 in [0xEF, 0xBB, 0xBF] where try source.next() != expected {
                throw LedgerError(.malformed, "invalid byte-order mark", at: ErrorLocation(file: name, line: 1))
            }
        }
        var fields: [String] = []
        var field: [UInt8] = []
        var total = 0
        func finish() throws(LedgerError) {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw LedgerError(.malformed, "field \(fields.count + 1) is not valid UTF-8", at: ErrorLocation(file: name, line: start))
            }
            fields.append(s)
            field.removeAll(keepingCapacity: true)
        }
        while true {
            guard let b = try source.next() else { try finish(); return (start, fields) }
            total += 1
            guard total <= ByteSource.maxRecordBytes else {
                throw LedgerError(.malformed, "record is longer than \(ByteSource.maxRecordBytes) bytes", at: ErrorLocation(file: name, line: start))
            }
            switch b {
            case UInt8(ascii: ","):
                try finish()
            case 0x0a:
                if field.last == 0x0d { field.removeLast() }
                try finish()
                return (start, fields)
            case UInt8(ascii: "\"") where field.isEmpty:
                // Quoted field: read to the closing quote.
                while true {
                    guard let c = try source.next() else {
                        throw LedgerError(.malformed, "unterminated quoted field (opened on line \(start))", at: ErrorLocation(file: name, line: start))
                    }
                    total += 1
                    if c == 0x0a { lineNumber += 1 }
                    if c == UInt8(ascii: "\"") {
                        if try source.peek() == UInt8(ascii: "\"") {
                            _ = try source.next()
                            field.append(c)
                            continue
                        }
                        break
                    }
                    field.append(c)
                }
                let after = try source.peek()
                guard after == nil || after == UInt8(ascii: ",") || after == 0x0a || after == 0x0d else {
                    throw LedgerError(.malformed, "text after a closing quote in field \(fields.count + 1)", at: ErrorLocation(file: name, line: lineNumber))
                }
                if after == 0x0d {
                    _ = try source.next()
                    let next = try source.peek()
                    guard next == 0x0a || next == nil else {
                        throw LedgerError(.malformed, "stray carriage return", at: ErrorLocation(file: name, line: lineNumber))
                    }
                }
                if try source.peek() == nil { try finish(); return (start, fields) }
            case UInt8(ascii: "\""):
                throw LedgerError(.malformed, "a quote inside an unquoted field \(fields.count + 1)", at: ErrorLocation(file: name, line: lineNumber))
            default:
                field.append(b)
            }
        }
    }

    /// Columns allowed besides `data.*`.
    static let envelopeColumns: Set<String> = ["event_id", "kind", "pack", "at", "actor"]

    private func nextCSVRecord() throws(LedgerError) -> InputRecord? {
        if header == nil {
            guard let (line, names) = try csvFields() else { return nil }
            for (i, n) in names.enumerated() {
                guard RecordReader.envelopeColumns.contains(n) || (n.hasPrefix("data.") && n.count > 5 && !n.hasSuffix(".")) else {
                    throw LedgerError(.malformed, "unknown column \"\(n)\" (use event_id, kind, pack, at, actor and data.FIELD or data.FIELD.SUB)", at: ErrorLocation(file: name, line: line, field: "column \(i + 1)"))
                }
                guard names.firstIndex(of: n) == i else {
                    throw LedgerError(.malformed, "column \"\(n)\" appears twice", at: ErrorLocation(file: name, line: line))
                }
            }
            for required in ["event_id", "kind", "pack", "at"] where !names.contains(required) {
                throw LedgerError(.malformed, "the header needs a column \"\(required)\"", at: ErrorLocation(file: name, line: line))
            }
            header = names
        }
        guard let header else { return nil }
        while true {
            guard let (line, cells) = try csvFields() else { return nil }
            if cells.count == 1, cells[0].isEmpty { continue }
            guard cells.count == header.count else {
                throw LedgerError(.malformed, "\(cells.count) fields, but the header has \(header.count)", at: ErrorLocation(file: name, line: line))
            }
            var object: [String: JSONValue] = [:]
            var data: [String: JSONValue] = [:]
            for (column, cell) in zip(header, cells) where !cell.isEmpty {
                if column.hasPrefix("data.") {
                    let path = column.dropFirst(5).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    guard path.count <= 2, !path.contains(where: \.isEmpty) else {
                        throw LedgerError(.malformed, "column \(column): use data.FIELD or data.FIELD.SUB", at: ErrorLocation(file: name, line: line))
                    }
                    let value = try RecordReader.csvValue(cell, at: ErrorLocation(file: name, line: line, field: column))
                    if path.count == 1 {
                        guard data[path[0]] == nil else {
                            throw LedgerError(.malformed, "\(column) conflicts with \(column).*", at: ErrorLocation(file: name, line: line, field: column))
                        }
                        data[path[0]] = value
                    } else {
                        var inner = data[path[0]]?.objectValue ?? [:]
                        if data[path[0]] != nil, data[path[0]]?.objectValue == nil {
                            throw LedgerError(.malformed, "\(column) conflicts with data.\(path[0])", at: ErrorLocation(file: name, line: line, field: column))
                        }
                        inner[path[1]] = value
                        data[path[0]] = .object(inner)
                    }
                } else {
                    object[column] = .string(cell)
                }
            }
            object["data"] = .object(data)
            return InputRecord(line: line, object: object)
        }
    }

    /// "Numbers are numbers": a cell that is a JSON number becomes one; a cell starting with
    /// `[` or `{` is parsed as JSON (lists such as derived_from); anything else is a string.
    static func csvValue(_ cell: String, at location: ErrorLocation) throws(LedgerError) -> JSONValue {
        guard let first = cell.utf8.first else { return .string(cell) }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") || first == UInt8(ascii: "-") || (first >= 48 && first <= 57) {
            do {
                return try JSONParser.parse(cell)
            } catch {
                if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
                    throw LedgerError(.malformed, "not valid JSON: \(error)", at: location)
                }
            }
        }
        return .string(cell)
    }
}
