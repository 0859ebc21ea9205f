import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger entry SEQ`
    struct EntryCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "entry", abstract: "Show one entry: its bytes, leaf hash, signature and decoded event.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Sequence number.") var seq: UInt64

        func run() throws {
            let entry = try ledger.open(readOnly: true).entry(seq)
            let event = try Ledger.event(of: entry)
            switch output.format {
            case .json:
                Console.json(.object([
                    "seq": .count(entry.seq), "recorded_at": .string(entry.recordedAt.rfc3339Micros),
                    "prev": .string(entry.prev.hex), "leaf_hash": .string(entry.hash.hex),
                    "key_id": entry.batch == nil ? .string(entry.keyID) : .null,
                    "signature": entry.batch == nil ? .string(Base64.encode(entry.signature)) : .null,
                    "batch": entry.batch.map { .object(["manifest": .count($0.manifest), "index": .count($0.index)]) } ?? .null,
                    "bytes": .string(Base64.encode(entry.bytes)),
                    "event": event.json,
                ]))
            case .table:
                print("seq         \(entry.seq)")
                print("leaf hash   \(entry.hash.hex)")
                print("prev        \(entry.prev.hex)")
                if let batch = entry.batch {
                    print("signed by    the batch of entry \(batch.manifest), as its event \(batch.index)")
                } else {
                    print("key         \(entry.keyID)")
                    print("signature   \(Base64.encode(entry.signature))")
                }
                print("bytes (\(entry.bytes.count)):")
                print(String(decoding: entry.bytes, as: UTF8.self))
                print("event:")
                print(JSONPretty.render(event.json), terminator: "")
            }
        }
    }
}
