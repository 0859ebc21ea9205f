import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger record KIND --pack ID --actor ID --key FILE [--at TIME] [--event-id UUID] [--data JSON]`
    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign an event with the actor's key and append it.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Event kind: \(EventKind.allCases.filter { !$0.isRegistry }.map(\.rawValue).joined(separator: ", ")).")
        var kind: String
        @Option(help: "Pack id.") var pack: String
        @Option(help: "Acting party id.") var actor: String
        @Option(help: "The actor's private key (PEM).") var key: String?
        @Option(name: .customLong("key-id"), help: "With --signature: id of the actor's key that signed offline.") var keyID: String?
        @Option(help: "Base64 Ed25519 signature made offline over the event's canonical bytes (Schema/FORMAT.md §2); needs --key-id, --at and --event-id.")
        var signature: String?
        @Option(help: "When it happened (RFC 3339; default now).") var at: String?
        @Option(name: .customLong("event-id"), help: "UUID making the submission idempotent (default: a new one).") var eventID: String?
        @Option(help: "Kind-specific data as a JSON object.") var data: String = "{}"

        func validate() throws {
            if signature == nil {
                guard key != nil, keyID == nil else { throw ValidationError("give --key, or --signature with --key-id") }
            } else {
                guard key == nil, keyID != nil, at != nil, eventID != nil else {
                    throw ValidationError("--signature needs --key-id, --at and --event-id (the signed bytes must be rebuilt exactly) and no --key")
                }
            }
        }

        func run() throws {
            let dataValue: JSONValue
            do {
                dataValue = try JSONParser.parse(data)
            } catch {
                throw LedgerError(.malformed, "--data is not valid JSON: \(error)", at: ErrorLocation(field: "data"))
            }
            let atText = at ?? Timestamp.now().rfc3339
            let json: JSONValue = .object([
                "event_id": .string(eventID ?? UUID().uuidString.lowercased()), "kind": .string(kind),
                "pack": .string(pack), "actor": .string(actor), "at": .string(atText), "data": dataValue,
            ])
            let event = try Event(json: json)
            let signed: SignedEvent
            if let key {
                signed = try SignedEvent(signing: event, with: loadPrivateKey(key))
            } else {
                guard let signature, let sig = Base64.decode(signature), sig.count == 64 else {
                    throw LedgerError(.malformed, "--signature must be the base64 of 64 bytes", at: ErrorLocation(field: "signature"))
                }
                signed = SignedEvent(event: event, bytes: event.canonicalBytes, keyID: keyID ?? "", signature: sig)
            }
            let ledger = try ledger.open()
            let result = try ledger.append(signed)
            switch output.format {
            case .json:
                Console.json(.object(["seq": .count(result.seq), "new": .bool(result.isNew), "event_id": json["event_id"] ?? .null]))
            case .table:
                print(result.isNew ? "recorded \(kind) for \(pack) as entry \(result.seq)" : "already recorded as entry \(result.seq); nothing written")
            }
        }
    }
}
