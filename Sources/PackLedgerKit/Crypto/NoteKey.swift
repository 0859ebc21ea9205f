/// C2SP signed-note key identities for Ed25519 (signature type 0x01).
public enum NoteKey {
    /// Key ID = first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
    public static func keyID(name: String, key: Ed25519PublicKey) -> [UInt8] {
        Array(SHA256.hash(Array(name.utf8), [0x0a, 0x01], key.raw).bytes.prefix(4))
    }

    /// The verifier key string `NAME+KEYID+BASE64(0x01 ‖ key)` that regulators pin.
    public static func verifierKey(name: String, key: Ed25519PublicKey) -> String {
        "\(name)+\(Hex.encode(keyID(name: name, key: key)))+\(Base64.encode([0x01] + key.raw))"
    }
}
