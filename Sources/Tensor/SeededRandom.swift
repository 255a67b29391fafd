import Foundation

/// The project's random number generator: xoshiro256** (Blackman & Vigna), seeded through
/// SplitMix64. Same seed → same sequence on every run and machine (it uses only integer
/// arithmetic and IEEE float conversions). Every random choice in V-PEFT Bench — init, data
/// order, dropout, augmentation — draws from a `SeededRandom` derived from the run's seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    /// A second normal value from the last Box–Muller pair.
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// An independent stream for a named purpose (e.g. "init", "data", "dropout"), so adding
    /// draws in one place does not shift another.
    public func derived(_ purpose: String) -> SeededRandom {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 // FNV-1a over the purpose, mixed with our state
        for byte in purpose.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SeededRandom(seed: h ^ s.0 ^ (s.2 << 1))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Float {
        if let v = spareNormal { spareNormal = nil; return v }
        var u1: Double
        repeat { u1 = Double(next() >> 11) * 0x1p-53 } while u1 == 0
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = Float(r * Foundation.sin(2 * .pi * u2))
        return Float(r * Foundation.cos(2 * .pi * u2))
    }

    /// Uniform integer in 0..<n.
    public mutating func nextInt(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }
}

extension Tensor {
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout SeededRandom) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = low + (high - low) * rng.nextUniform() }
        return t
    }

    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout SeededRandom) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = mean + std * rng.nextNormal() }
        return t
    }

    /// Normal(mean, std) truncated to [a, b] (absolute bounds, as timm's `trunc_normal_`),
    /// drawn by rejection; the distribution equals timm's, the individual numbers do not.
    public static func truncatedNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, a: Float = -2, b: Float = 2,
                                       using rng: inout SeededRandom) -> Tensor {
        precondition(a < b && std > 0, "truncatedNormal: need a < b and std > 0 (a \(a), b \(b), std \(std))")
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count {
            var v: Float
            repeat { v = mean + std * rng.nextNormal() } while v < a || v > b
            t.data[i] = v
        }
        return t
    }
}
