import ArgumentParser
import Foundation
import PackLedgerKit

/// `--ledger PATH`, defaulting to `$PACKLEDGER_LEDGER` or `./packledger.db`.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: "Ledger file (default: $PACKLEDGER_LEDGER or ./packledger.db).")
    var ledger: String?

    var path: String {
        ledger ?? ProcessInfo.processInfo.environment["PACKLEDGER_LEDGER"] ?? "packledger.db"
    }

    func open(readOnly: Bool = false) throws(LedgerError) -> Ledger {
        try Ledger(path: path, readOnly: readOnly)
    }

    /// Where `init` writes the operator key when none is given, and where registry commands
    /// look for it: beside the ledger, so one directory holds one deployment.
    var defaultOperatorKeyPath: String { path + ".operator.key" }
}

/// `--operator-key FILE` for commands the operator signs.
struct OperatorKeyOptions: ParsableArguments {
    @Option(name: .customLong("operator-key"), help: "Operator private key (default: $PACKLEDGER_OPERATOR_KEY or LEDGER.operator.key).")
    var operatorKey: String?

    func load(for ledger: LedgerOptions) throws(LedgerError) -> Ed25519PrivateKey {
        let path = operatorKey ?? ProcessInfo.processInfo.environment["PACKLEDGER_OPERATOR_KEY"] ?? ledger.defaultOperatorKeyPath
        return try loadPrivateKey(path)
    }
}

/// Output format of read commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// `--format table|json`.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table or json.")
    var format: OutputFormat = .table
}

/// Parses a time option, naming the option on failure.
func parseTime(_ text: String, option: String) throws(LedgerError) -> Timestamp {
    guard let t = Timestamp(rfc3339: text) else {
        throw LedgerError(.usage, "\(option) \"\(text)\" is not an RFC 3339 time such as 2026-05-04T09:30:00Z")
    }
    return t
}
