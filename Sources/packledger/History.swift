import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger history PACK`
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A pack's events, oldest first, with its lineage.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Pack id.") var pack: String

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            guard let state = try ledger.pack(pack) else {
                throw LedgerError(.notFound, "pack \(pack) is not in the ledger")
            }
            let items = try ledger.history(pack)
            let predecessors = try ledger.predecessors(of: pack)
            switch output.format {
            case .json:
                Console.json(.object([
                    "pack": .string(pack), "status": .string(state.status.rawValue), "custodian": .string(state.custodian),
                    "components": .array(try ledger.compositionTree(of: pack)),
                    "lineage": .object([
                        "derived_from": .array(state.derivedFrom.map { .string($0) }),
                        "repurposed_from": .array(predecessors.map { .string($0) }),
                        "repurposed_into": .optional(state.repurposedInto),
                    ]),
                    "events": .array(items.map { item in
                        .object([
                            "seq": .count(item.entry.seq), "recorded_at": .string(item.entry.recordedAt.rfc3339Micros),
                            "leaf_hash": .string(item.entry.hash.hex), "key_id": .string(item.entry.keyID),
                            "event_id": .string(item.event.eventID), "kind": .string(item.event.kind.rawValue), "pack": .string(item.event.pack ?? pack),
                            "actor": .string(item.event.actor), "at": .string(item.event.at.rfc3339),
                            "data": .object(item.event.data),
                        ])
                    }),
                ]))
            case .table:
                print("pack \(pack): \(state.status.rawValue), held by \(state.custodian)")
                if !state.derivedFrom.isEmpty { print("derived from: \(state.derivedFrom.joined(separator: ", "))") }
                if let into = state.repurposedInto { print("repurposed into: \(into)") }
                let components = try ledger.descendants(of: pack)
                if !components.isEmpty { print("components: \(components.joined(separator: ", "))") }
                Console.table(["SEQ", "AT", "PACK", "KIND", "ACTOR", "DATA"], items.map { item in
                    [String(item.entry.seq), item.event.at.rfc3339, item.event.pack ?? pack, item.event.kind.rawValue, item.event.actor,
                     CanonicalJSON.encodeString(.object(item.event.data))]
                })
            }
        }
    }
}
