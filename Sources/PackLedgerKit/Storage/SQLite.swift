import CSQLite

/// A thin owner of one `sqlite3` connection, in the manner of GRDB's low-level API:
/// prepared statements, explicit transactions, every failure turned into a `LedgerError`.
///
/// Not thread-safe; each process or thread opens its own connection.
public final class Database {
    let handle: OpaquePointer
    /// The file path.
    public let path: String

    /// Process-wide settings, applied once before the first connection opens. The ledger reads
    /// no allocation statistics, so SQLite need not keep them (a global lock per allocation).
    private static let configured: Bool = {
        packledger_sqlite_disable_memstatus() == SQLITE_OK
    }()

    /// Opens (or, with `create`, creates) the database at `path`.
    public init(path: String, readOnly: Bool = false, create: Bool = false) throws(LedgerError) {
        _ = Database.configured
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw LedgerError(.storage, "cannot open ledger \(path): \(message)", at: ErrorLocation(file: path))
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// The last error message of this connection.
    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    static func isBusy(_ rc: Int32) -> Bool { rc & 0xff == SQLITE_BUSY || rc & 0xff == SQLITE_LOCKED }

    /// Another process held the write lock for longer than the busy timeout.
    func busy() -> LedgerError {
        LedgerError(.storage, "ledger busy: another process holds the write lock; try again", at: ErrorLocation(file: path))
    }

    func error(_ what: String) -> LedgerError {
        LedgerError(.storage, "\(what): \(errorMessage)", at: ErrorLocation(file: path))
    }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws(LedgerError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            if Database.isBusy(rc) { throw busy() }
            throw LedgerError(.storage, text, at: ErrorLocation(file: path))
        }
    }

    /// Compiles a statement.
    public func prepare(_ sql: String) throws(LedgerError) -> Statement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK, let stmt else {
            throw error("cannot prepare \(sql.prefix(60))")
        }
        return Statement(stmt, database: self)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    /// IMMEDIATE takes the write lock up front so that two writers queue on the busy
    /// timeout instead of deadlocking on a lock upgrade.
    public func writeTransaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a read transaction so that every read sees one snapshot; inside an
    /// open transaction it simply joins it.
    public func readTransaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        if inTransaction { return try body() }
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body()
    }

    /// Sets the time a writer waits for the lock before giving up with "ledger busy".
    public func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Reads an integer pragma.
    public func pragmaInt(_ name: String) throws(LedgerError) -> Int64 {
        let stmt = try prepare("PRAGMA \(name)")
        guard try stmt.step() else { return 0 }
        return stmt.int64(0)
    }
}

/// A prepared statement. Columns are read by index, binds are 1-based as in SQLite.
public final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    /// Where text and blob parameters are copied for SQLite to read in place (SQLITE_STATIC).
    /// A value bound as SQLITE_TRANSIENT costs SQLite a heap allocation for its own copy, on
    /// every bind: several per appended event. Bound values stay valid until `reset`, which
    /// clears the bindings before the space is reused; what does not fit is bound TRANSIENT.
    private let arena: UnsafeMutableRawBufferPointer
    private var arenaUsed = 0

    init(_ handle: OpaquePointer, database: Database) {
        self.handle = handle
        self.database = database
        self.arena = .allocate(byteCount: 1024, alignment: 8)
    }

    deinit {
        sqlite3_finalize(handle)
        arena.deallocate()
    }

    /// Clears bindings and resets for another run.
    @discardableResult
    public func reset() -> Statement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        arenaUsed = 0
        return self
    }

    /// Where SQLite may read a copy of `bytes` until the next `reset`, or nil when the arena is full.
    private func stash(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        guard let base = arena.baseAddress, bytes.count <= arena.count - arenaUsed else { return nil }
        let target = base + arenaUsed
        if let source = bytes.baseAddress { target.copyMemory(from: source, byteCount: bytes.count) }
        arenaUsed += bytes.count
        return UnsafeRawPointer(target)
    }

    /// Binds values in order: Int, Int64, UInt64, Double, String, [UInt8], Bool or nil.
    @discardableResult
    public func bind(_ values: (any Sendable)?...) throws(LedgerError) -> Statement {
        try bind(values: values)
    }

    /// Binds an array of values in order (see the variadic form).
    @discardableResult
    public func bind(values: [(any Sendable)?]) throws(LedgerError) -> Statement {
        reset()
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case nil: try setNull(index)
            case let v as Int64: try set(index, v)
            case let v as Int: try set(index, Int64(v))
            case let v as UInt64: try set(index, Int64(bitPattern: v))
            case let v as Bool: try set(index, Int64(v ? 1 : 0))
            case let v as Double: try set(index, v)
            case let v as String: try set(index, v)
            case let v as [UInt8]: try set(index, v)
            default: throw LedgerError(.storage, "unsupported bind type \(type(of: value))")
            }
        }
        return self
    }

    // Typed binds for hot paths: no existential boxing, no dynamic casts. Named `set` so that
    // an integer literal index can never be taken for a value of the variadic `bind`.

    func check(_ rc: Int32, _ index: Int32) throws(LedgerError) {
        guard rc == SQLITE_OK else { throw database.error("cannot bind parameter \(index)") }
    }

    /// Binds an integer to parameter `index` (1-based).
    public func set(_ index: Int32, _ value: Int64) throws(LedgerError) { try check(sqlite3_bind_int64(handle, index, value), index) }
    /// Binds an unsigned integer (stored as its Int64 bit pattern).
    public func set(_ index: Int32, _ value: UInt64) throws(LedgerError) { try set(index, Int64(bitPattern: value)) }
    /// Binds a double.
    public func set(_ index: Int32, _ value: Double) throws(LedgerError) { try check(sqlite3_bind_double(handle, index, value), index) }
    /// Binds text.
    public func set(_ index: Int32, _ value: String) throws(LedgerError) {
        // With an explicit length, a small string (the ids and states bound here are mostly
        // small) is read from a stack copy; as a C string it would go through a heap array.
        var text = value
        let rc = text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            if let kept = stash(bytes) {
                // A nil destructor is SQLITE_STATIC. The arena's address is never null, so an
                // empty string binds "", not NULL.
                return sqlite3_bind_text(handle, index, kept.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
            }
            guard let chars = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else {
                return sqlite3_bind_text(handle, index, "", 0, packledger_sqlite_transient())
            }
            return sqlite3_bind_text(handle, index, chars, Int32(bytes.count), packledger_sqlite_transient())
        }
        try check(rc, index)
    }
    /// Binds a blob.
    public func set(_ index: Int32, _ value: [UInt8]) throws(LedgerError) {
        try check(value.withUnsafeBytes { bindBlob(index, $0) }, index)
    }
    /// Binds a blob lent for the call only (it is copied); the SQLite result code.
    func bindBlob(_ index: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        if let kept = stash(bytes) { return sqlite3_bind_blob(handle, index, kept, Int32(bytes.count), nil) }
        return sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), packledger_sqlite_transient())
    }
    /// Runs the statement with `blob` bound to parameter `index` without SQLite copying it (the
    /// bytes stay valid for the whole run); the other parameters must be set already.
    public func run(withBlob blob: [UInt8], at index: Int32) throws(LedgerError) {
        try withBytes(of: blob) { (buffer: UnsafeRawBufferPointer) throws(LedgerError) in try run(withBlob: buffer, at: index) }
    }

    /// Runs the statement with the bytes of `buffer`, valid for the call, bound to parameter
    /// `index` in place.
    func run(withBlob buffer: UnsafeRawBufferPointer, at index: Int32) throws(LedgerError) {
        // The buffer is only valid during this call: unbind it, leaving the others.
        defer { sqlite3_bind_null(handle, index) }
        // A nil destructor is SQLITE_STATIC: SQLite reads the caller's buffer in place.
        try check(sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), nil), index)
        try run()
    }

    /// Binds NULL.
    public func setNull(_ index: Int32) throws(LedgerError) { try check(sqlite3_bind_null(handle, index), index) }
    /// Binds text or NULL.
    public func set(_ index: Int32, _ value: String?) throws(LedgerError) {
        if let value { try set(index, value) } else { try setNull(index) }
    }
    /// Binds a double or NULL.
    public func set(_ index: Int32, _ value: Double?) throws(LedgerError) {
        if let value { try set(index, value) } else { try setNull(index) }
    }
    /// Binds an integer or NULL.
    public func set(_ index: Int32, _ value: Int64?) throws(LedgerError) {
        if let value { try set(index, value) } else { try setNull(index) }
    }

    /// Advances; true when a row is available. Busy and locked become "ledger busy".
    public func step() throws(LedgerError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            if Database.isBusy(rc) { throw database.busy() }
            throw database.error("statement failed")
        }
    }

    /// Runs a statement that returns no rows.
    public func run() throws(LedgerError) {
        while try step() {}
        sqlite3_reset(handle)
    }

    /// Whether column `i` is NULL.
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    /// Column `i` as an integer.
    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    /// Column `i` as a double.
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    /// Column `i` as text (nil when NULL).
    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        let n = Int(sqlite3_column_bytes(handle, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    /// Column `i` as bytes (empty when NULL).
    public func blob(_ i: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(handle, i))
        guard n > 0, let p = sqlite3_column_blob(handle, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}

/// `withUnsafeBytes` for a body that throws `LedgerError` (the standard one rethrows `any Error`).
func withBytes<R>(of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(LedgerError) -> R) throws(LedgerError) -> R {
    let result = bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Result<R, LedgerError> in
        do throws(LedgerError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
