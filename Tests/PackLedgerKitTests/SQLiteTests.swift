import Foundation
import Testing
@testable import PackLedgerKit

/// The SQLite wrapper's binds: text and blobs are copied into a per-statement arena that SQLite
/// reads in place, and fall back to SQLite's own copy when the arena is full. Both paths, and the
/// arena's reuse after `reset`, must store exactly the bytes given.
@Suite("SQLite binds") struct SQLiteTests {
    @Test func bindsStoreExactValuesInAndBeyondTheArena() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.path("binds.db"), create: true)
        try db.execute("CREATE TABLE t (n INTEGER, a TEXT, b BLOB, c TEXT)")
        let insert = try db.prepare("INSERT INTO t (n, a, b, c) VALUES (?, ?, ?, ?)")
        // Small (inline Swift strings), large, empty, non-ASCII, and values that together
        // overflow the arena (so later ones take the fallback), bound over several reuses.
        let long = String(repeating: "x", count: 700)
        var rows: [(Int64, String, [UInt8], String)] = [
            (0, "ni", [1, 2, 3], ""),
            (1, "GB-0123456789ABCDEFGHIJKLMN", [], "ŁÓDŹ-回收-♻︎"),
            (2, long, Array(repeating: 0xAB, count: 900), long + "y"),
            (3, "", [0], "after a full arena"),
        ]
        for i in 4..<40 { rows.append((Int64(i), "pack-\(i)", (0..<UInt8(i)).map { $0 }, String(repeating: "é", count: i * 10))) }
        for row in rows {
            insert.reset()
            try insert.set(1, row.0)
            try insert.set(2, row.1)
            try insert.set(3, row.2)
            try insert.set(4, row.3)
            try insert.run()
        }
        let select = try db.prepare("SELECT n, a, b, c, typeof(a), typeof(c) FROM t ORDER BY n")
        var seen = 0
        while try select.step() {
            let want = rows[seen]
            #expect(select.int64(0) == want.0)
            #expect(select.text(1) == want.1)
            #expect(select.blob(2) == want.2)
            #expect(select.text(3) == want.3)
            // An empty string is bound as "", not NULL.
            #expect(select.text(4) == "text" && select.text(5) == "text")
            seen += 1
        }
        #expect(seen == rows.count)
    }

    @Test func rebindingWithoutResetKeepsEarlierValuesIntact() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.path("rebind.db"), create: true)
        try db.execute("CREATE TABLE t (a TEXT, b TEXT)")
        let insert = try db.prepare("INSERT INTO t (a, b) VALUES (?, ?)")
        // `run` resets without clearing: a value set before it must not be overwritten by the
        // arena space the next value takes.
        try insert.set(1, "first-value-that-is-not-small")
        try insert.set(2, "kept")
        try insert.run()
        try insert.set(1, "second-value-that-is-not-small")
        try insert.run()
        let select = try db.prepare("SELECT a, b FROM t ORDER BY rowid")
        var got: [[String?]] = []
        while try select.step() { got.append([select.text(0), select.text(1)]) }
        #expect(got == [["first-value-that-is-not-small", "kept"], ["second-value-that-is-not-small", "kept"]])
    }
}
