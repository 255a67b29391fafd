import Tensor

/// The random streams of data loading, derived from (seed, epoch[, sample]) alone: epoch e's
/// order and each sample's augmentation are the same whichever thread computes them, however
/// many threads there are, and whether or not the run was resumed at epoch e.
public enum EpochOrder {
    /// SplitMix64's finaliser folded over the inputs: distinct inputs give unrelated seeds.
    static func mix(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0x6A09_E667_F3BC_C909
        for v in values {
            h ^= v &+ 0x9E37_79B9_7F4A_7C15 &+ (h << 6) &+ (h >> 2)
            h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
        }
        return h
    }

    private static let orderStream: UInt64 = 0x6F72_6465_72   // "order"
    private static let augmentStream: UInt64 = 0x6175_676D_656E_74   // "augment"

    /// Sample indices 0..<count in epoch `epoch`'s order (Fisher–Yates), or in order when not
    /// shuffling.
    public static func permutation(count: Int, seed: UInt64, epoch: Int, shuffle: Bool) -> [Int] {
        var order = Array(0..<count)
        guard shuffle, count > 1 else { return order }
        var rng = SeededRandom(seed: mix(seed, orderStream, UInt64(bitPattern: Int64(epoch))))
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.nextInt(i + 1))
        }
        return order
    }

    /// The augmentation stream of sample `index` in epoch `epoch`.
    public static func augmentationRandom(seed: UInt64, epoch: Int, index: Int) -> SeededRandom {
        SeededRandom(seed: mix(seed, augmentStream, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index))))
    }
}
