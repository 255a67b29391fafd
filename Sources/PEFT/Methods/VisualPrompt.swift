import Models
import NN
import Tensor

/// Visual prompting — Bahng et al., 2022, "Exploring Visual Prompts for Adapting Large-Scale
/// Models" (the `PadPrompter`). A learned pixel-space frame of width p added to the border of
/// the (normalised) input image before the backbone; the centre stays as it is:
///     x ← x + P,  P = [top; left | 0 | right; bottom]  (the four pads, zeros inside).
/// Backbones: transformer backbones (ViT, Swin) and EfficientNet-Lite (it acts on the input
/// image; other backbones are refused by name). Site: input — the image entering the first
/// convolution (the patch embedding `patch_embed.proj`, EfficientNet `_conv_stem`), as a hook on
/// that conv's input.
/// Tensors (as the official code, batch axis 1): `prompt.pad_top`, `prompt.pad_bottom`
/// [1, C, p, S], `prompt.pad_left`, `prompt.pad_right` [1, C, S − 2p, p], with S the backbone's
/// input size (inputs must be S×S) and C its input channels.
/// Params: 2·C·p·S + 2·C·p·(S − 2p) = 2·C·p·(2S − 2p); for C = 3 and a square S×S input
/// 12·p·(S − p): 69,840 at S 224, p 30 (the paper's default).
/// `pad` 0 (the default) means p = round(30·S / 224): 30 at 224, 51 at 384, 2 at the test ViT's 16.
/// Init: N(0, 1) (torch.randn, as the official code). Not mergeable: conv(x + P) adds conv(P),
/// which varies over positions (and through padding), not a per-channel bias. Not cacheable.
public struct VisualPrompt: PEFTMethod {
    public static let name = "visual_prompt"
    public static let summary = "Visual prompting (Bahng et al. 2022): a learned pixel-space padding frame added to the input"
    public static let sites = "input (image before the first conv)"
    public static let mergeable = false
    /// Frame width in pixels; 0 = round(30·S / 224) for the backbone's input size S.
    public var pad = 0
    public init() {}

    /// The frame width on `backbone`.
    func padWidth(for backbone: any Backbone) -> Int {
        pad > 0 ? pad : max(1, Int((30 * Double(backbone.inputSize) / 224).rounded()))
    }

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(pad >= 0, Self.name, "pad", pad, "must be ≥ 0 (0: 30 pixels at 224, scaled with the input size)")
        let size = backbone.inputSize, p = padWidth(for: backbone)
        try MethodOptionError.require(2 * p < size, Self.name, "pad", pad, "the frame (\(p) pixels a side) must leave part of the \(size)×\(size) input uncovered")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let conv: Conv2d, channels: Int
        switch try model.family(for: Self.name) {
        case .transformer:
            guard let patch = model.backbone.patchEmbedding?.conv else {
                throw MethodOptionError("\(Self.name): \(model.backbone.architecture) has no patch-embedding convolution to put the frame before")
            }
            (conv, channels) = (patch, patch.weight.shape[1])
        case .efficientNet(let net): (conv, channels) = (net.convStem, net.config.inChans)
        }
        let size = model.backbone.inputSize, p = padWidth(for: model.backbone)
        func pad(_ side: String, _ shape: [Int]) -> Tensor {
            model.register("prompt.pad_\(side)", Tensor.normal(shape, using: &rng))
        }
        let top = pad("top", [1, channels, p, size]), bottom = pad("bottom", [1, channels, p, size])
        let left = pad("left", [1, channels, size - 2 * p, p]), right = pad("right", [1, channels, size - 2 * p, p])
        conv.hooks.append(PaddingPrompt(top: top, bottom: bottom, left: left, right: right, size: size))
    }
}

/// The layer sees x + P, P the frame of the four pads around a zero centre.
final class PaddingPrompt: LayerHook {
    let top: Tensor, bottom: Tensor, left: Tensor, right: Tensor, size: Int
    init(top: Tensor, bottom: Tensor, left: Tensor, right: Tensor, size: Int) {
        (self.top, self.bottom, self.left, self.right, self.size) = (top, bottom, left, right, size)
    }

    /// P [1, C, S, S].
    var prompt: Tensor {
        let (c, p) = (top.shape[1], top.shape[2])
        let middle = Tensor.zeros([1, c, size - 2 * p, size - 2 * p])
        return concat([top, concat([left, middle, right], dim: 3), bottom], dim: 2)
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == top.shape[1] && x.shape[2] == size && x.shape[3] == size,
                     "visual_prompt: input \(x.shape) is not [B, \(top.shape[1]), \(size), \(size)], the size the prompt was made for")
        return next(x + prompt)
    }
}
