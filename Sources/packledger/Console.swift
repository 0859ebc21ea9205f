import Foundation
import PackLedgerKit

/// Printing helpers shared by the subcommands.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        print(JSONPretty.render(value), terminator: "")
    }

    /// Whether standard error is a terminal: progress is shown only there.
    static var isInteractive: Bool { isatty(2) == 1 }

    static func progress(_ text: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    static func endProgress() {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// Prints rows under a header with columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i + 1 == cells.count ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}

extension JSONValue {
    /// An optional string as JSON, null when absent.
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    /// A sequence number or count as a JSON number (exact below 2^53).
    static func count(_ n: UInt64) -> JSONValue { .number(Double(n)) }
}

extension PackState {
    var json: JSONValue {
        .object([
            "pack": .string(pack), "status": .string(status.rawValue), "custodian": .string(custodian),
            "producer": .string(producer), "category": .string(category), "chemistry": .string(chemistry),
            "mass_kg": .number(massKg), "energy_kwh": .number(energyKwh),
            "produced_seq": .count(producedSeq), "last_seq": .count(lastSeq), "last_at": .string(lastAt.rfc3339),
            "placed_on_market_at": .optional(placedAt?.rfc3339), "placed_on_market_market": .optional(placedMarket),
            "repurposed_into": .optional(repurposedInto), "derived_from": .array(derivedFrom.map { .string($0) }),
        ])
    }
}

/// Loads a private key file, warning on standard error when others may read it: a key that
/// others can read may already be someone else's signature.
func loadPrivateKey(_ path: String) throws(LedgerError) -> Ed25519PrivateKey {
    if KeyFiles.isExposed(path) {
        Console.error("packledger: warning: \(path) can be read by other users; a private key should be mode 0600 (chmod 600 \(path))")
    }
    return try KeyFiles.loadPrivateKey(path)
}
