import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger keygen --out FILE`
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate an Ed25519 key: FILE (PKCS#8 PEM, mode 0600) and FILE.pub.")

        @Option(help: "Private key file to write; the public key goes to FILE.pub.") var out: String

        func run() throws {
            let key = try Ed25519PrivateKey.generate()
            try KeyFiles.write(key, to: out)
            print("wrote \(out) and \(out).pub (key id \(key.publicKey.keyID))")
        }
    }
}
