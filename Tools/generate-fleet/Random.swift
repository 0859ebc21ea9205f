import Foundation

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
///
/// The generator carries its own PRNG rather than the standard library's because the fleet must
/// be byte-identical for a given seed on every machine and toolchain: `SystemRandomNumberGenerator`
/// is not seedable, and the algorithms behind `random(in:)` are not promised to stay the same.
/// Every derived value (ranges, choices, UUIDs) is computed here with plain integer and
/// floating-point arithmetic for the same reason.
struct FleetRandom {
    /// The 256-bit xoshiro state.
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Expands `seed` into the 256-bit state with SplitMix64, as the xoshiro authors recommend,
    /// so that nearby seeds (1, 2, 3…) still start from unrelated states.
    init(seed: UInt64) {
        var x = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&x)
        s1 = splitMix(&x)
        s2 = splitMix(&x)
        s3 = splitMix(&x)
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Rotates `x` left by `k` bits.
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), with the 53 bits a double holds.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform in [lo, hi) on a logarithmic scale: for sizes that span orders of magnitude
    /// (a 50 kg and a 2 t industrial battery are both common), evenly spread per decade.
    mutating func logUniform(_ lo: Double, _ hi: Double) -> Double {
        min(hi, lo * exp(log(hi / lo) * unit()))
    }

    /// Uniform in 0..<n (n > 0), by Lemire's multiply-high; the bias for the small n used here
    /// is far below anything a fleet could show.
    mutating func below(_ n: Int) -> Int {
        guard n > 1 else { return 0 }
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// One of `items` (which the generator only ever passes non-empty, from its own tables).
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// An index into `weights`, with probability proportional to its weight.
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }

    /// One of `choices`, weighted by the second element of each pair.
    mutating func weightedPick<T>(_ choices: [(T, Double)]) -> T {
        choices[weighted(choices.map(\.1))].0
    }

    /// A random (version 4, RFC 9562 variant) UUID in lowercase 8-4-4-4-12 form, drawn from
    /// this generator so that event ids repeat with the seed.
    mutating func uuid() -> String {
        let a = next(), b = next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
