import Models
import NN
import Tensor

/// DTL — Fu et al., AAAI 2024 (Disentangled Transfer Learning): a compact side path beside the
/// frozen blocks. Block l's input x_l feeds a low-rank map B_l A_l (A: r×d kaiming-uniform,
/// B: d×r zeros); the running sum R_l = Σ_{i≤l} B_i A_i x_i is added back after every block
/// l ≥ `start` as swish_β(R_l) = R_l·σ(β R_l), β = 100. The classifier reads the mean of the
/// patch tokens through the frozen final LayerNorm (DTL's head), not the class token, so the
/// model is not the plain backbone at init even though B = 0.
/// Sites: input(l), output(l ≥ start), features. Backbones: ViT (its side path has one width; Swin is
/// refused by name). Params 2·d·r·L;
/// ViT-B/16, r 2: 36,864. Training: DTL's released scripts (train_scripts/vit/vtab/*/train_dtl.sh)
/// use AdamW with weight decay 0.05, not 0 (docs/fidelity.md; no configs/methods/dtl.yaml yet).
public struct DTL: PEFTMethod {
    public static let name = "dtl"
    public static let summary = "DTL (Fu et al. 2024): low-rank side path added back to the late blocks"
    public static let sites = "input(l), output(l ≥ start), features"
    public static let mergeable = false
    public var rank = 2
    public var start = 6
    public var beta: Float = 100
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(rank > 0, Self.name, "rank", rank, "must be positive")
        try MethodOptionError.require(beta > 0, Self.name, "beta", beta, "must be positive")
        guard let depth = (backbone as? VisionTransformer)?.blocks.count else { return }
        try MethodOptionError.require((0..<depth).contains(start), Self.name, "start", start, "must be a block index in 0..<\(depth)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "its side path carries one width from block to block")
        let d = vit.config.embedDim
        let path = SidePath()
        for (l, block) in vit.blocks.enumerated() {
            let a = model.register("blocks.\(l).dtl.A", Initialiser.kaimingUniform([rank, d], fanIn: d, using: &rng), role: .linearWeight)
            let b = model.register("blocks.\(l).dtl.B", Tensor.zeros([d, rank]), role: .linearWeight)
            block.hooks.input.append(SidePathRead(path: path, a: a, b: b, first: l == 0))
            if l >= start { block.hooks.output.append(SidePathWrite(path: path, beta: beta)) }
        }
        vit.blocks[vit.blocks.count - 1].hooks.output.append(SidePathKeepLast(path: path))
        vit.featureHooks.append(PatchMeanHead(path: path, norm: vit.finalNorm.layer, prefixTokens: vit.config.prefixTokens))
    }
}

/// The side path's state within one forward pass: R_l so far and the last block's output (forwards
/// of one model run one at a time, as everywhere in the project).
final class SidePath {
    var sum: Tensor?
    var last: Tensor?
}

/// At block l's input: R_l = R_{l-1} + B_l A_l x_l.
final class SidePathRead: TokenHook {
    let path: SidePath, a: Tensor, b: Tensor, first: Bool
    init(path: SidePath, a: Tensor, b: Tensor, first: Bool) { (self.path, self.a, self.b, self.first) = (path, a, b, first) }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let term = matmul(matmul(x, a, transposeB: true), b, transposeB: true)
        path.sum = first ? term : path.sum! + term
        return x
    }
}

/// After block l ≥ start: x + swish_β(R_l).
final class SidePathWrite: TokenHook {
    let path: SidePath, beta: Float
    init(path: SidePath, beta: Float) { (self.path, self.beta) = (path, beta) }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor { x + path.sum!.silu(beta: beta) }
}

/// Keeps the last block's (un-normalised) output for DTL's head.
final class SidePathKeepLast: TokenHook {
    let path: SidePath
    init(path: SidePath) { self.path = path }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        path.last = x
        return x
    }
}

/// DTL's pooled feature, LN(mean of the patch tokens), in place of the backbone's pooling; the
/// pass's state is released here so no graph outlives it.
final class PatchMeanHead: TokenHook {
    let path: SidePath, norm: LayerNorm, prefixTokens: Int
    init(path: SidePath, norm: LayerNorm, prefixTokens: Int) { (self.path, self.norm, self.prefixTokens) = (path, norm, prefixTokens) }

    func callAsFunction(_ pooled: Tensor, context: inout ForwardContext) -> Tensor {
        let x = path.last!
        (path.sum, path.last) = (nil, nil)
        return norm(x.narrowed(1, start: prefixTokens, length: x.shape[1] - prefixTokens).mean(dims: [1]))
    }
}
