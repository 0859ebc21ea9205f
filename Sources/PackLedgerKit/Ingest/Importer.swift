import Dispatch
import Foundation

/// What an import did.
public struct ImportSummary: Sendable {
    /// Records read.
    public var records = 0
    /// Entries appended.
    public var appended = 0
    /// Records already in the ledger with identical content (no-ops).
    public var duplicates = 0
    /// The first and last entries written.
    public var firstSeq: UInt64?
    /// The last entry written.
    public var lastSeq: UInt64?
}

/// Progress of a running import or signing job.
public struct IngestProgress: Sendable {
    /// Records done.
    public let records: Int
    /// Bytes of input consumed.
    public let bytesRead: Int
    /// Input size, when it is a regular file.
    public let totalBytes: Int?
    /// Seconds since the start.
    public let elapsed: Double
}

/// Turning input records into signed events: shared by `sign` and `import`.
public enum Ingest {
    /// Members a signed line carries besides the event.
    static let signatureMembers: Set<String> = ["key_id", "signature"]

    /// The event object of a record, with `actor` filled in from `defaultActor` when absent.
    static func eventObject(_ record: InputRecord, defaultActor: String?, file: String) throws(LedgerError) -> [String: JSONValue] {
        var object = record.object
        for member in signatureMembers { object.removeValue(forKey: member) }
        if object["actor"] == nil {
            guard let defaultActor else {
                throw LedgerError(.malformed, "no actor: give one in the record or with --actor", at: ErrorLocation(file: file, line: record.line, field: "actor"))
            }
            object["actor"] = .string(defaultActor)
        } else if let defaultActor, object["actor"]?.stringValue != defaultActor {
            throw LedgerError(.malformed, "actor \(object["actor"]?.stringValue ?? "?") is not --actor \(defaultActor)", at: ErrorLocation(file: file, line: record.line, field: "actor"))
        }
        return object
    }

    /// A signed event from a record: the record's own signature if it has one, otherwise a new
    /// signature by `key`. The signature is not checked here.
    static func signedEvent(_ record: InputRecord, actor: String?, key: Ed25519PrivateKey?, file: String) throws(LedgerError) -> SignedEvent {
        let at = ErrorLocation(file: file, line: record.line)
        let hasSignature = record.object["signature"] != nil || record.object["key_id"] != nil
        guard hasSignature || key != nil else {
            throw LedgerError(.malformed, "this record is not signed: give --actor and --key to sign unsigned events, or sign them first with `packledger sign`", at: at)
        }
        let object = try eventObject(record, defaultActor: hasSignature ? nil : actor, file: file)
        let event: Event
        do {
            event = try Event(json: .object(object))
        } catch {
            throw error.located(file: file, line: record.line)
        }
        guard !event.kind.isRegistry else {
            throw LedgerError(.malformed, "\(event.kind.rawValue) is a registry entry; use `packledger party`", at: at)
        }
        if hasSignature {
            guard let keyID = record.object["key_id"]?.stringValue, keyID.utf8.count == 16, Hex.decode(keyID) != nil,
                  let sig = record.object["signature"]?.stringValue.flatMap({ Base64.decode($0) }), sig.count == 64 else {
                throw LedgerError(.malformed, "a signed line needs key_id (16 hex digits) and signature (base64 of 64 bytes)", at: at)
            }
            if let actor, event.actor != actor {
                throw LedgerError(.malformed, "signed by \(event.actor), not --actor \(actor)", at: ErrorLocation(file: file, line: record.line, field: "actor"))
            }
            return SignedEvent(event: event, bytes: event.canonicalBytes, keyID: keyID, signature: sig)
        }
        guard let key else { throw LedgerError(.malformed, "this record is not signed", at: at) }
        do {
            return try SignedEvent(signing: event, with: key)
        } catch {
            throw error.located(file: file, line: record.line)
        }
    }

    /// The JSON Lines form of a signed event: its members plus `key_id` and `signature`,
    /// as RFC 8785 JSON.
    public static func signedLine(_ signed: SignedEvent) -> [UInt8] {
        guard case .object(var members) = signed.event.json else { return [] }
        members["key_id"] = .string(signed.keyID)
        members["signature"] = .string(Base64.encode(signed.signature))
        return CanonicalJSON.encode(.object(members)) + [0x0a]
    }

    /// Signs every record of `reader` as `actor` with `key`, writing signed lines to `write`.
    /// Nothing is written unless every record is valid: output is produced chunk by chunk only
    /// after the chunk checked out, and an error stops at the offending line.
    public static func sign(_ reader: RecordReader, actor: String, key: Ed25519PrivateKey, chunkSize: Int = 4096,
                            write: ([UInt8]) -> Void, progress: ((IngestProgress) -> Void)? = nil) throws(LedgerError) -> Int {
        let start = Date()
        var count = 0
        while true {
            var chunk: [InputRecord] = []
            while chunk.count < chunkSize, let record = try reader.next() { chunk.append(record) }
            if chunk.isEmpty { break }
            let file = reader.name
            let signed = try parallelMap(chunk) { record throws(LedgerError) in
                guard record.object["signature"] == nil, record.object["key_id"] == nil else {
                    throw LedgerError(.malformed, "this line is already signed", at: ErrorLocation(file: file, line: record.line))
                }
                return try signedEvent(record, actor: actor, key: key, file: file)
            }
            write(signed.flatMap(signedLine))
            count += chunk.count
            progress?(IngestProgress(records: count, bytesRead: reader.progress.read, totalBytes: reader.progress.total, elapsed: Date().timeIntervalSince(start)))
        }
        return count
    }

    /// Maps in parallel on all cores, preserving order; the first error (by position) wins.
    static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) throws(LedgerError) -> R) throws(LedgerError) -> [R] {
        let slots = ParallelSlots<R>(items.count)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < items.count {
                let r: Result<R, LedgerError>
                do throws(LedgerError) { r = .success(try transform(items[i])) } catch { r = .failure(error) }
                slots.results[i] = r
                i += workers
            }
        }
        var out: [R] = []
        out.reserveCapacity(items.count)
        for r in slots.results {
            switch r {
            case .success(let v)?: out.append(v)
            case .failure(let e)?: throw e
            case nil: throw LedgerError(.storage, "internal: a parallel task did not finish")
            }
        }
        return out
    }
}

/// Result slots that parallel workers fill at distinct indexes (never the same one), which is
/// why unsynchronised access is safe here.
final class ParallelSlots<R: Sendable>: @unchecked Sendable {
    var results: [Result<R, LedgerError>?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

extension Ledger {
    /// Imports a whole file in one transaction: every record is appended or, at the first bad
    /// one, nothing is and the error names its line. Records already in the ledger with the same
    /// content are skipped, so importing a file twice adds nothing the second time.
    public func importRecords(from reader: RecordReader, actor: String? = nil, key: Ed25519PrivateKey? = nil, chunkSize: Int = 4096,
                              progress: ((IngestProgress) -> Void)? = nil) throws(LedgerError) -> ImportSummary {
        let start = Date()
        return try db.writeTransaction { () throws(LedgerError) -> ImportSummary in
            var summary = ImportSummary()
            var keys: [String: KeyState] = [:]
            while true {
                var chunk: [InputRecord] = []
                while chunk.count < chunkSize, let record = try reader.next() { chunk.append(record) }
                if chunk.isEmpty { break }
                let file = reader.name
                let signed = try Ingest.parallelMap(chunk) { record throws(LedgerError) in
                    try Ingest.signedEvent(record, actor: actor, key: key, file: file)
                }
                // Keys cannot change during an import (registry entries are not imported), so
                // signatures are checked up front on all cores; the rules then only look up
                // the verdict.
                for s in signed where keys[s.keyID] == nil {
                    if let k = try state.key(s.keyID) { keys[s.keyID] = k }
                }
                let known = keys
                let verdicts = try Ingest.parallelMap(signed) { s throws(LedgerError) -> Bool? in
                    guard let k = known[s.keyID] else { return nil }
                    return k.publicKey.isValidSignature(s.signature, for: Event.signedMessage(s.bytes))
                }
                for (i, s) in signed.enumerated() {
                    let result: AppendResult
                    do throws(LedgerError) {
                        result = try appendInTransaction(s, signatureValid: verdicts[i])
                    } catch {
                        throw error.located(file: reader.name, line: chunk[i].line)
                    }
                    if result.isNew {
                        summary.appended += 1
                        if summary.firstSeq == nil { summary.firstSeq = result.seq }
                        summary.lastSeq = result.seq
                    } else {
                        summary.duplicates += 1
                    }
                }
                summary.records += chunk.count
                progress?(IngestProgress(records: summary.records, bytesRead: reader.progress.read, totalBytes: reader.progress.total,
                                         elapsed: Date().timeIntervalSince(start)))
            }
            return summary
        }
    }
}
