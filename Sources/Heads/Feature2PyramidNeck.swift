import Models
import NN
import Tensor

/// mmsegmentation's `Feature2Pyramid` neck (BEiT's fpn1–fpn4, the neck of mmseg's BEiT and MAE
/// UPerNet configs): a plain ViT gives four maps at its patch stride p; UPerNet wants a pyramid.
/// The maps become strides p/4, p/2, p, 2p, finest first, channels unchanged:
///
///     map 0: `upsample_4x` = ConvTranspose 2×2/2 → BatchNorm → GELU → ConvTranspose 2×2/2
///     map 1: `upsample_2x` = ConvTranspose 2×2/2
///     map 2: identity
///     map 3: `downsample_2x` = MaxPool 2×2/2 (an odd side loses its last row and column, as in PyTorch)
///
/// Parameter names are mmseg's (`upsample_4x.0.weight`, `upsample_4x.1.running_mean`,
/// `upsample_4x.3.bias`, `upsample_2x.0.weight`); the BatchNorm (SyncBN in mmseg, eps 1e-5,
/// momentum 0.1) trains with the head: in training mode it normalises with batch statistics and
/// updates its running ones.
public final class Feature2PyramidNeck: Module {
    public let upsample4x: (first: ConvTranspose2d, norm: BatchNorm2d, second: ConvTranspose2d)
    public let upsample2x: ConvTranspose2d
    public var training = false

    /// A neck for maps of `channels` channels with PyTorch's default init.
    public init(channels: Int, using rng: inout SeededRandom) {
        upsample4x = (ConvTranspose2d(channels, channels, kernel: 2, stride: 2, using: &rng), BatchNorm2d(channels, eps: 1e-5),
                      ConvTranspose2d(channels, channels, kernel: 2, stride: 2, using: &rng))
        upsample2x = ConvTranspose2d(channels, channels, kernel: 2, stride: 2, using: &rng)
    }

    public var channels: Int { upsample2x.weight.shape[0] }

    /// A neck for a backbone's `featureInfo`: four maps of one width at one stride (a plain
    /// ViT's chosen blocks), else an error naming what differs.
    public convenience init(for maps: [StageFeatureInfo], using rng: inout SeededRandom) throws {
        guard maps.count == 4, let first = maps.first, maps.allSatisfy({ $0.channels == first.channels && $0.reduction == first.reduction }) else {
            throw ModelConfigError("Feature2PyramidNeck: needs 4 maps of one width and stride (a plain ViT's blocks), got \(maps.map { "\($0.module): \($0.channels) ch, stride \($0.reduction)" })")
        }
        self.init(channels: first.channels, using: &rng)
    }

    /// The pyramid from four maps [B, C, h, w] at one stride: [B, C, 4h, 4w], [B, C, 2h, 2w],
    /// the third map itself, [B, C, ⌊h/2⌋, ⌊w/2⌋].
    public func callAsFunction(_ maps: [Tensor]) -> [Tensor] {
        precondition(maps.count == 4 && maps.allSatisfy { $0.rank == 4 && $0.shape[1] == channels },
                     "Feature2PyramidNeck: needs 4 maps [B, \(channels), H, W], got \(maps.map(\.shape))")
        let fine = upsample4x.second(upsample4x.norm(upsample4x.first(maps[0]), training: training).gelu())
        return [fine, upsample2x(maps[1]), maps[2], maxPool2d(maps[3], kernel: (2, 2))]
    }

    /// The output strides for inputs at stride `stride` (p/4 is fractional for ViT-S/14: 3.5).
    public static func outputStrides(inputStride stride: Int) -> [Double] {
        [Double(stride) / 4, Double(stride) / 2, Double(stride), Double(stride) * 2]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("upsample_4x.0", upsample4x.first) + prefixed("upsample_4x.1", upsample4x.norm)
            + prefixed("upsample_4x.3", upsample4x.second) + prefixed("upsample_2x.0", upsample2x)
    }

    /// The BatchNorm's running statistics (buffers, not parameters).
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        upsample4x.norm.namedBuffers.map { ("upsample_4x.1.\($0.name)", $0.tensor) }
    }

    /// Training mode: BatchNorm on batch statistics, updating the running ones.
    public func setTraining(_ training: Bool) { self.training = training }
}
