import Tensor

/// `nn.ConvTranspose2d` over NCHW (no padding): weight [in, out, kh, kw], as PyTorch stores it,
/// so checkpoints load by name. Dense necks upsample a ViT's maps with it.
public final class ConvTranspose2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: (Int, Int)

    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int)) {
        self.weight = weight
        self.bias = bias
        self.stride = stride
    }

    /// PyTorch's default init: weight and bias uniform ±1/√fan-in, where PyTorch takes the
    /// fan-in of a transposed conv's weight from its dimension 1 (out · kh · kw).
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int, using rng: inout SeededRandom) {
        let bound = 1 / Float(outChannels * kernel * kernel).squareRoot()
        self.init(weight: Tensor.uniform([inChannels, outChannels, kernel, kernel], low: -bound, high: bound, using: &rng),
                  bias: Tensor.uniform([outChannels], low: -bound, high: bound, using: &rng), stride: (stride, stride))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { conv2dTransposed(x, weight, bias, stride: stride) }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
