import ArgumentParser
import Foundation
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger party add|list|key`
    struct Party: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register parties and manage their keys (entries signed by the operator).",
            subcommands: [Add.self, List.self, Key.self]
        )
    }
}

/// Builds, signs with the operator key and appends one registry entry.
func appendRegistry(_ kind: EventKind, party: String, data: [String: JSONValue], ledger options: LedgerOptions, operatorKey: OperatorKeyOptions) throws -> AppendResult {
    let ledger = try options.open()
    let key = try operatorKey.load(for: options)
    let json: JSONValue = .object([
        "event_id": .string(UUID().uuidString.lowercased()), "kind": .string(kind.rawValue),
        "actor": .string(Identifiers.operatorID), "party": .string(party),
        "at": .string(Timestamp.now().rfc3339), "data": .object(data),
    ])
    return try ledger.append(SignedEvent(signing: Event(json: json), with: key))
}

extension PackLedgerCommand.Party {
    /// `packledger party add ID --name N --role R[,R…] --key PUB.pem [--authorized-from D --authorized-until D]`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a party with its roles and first key.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var operatorKey: OperatorKeyOptions
        @Argument(help: "Party id: [a-z0-9][a-z0-9._-]{0,63}.") var id: String
        @Option(help: "Display name.") var name: String
        @Option(help: "Comma-separated roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "The party's public key (PEM).") var key: String
        @Option(name: .customLong("valid-from"), help: "Time from which the key signs (default: now).") var validFrom: String?
        @Option(name: .customLong("authorized-from"), help: "Start date of a recycler's or repurposer's authorization (YYYY-MM-DD or RFC 3339).")
        var authorizedFrom: String?
        @Option(name: .customLong("authorized-until"), help: "Last day of the authorization (inclusive), or an exclusive RFC 3339 end.")
        var authorizedUntil: String?

        func run() throws {
            let publicKey = try KeyFiles.loadPublicKey(key)
            var data: [String: JSONValue] = [
                "name": .string(name), "key": .string(Base64.encode(publicKey.raw)),
                "roles": .array(role.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }),
            ]
            if let validFrom { data["key_valid_from"] = .string(try parseTime(validFrom, option: "--valid-from").rfc3339) }
            if let authorizedFrom { data["authorized_from"] = .string(try authorizationBound(authorizedFrom, option: "--authorized-from", endOfDay: false)) }
            if let authorizedUntil { data["authorized_until"] = .string(try authorizationBound(authorizedUntil, option: "--authorized-until", endOfDay: true)) }
            let result = try appendRegistry(.partyRegistered, party: id, data: data, ledger: ledger, operatorKey: operatorKey)
            print("registered \(id) as entry \(result.seq) (key \(publicKey.keyID))")
        }
    }

    /// `packledger party list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered parties and their keys.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let ledger = try ledger.open(readOnly: true)
            let parties = try ledger.parties()
            var keysByParty: [String: [KeyState]] = [:]
            for p in parties { keysByParty[p.id] = try ledger.keys(of: p.id) }
            switch output.format {
            case .json:
                Console.json(.array(parties.map { p in
                    .object([
                        "id": .string(p.id), "name": .string(p.name), "roles": .array(p.roles.map { .string($0.rawValue) }),
                        "authorized_from": .optional(p.authorizedFrom?.rfc3339), "authorized_until": .optional(p.authorizedUntil?.rfc3339),
                        "registered_seq": .count(p.registeredSeq),
                        "keys": .array((keysByParty[p.id] ?? []).map { k in
                            .object(["key_id": .string(k.keyID), "public_key": .string(Base64.encode(k.publicKey.raw)),
                                     "valid_from": .string(k.validFrom.rfc3339), "valid_until": .optional(k.validUntil?.rfc3339),
                                     "added_seq": .count(k.addedSeq), "revoked_seq": k.revokedSeq.map { .count($0) } ?? .null])
                        }),
                    ])
                }))
            case .table:
                Console.table(["ID", "NAME", "ROLES", "AUTHORIZED", "KEYS"], parties.map { p in
                    let window = p.authorizedFrom.map { "\($0.rfc3339)..\(p.authorizedUntil?.rfc3339 ?? "")" } ?? "-"
                    let keys = (keysByParty[p.id] ?? []).map { $0.keyID + ($0.validUntil == nil ? "" : "(revoked)") }.joined(separator: " ")
                    return [p.id, p.name, p.roles.map(\.rawValue).joined(separator: ","), window, keys]
                })
            }
        }
    }

    /// `packledger party key add|revoke`
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or revoke a party's key.", subcommands: [AddKey.self, RevokeKey.self])
    }
}

extension PackLedgerCommand.Party.Key {
    /// `packledger party key add ID --key PUB.pem [--at TIME]`
    struct AddKey: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Give a party another key, valid from --at (default now).")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var operatorKey: OperatorKeyOptions
        @Argument(help: "Party id.") var id: String
        @Option(help: "The new public key (PEM).") var key: String
        @Option(help: "Time from which the key signs (RFC 3339; default now).") var at: String?

        func run() throws {
            let publicKey = try KeyFiles.loadPublicKey(key)
            var data: [String: JSONValue] = ["key": .string(Base64.encode(publicKey.raw))]
            if let at { data["valid_from"] = .string(try parseTime(at, option: "--at").rfc3339) }
            let result = try appendRegistry(.partyKeyAdded, party: id, data: data, ledger: ledger, operatorKey: operatorKey)
            print("added key \(publicKey.keyID) to \(id) as entry \(result.seq)")
        }
    }

    /// `packledger party key revoke ID --key PUB.pem [--at TIME]`
    struct RevokeKey: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "End a key's validity at --at (default now).")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var operatorKey: OperatorKeyOptions
        @Argument(help: "Party id.") var id: String
        @Option(help: "The public key to revoke (PEM).") var key: String
        @Option(help: "First instant at which the key no longer signs (RFC 3339; default now).") var at: String?

        func run() throws {
            let publicKey = try KeyFiles.loadPublicKey(key)
            var data: [String: JSONValue] = ["key_id": .string(publicKey.keyID)]
            if let at { data["valid_until"] = .string(try parseTime(at, option: "--at").rfc3339) }
            let result = try appendRegistry(.partyKeyRevoked, party: id, data: data, ledger: ledger, operatorKey: operatorKey)
            print("revoked key \(publicKey.keyID) of \(id) as entry \(result.seq)")
        }
    }
}

/// An authorization bound as an exact instant: a date means the start of that day (UTC), or
/// for an end bound the start of the next day, so `--authorized-until 2026-12-31` covers that day.
func authorizationBound(_ text: String, option: String, endOfDay: Bool) throws(LedgerError) -> String {
    guard let t = Timestamp(dateOrTime: text) else {
        throw LedgerError(.usage, "\(option) \"\(text)\" is not a date (YYYY-MM-DD) or RFC 3339 time")
    }
    return (text.utf8.count == 10 && endOfDay ? t.adding(seconds: 86_400) : t).rfc3339
}
