import Models
import NN
import Tensor

/// Conv (no bias) → BatchNorm → ReLU, the building block of UPerNet's and FCN's heads
/// (Hugging Face's `UperNetConvModule`, mmcv's `ConvModule`): names `conv.weight`,
/// `batch_norm.{weight,bias,running_mean,running_var}`.
///
/// In training mode BatchNorm normalises with the batch's statistics and updates its running
/// ones (momentum 0.1, as `nn.BatchNorm2d`); in evaluation mode it uses the running ones.
public final class ConvNormReLU: Module {
    public let conv: Conv2d
    public let batchNorm: BatchNorm2d
    public var training = false

    /// PyTorch's default conv init (uniform ±1/√fan-in) and an identity BatchNorm.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, padding: Int = 0, using rng: inout SeededRandom) {
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        conv = Conv2d(weight: Tensor.uniform([outChannels, inChannels, kernel, kernel], low: -bound, high: bound, using: &rng), bias: nil,
                      padding: .symmetric(padding, padding))
        batchNorm = BatchNorm2d(outChannels, eps: 1e-5)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        batchNorm(conv(x), training: training).relu()
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("conv", conv) + prefixed("batch_norm", batchNorm) }
    public var namedBuffers: [(name: String, tensor: Tensor)] { batchNorm.namedBuffers.map { ("batch_norm.\($0.name)", $0.tensor) } }
}
