import PackLedgerKit

/// Command-line options of `packledger-generate-fleet`.
struct GeneratorOptions: Sendable {
    /// Output directory.
    var out = ""
    /// Approximate number of events.
    var events = 100_000
    /// PRNG seed: the same seed and options give byte-identical files.
    var seed: UInt64 = 1
    /// First day of the window, `YYYY-MM-DD`.
    var start = "2022-01-01"
    /// Last day of the window (inclusive), `YYYY-MM-DD`.
    var end = "2026-06-30"
    /// Whether `--help` was asked for.
    var help = false

    /// The usage text.
    static let usage = """
        usage: packledger-generate-fleet --out DIR [--events N] [--seed S] [--start YYYY-MM-DD] [--end YYYY-MM-DD]

        Writes a seeded, realistic synthetic battery fleet into DIR (which must be empty or absent):
        party keys, parties.tsv, register.sh, signed events files (events/RRRRSS-actor.jsonl, one per
        round and actor), import.sh and SUMMARY.txt. Import with:
          packledger init --origin NAME && PACKLEDGER=packledger PACKLEDGER_LEDGER=ledger.db bash DIR/import.sh

          --out DIR      output directory
          --events N     approximate number of events (default 100000)
          --seed S       seed (default 1); the same seed and options give byte-identical files
          --start DATE   first day of the period (default 2022-01-01)
          --end DATE     last day of the period, inclusive, before today (default 2026-06-30)
        """

    /// The options as they determine the output (everything but `--out`), for the summary and
    /// the scripts' headers: two directories generated alike then describe themselves alike.
    var commandLine: String { "--events \(events) --seed \(seed) --start \(start) --end \(end)" }

    /// The first instant of the window.
    var startSeconds: Int64 { UTC.parseDate(start) ?? 0 }

    /// The last instant of the window: 23:59:59 of the end date.
    var endSeconds: Int64 { (UTC.parseDate(end) ?? 0) + UTC.day - 1 }

    /// Parses the arguments (without the program name); `now` is the current time in seconds,
    /// against which the window must lie in the past.
    init(arguments: [String], now: Int64) throws(LedgerError) {
        var i = 0
        while i < arguments.count {
            var name = arguments[i]
            var value: String?
            if let eq = name.firstIndex(of: "="), name.hasPrefix("--") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "--help" || name == "-h" {
                help = true
                return
            }
            if value == nil {
                guard i + 1 < arguments.count else { throw LedgerError(.usage, "\(name) needs a value") }
                i += 1
                value = arguments[i]
            }
            let v = value ?? ""
            switch name {
            case "--out":
                guard !v.isEmpty else { throw LedgerError(.usage, "--out needs a directory") }
                out = v
            case "--events":
                guard let n = Int(v), n >= 1, n <= 100_000_000 else { throw LedgerError(.usage, "--events must be a whole number from 1 to 100000000, not \(v)") }
                events = n
            case "--seed":
                guard let s = UInt64(v) else { throw LedgerError(.usage, "--seed must be a whole number from 0 to 2^64-1, not \(v)") }
                seed = s
            case "--start":
                start = v
            case "--end":
                end = v
            default:
                throw LedgerError(.usage, "unknown option \(name)\n\n\(GeneratorOptions.usage)")
            }
            i += 1
        }
        guard !out.isEmpty else { throw LedgerError(.usage, "--out DIR is required\n\n\(GeneratorOptions.usage)") }
        guard let from = UTC.parseDate(start) else { throw LedgerError(.usage, "--start \(start) is not a date YYYY-MM-DD (1970–2200)") }
        guard let to = UTC.parseDate(end) else { throw LedgerError(.usage, "--end \(end) is not a date YYYY-MM-DD (1970–2200)") }
        guard from <= to else { throw LedgerError(.usage, "--start \(start) is after --end \(end)") }
        // Events must never lie in the future (the ledger rejects them), and clamping the window
        // to the clock would make the output depend on when it was generated.
        guard to + UTC.day <= now else {
            throw LedgerError(.usage, "--end \(end) is not in the past; the last day of the period must be before today")
        }
    }
}
