import Models
import NN
import Tensor

/// Convpass — Jie & Deng, 2022. A convolutional bypass beside attention and MLP:
/// Backbones: transformer blocks (ViT; Swin, whose block tokens are the stage's H×W grid with no
/// class token, at each block's width); a CNN is refused by name.
///     x ← x + DropPath(attn(norm1 x)) + s·DropPath(C₁(norm1 x))   (an independent draw)
///     x ← x + DropPath(mlp(norm2 x)) + s·DropPath(C₂(norm2 x))
///     C(z) = up(Dropout(QuickGELU(conv3×3(QuickGELU(down z)))))
/// The conv runs over the patch-token grid and, separately, over the class token as a 1×1
/// image (only its centre tap acts). Sites: branch(l, attn/mlp) bypass. Init: down xavier,
/// conv identity at the centre tap (xavier with `xavier_conv`), up zero, biases zero.
/// Params per module 2·d·dim + dim + d + 9·dim² + dim; ViT-B/16, dim 8: 327,552.
/// s is per dataset (cifar 0.1, caltech 1, svhn 100, eurosat 10).
public struct Convpass: PEFTMethod {
    public static let name = "convpass"
    public static let summary = "Convpass (Jie & Deng 2022): convolutional bypasses beside attention and MLP"
    public static let sites = "branch(l, attn/mlp) bypass"
    public static let mergeable = false
    public var dim = 8
    public var scale: Float = 0.1
    public var dropout: Float = 0.1
    public var xavierConv = false
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
        try MethodOptionError.require((0..<1).contains(dropout), Self.name, "dropout", dropout, "must be in [0, 1)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width
            for site in ["attn", "mlp"] {
                let prefix = block.name("convpass_\(site)")
                let convWeight: Tensor
                if xavierConv {
                    convWeight = Initialiser.xavierUniform([dim, dim, 3, 3], fanIn: dim * 9, fanOut: dim * 9, using: &rng)
                } else {
                    convWeight = Tensor.zeros([dim, dim, 3, 3])
                    for i in 0..<dim { convWeight.data[(i * dim + i) * 9 + 4] = 1 }
                }
                let bypass = ConvBypass(
                    down: Linear(weight: model.register("\(prefix).down.weight", Initialiser.xavierUniform([dim, d], fanIn: d, fanOut: dim, using: &rng), role: .linearWeight),
                                 bias: model.register("\(prefix).down.bias", Tensor.zeros([dim]), role: .linearBias)),
                    conv: Conv2d(weight: model.register("\(prefix).conv.weight", convWeight),
                                 bias: model.register("\(prefix).conv.bias", Tensor.zeros([dim])), padding: .symmetric(1, 1)),
                    up: Linear(weight: model.register("\(prefix).up.weight", Tensor.zeros([d, dim]), role: .linearWeight),
                               bias: model.register("\(prefix).up.bias", Tensor.zeros([d]), role: .linearBias)),
                    scale: scale, block: block,
                    dropout: model.dropout, rate: dropout)
                if site == "attn" { block.hooks.attnBranch.append(bypass) } else { block.hooks.mlpBranch.append(bypass) }
            }
        }
    }
}

/// s·DropPath(C(normed)) beside a sub-layer.
final class ConvBypass: BranchHook {
    let down: Linear, conv: Conv2d, up: Linear
    let scale: Float
    /// The block it sits in, for its current drop-path rate and token grid (unowned: the block owns the hook).
    unowned let block: any TransformerBlockSite
    let dropout: DropoutSource, rate: Float

    init(down: Linear, conv: Conv2d, up: Linear, scale: Float, block: any TransformerBlockSite, dropout: DropoutSource, rate: Float) {
        (self.down, self.conv, self.up) = (down, conv, up)
        (self.scale, self.block) = (scale, block)
        (self.dropout, self.rate) = (dropout, rate)
    }

    func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor? {
        let h = down(normed).quickGelu()                                        // [B, N, dim]
        let out = up(dropout(block.tokenGrid.convolvingTokens(h, method: "Convpass") { conv($0) }.quickGelu(), rate))
        return out.dropPath(block.dropPath, training: context.options.training, using: &context.rng) * scale
    }
}
