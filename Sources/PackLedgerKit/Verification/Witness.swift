import Foundation

/// A C2SP-style witness for one log: remembers the largest consistent checkpoint it has seen
/// and cosigns (tlog-cosignature/v1, Ed25519) only checkpoints that extend it.
public struct Witness {
    /// The format tag of the state file.
    public static let format = "packledger-witness/v1"

    /// What the witness remembers, persisted as JSON.
    public struct State: Sendable, Equatable {
        /// The witness's cosigner name.
        public var name: String
        /// Path of the witness's private key file.
        public var keyFile: String
        /// The log's verifier key.
        public var log: String
        /// The largest checkpoint size seen, nil before the first.
        public var size: UInt64?
        /// Its root.
        public var root: Digest?

        var json: JSONValue {
            .object([
                "format": .string(Witness.format), "name": .string(name), "key_file": .string(keyFile), "log": .string(log),
                "size": size.map { .number(Double($0)) } ?? .null, "root": root.map { .string($0.base64) } ?? .null,
            ])
        }

        init(name: String, keyFile: String, log: String, size: UInt64?, root: Digest?) {
            self.name = name
            self.keyFile = keyFile
            self.log = log
            self.size = size
            self.root = root
        }

        init(bytes: [UInt8], path: String) throws(LedgerError) {
            let bad = LedgerError(.malformed, "not a \(Witness.format) state file", at: ErrorLocation(file: path))
            guard let json = try? JSONParser.parse(bytes), json["format"]?.stringValue == Witness.format,
                  let name = json["name"]?.stringValue, let keyFile = json["key_file"]?.stringValue, let log = json["log"]?.stringValue
            else { throw bad }
            var size: UInt64?
            var root: Digest?
            if let s = json["size"]?.doubleValue, let r = json["root"]?.stringValue {
                guard s >= 0, s == s.rounded(), s < 9.007_199_254_740_992e15, let d = Base64.decode(r).flatMap(Digest.init) else { throw bad }
                size = UInt64(s)
                root = d
            }
            self.init(name: name, keyFile: keyFile, log: log, size: size, root: root)
        }
    }

    /// Creates a state file for witnessing the log with verifier key `log`.
    public static func initialize(statePath: String, name: String, keyFile: String, log: String) throws(LedgerError) {
        guard Note.isValidName(name) else { throw LedgerError(.usage, "witness name \"\(name)\" may not contain spaces or '+'") }
        _ = try NoteVerifierKey(parsing: log)
        _ = try KeyFiles.loadPrivateKey(keyFile)
        guard !FileManager.default.fileExists(atPath: statePath) else {
            throw LedgerError(.conflict, "\(statePath) already exists; refusing to forget what this witness has seen")
        }
        let absoluteKey = URL(fileURLWithPath: keyFile).standardizedFileURL.path
        try KeyFiles.writeNew(Array(JSONPretty.render(State(name: name, keyFile: absoluteKey, log: log, size: nil, root: nil).json).utf8), to: statePath, mode: 0o600)
    }

    /// The witness's own verifier key (type 0x04), for verifiers' `--witness` lists.
    public static func verifierKey(statePath: String) throws(LedgerError) -> NoteVerifierKey {
        let state = try State(bytes: KeyFiles.read(statePath), path: statePath)
        return NoteVerifierKey(name: state.name, type: .cosignature, key: try KeyFiles.loadPrivateKey(state.keyFile).publicKey)
    }

    /// Checks `checkpointNote` against what the witness has seen and, if it is the same tree or
    /// a consistent extension (`proof` from the old size), records it and returns a cosignature
    /// line. The state is written (atomically, under a lock) before the line is returned, so a
    /// cosignature is never given for a tree the witness could later forget.
    public static func cosign(checkpointNote: [UInt8], statePath: String, proof: [Digest], now: UInt64) throws(LedgerError) -> NoteSignature {
        let lockPath = statePath + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT, 0o600)
        guard lock >= 0 else { throw LedgerError(.storage, "cannot open \(lockPath)") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw LedgerError(.storage, "cannot lock \(lockPath)") }
        defer { flock(lock, LOCK_UN) }

        var state = try State(bytes: KeyFiles.read(statePath), path: statePath)
        let logKey = try NoteVerifierKey(parsing: state.log)
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(bytes: checkpointNote, logKey: logKey)
        } catch {
            throw LedgerError(error.code, "refusing to cosign: \(error.reason)")
        }
        let new = signed.checkpoint
        if new.size == 0, new.root != Merkle.emptyRoot {
            throw LedgerError(.integrity, "refusing to cosign: a size-0 checkpoint must have the empty-tree root")
        }
        if let oldSize = state.size, let oldRoot = state.root {
            if new.size < oldSize {
                throw LedgerError(.integrity, "refusing to cosign: checkpoint size \(new.size) is older than the size \(oldSize) already witnessed")
            }
            if new.size == oldSize {
                guard new.root == oldRoot else {
                    throw LedgerError(.integrity, "refusing to cosign: a different root for size \(new.size) than the one witnessed — the log forked")
                }
            } else if oldSize > 0 {
                guard Merkle.verifyConsistency(oldSize: oldSize, newSize: new.size, oldRoot: oldRoot, newRoot: new.root, proof: proof) else {
                    throw LedgerError(.integrity, "refusing to cosign: no valid consistency proof from the witnessed size \(oldSize) to \(new.size) — the log may have forked")
                }
            }
        }
        let key = try KeyFiles.loadPrivateKey(state.keyFile)
        state.size = new.size
        state.root = new.root
        try writeAtomically(Array(JSONPretty.render(state.json).utf8), to: statePath)
        return try Note.cosign(text: signed.note.text, name: state.name, key: key, timestamp: now)
    }

    /// Write to a temporary file, fsync, rename over the target, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        let temp = path + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        try KeyFiles.writeNew(bytes, to: temp, mode: 0o600)
        guard rename(temp, path) == 0 else {
            throw LedgerError(.storage, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let dir = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
