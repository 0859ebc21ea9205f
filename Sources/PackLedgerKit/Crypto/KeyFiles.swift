import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing key files with the permissions private keys need.
public enum KeyFiles {
    /// Writes a private key as PKCS#8 PEM (mode 0600) and its public key as `PATH.pub`
    /// (SPKI PEM, mode 0644). Refuses to overwrite either file: replacing a key by
    /// accident would orphan every signature made with it.
    public static func write(_ key: Ed25519PrivateKey, to path: String) throws(LedgerError) {
        let publicPath = path + ".pub"
        for existing in [path, publicPath] where FileManager.default.fileExists(atPath: existing) {
            throw LedgerError(.conflict, "\(existing) already exists; refusing to overwrite a key file")
        }
        try writeNew(Array(key.pem.utf8), to: path, mode: 0o600)
        try writeNew(Array(key.publicKey.pem.utf8), to: publicPath, mode: 0o644)
    }

    /// Creates `path` exclusively with `mode` and writes `bytes` durably.
    static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t) throws(LedgerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw LedgerError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have narrowed the mode; set it exactly.
        fchmod(fd, mode)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                throw LedgerError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            throw LedgerError(.storage, "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws(LedgerError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LedgerError(.notFound, "cannot read \(path)", at: ErrorLocation(file: path))
        }
        return [UInt8](data)
    }

    /// Whether a key file can be read by its group or by others: a private key should be 0600.
    public static func isExposed(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & 0o077 != 0
    }

    /// Loads a PEM private key file.
    public static func loadPrivateKey(_ path: String) throws(LedgerError) -> Ed25519PrivateKey {
        do {
            return try Ed25519PrivateKey(pem: read(path))
        } catch {
            throw error.located(file: path)
        }
    }

    /// Loads a PEM public key file; a private key file is accepted too and its public half used.
    public static func loadPublicKey(_ path: String) throws(LedgerError) -> Ed25519PublicKey {
        let bytes = try read(path)
        do {
            return try Ed25519PublicKey(pem: bytes)
        } catch {
            if let privateKey = try? Ed25519PrivateKey(pem: bytes) { return privateKey.publicKey }
            throw error.located(file: path)
        }
    }
}
