import NN
import Tensor

/// PSPNet's pyramid pooling on the last backbone map: for each scale s, adaptive average pooling
/// to s×s, a 1×1 conv–BN–ReLU, and bilinear upsampling back to the map's size. Names follow
/// Hugging Face (`psp_modules.{i}.1.…`: item 0 of each block is the parameter-free pooling).
public final class PyramidPoolingModule: Module {
    public let scales: [Int]
    public let blocks: [ConvNormReLU]

    public init(scales: [Int], inChannels: Int, channels: Int, using rng: inout SeededRandom) {
        self.scales = scales
        blocks = scales.map { _ in ConvNormReLU(inChannels, channels, kernel: 1, using: &rng) }
    }

    /// One [B, channels, H, W] map per scale.
    public func callAsFunction(_ x: Tensor) -> [Tensor] {
        let size = (height: x.shape[2], width: x.shape[3])
        return zip(scales, blocks).map { scale, block in
            resize(block(adaptiveAvgPool2d(x, to: (scale, scale))), to: size, filter: .bilinear)
        }
    }

    public var convModules: [(name: String, module: ConvNormReLU)] { blocks.enumerated().map { ("\($0.offset).1", $0.element) } }
    public var namedParameters: [(name: String, tensor: Tensor)] { convModules.flatMap { prefixed($0.name, $0.module) } }
}
