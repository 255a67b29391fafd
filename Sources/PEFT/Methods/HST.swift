import Models
import NN
import Tensor

/// HST — Lin et al., 2023 (Hierarchical Side-Tuning), as the official AFeng-x/HST code
/// (`models/vit_hsn.py`, `vit_custom_modules.py` @661c02b) defines it:
/// (a) before every block l a learnable meta token M_l is prepended (before the class token, no
///     position embedding); after the block its output m_l is kept and the token removed;
/// (b) a hierarchical side network reads the raw (normalised) image: a stem (conv3×3 s2 no bias →
///     BatchNorm → ReLU → conv2×2 s2 → LN, eps 1e-5: image/4 × c₀), then per stage s ≥ 1 a
///     conv3×3 s2 p1 → LN (eps 1e-5); stage s holds n_s side blocks, block b fed by backbone layer
///     l = Σ_{t<s} n_t + b. With the stage's bridge B_s = Linear(d, c_s) (one per stage):
///         f  = B_s(bilinear(patch grid of layer l, stage size))      (align_corners false)
///         kv = [LN_l(B_s(m_l)); mean of f]                          (2 tokens)
///         z ← z + DP(proj(MHA(q = LN1 z, k/v = kv)));  z ← z + f;  z ← z + DP(MLP(LN2 z))
///     (q, k, v, proj Linear(c, c) with biases, H_s heads, MLP 4c with exact GELU, LN eps 1e-6);
///     every stage ends with a LayerNorm (eps 1e-6);
/// (c) head: mean of the last stage's tokens → BatchNorm1d (no affine, eps 1e-6) → Linear(c_last,
///     classes) (the head replaces the backbone's; the backbone's final norm is unused).
/// The backbone's block LayerNorms train too. Side drop-path follows the backbone's per-layer rates
/// (linspace over the L layers, as HST's over the Σn_s = L side blocks); the frozen backbone keeps
/// its own drop-path while training, as HST runs it. BatchNorms use batch statistics while
/// training (running statistics updated with momentum 0.1, unbiased variance) and the running
/// statistics in evaluation; those are the method's state (`hst.*.running_mean/var`), saved with
/// the adapter. The bridge is applied before the resize (equal: a bilinear resize is a convex
/// combination). Init as HST: linears trunc-normal 0.02, zero bias; convs N(0, 2/fan_out); norms
/// 1/0; meta tokens xavier-uniform of [1, 1, d]. The layout follows the official code where the
/// paper is looser (one bridge per stage, not per layer; per-layer meta LayerNorms; stage
/// embeddings and norms), which is what gives the count below: docs/methods.md, "HST".
/// Not cacheable (meta tokens and LayerNorms change every backbone activation).
/// Sites: patch_embed (reads the image), blockInput(l), output(l), features, head. Backbones: ViT (meta
/// tokens in the global sequence, a side network at one width; Swin is refused by name).
/// Params (ViT-B/16, widths 32/48/64/72, 3 blocks per stage, backbone LNs included): 764,840.
public struct HST: PEFTMethod {
    public static let name = "hst"
    public static let summary = "HST (Lin et al. 2023): meta tokens + hierarchical side network bridged from every layer"
    public static let sites = "patch_embed (image), blockInput(l), output(l), features, head"
    public static let mergeable = false
    public var widths = [32, 48, 64, 72]
    public var heads = [2, 4, 8, 12]
    public var blocksPerStage = [3, 3, 3, 3]
    public var mlpRatio: Float = 4
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(!widths.isEmpty && widths.count == heads.count && widths.count == blocksPerStage.count,
                                      Self.name, "widths/heads/blocks_per_stage", (widths, heads, blocksPerStage), "need one entry per stage each")
        try MethodOptionError.require(zip(widths, heads).allSatisfy { $0 > 0 && $1 > 0 && $0 % $1 == 0 }, Self.name, "heads", heads, "must divide the widths \(widths)")
        try MethodOptionError.require(blocksPerStage.allSatisfy { $0 > 0 }, Self.name, "blocks_per_stage", blocksPerStage, "must be positive")
        try MethodOptionError.require(mlpRatio > 0, Self.name, "mlp_ratio", mlpRatio, "must be positive")
        guard let vit = backbone as? VisionTransformer else { return }
        try MethodOptionError.require(blocksPerStage.reduce(0, +) == vit.blocks.count, Self.name, "blocks_per_stage", blocksPerStage,
                                      "must add up to the backbone's \(vit.blocks.count) blocks (each side block is fed by one layer)")
    }

    public func validateState(of model: PEFTModel) throws {
        for (name, tensor) in model.stateTensors {
            guard tensor.scalars.allSatisfy({ $0.isFinite && (!name.hasSuffix("running_var") || $0 >= 0) }) else {
                throw MethodOptionError("state tensor '\(name)': running statistics must be finite (variances ≥ 0)")
            }
        }
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "its meta tokens join the global token sequence and its side network reads every block at one width")
        let d = vit.config.embedDim
        model.unfreeze { name in name.hasPrefix("blocks.") && (name.contains(".norm1.") || name.contains(".norm2.")) }
        func truncated(_ shape: [Int]) -> Tensor { Tensor.truncatedNormal(shape, std: 0.02, a: -2, b: 2, using: &rng) }
        func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int) -> Linear {
            model.registerLinear(name, weight: truncated([outFeatures, inFeatures]), bias: Tensor.zeros([outFeatures]))
        }
        func norm(_ name: String, _ c: Int, eps: Float) -> LayerNorm { model.registerLayerNorm(name, c, eps: eps) }
        func conv(_ name: String, _ inC: Int, _ outC: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) -> Conv2d {
            let weight = Tensor.normal([outC, inC, kernel, kernel], std: (2 / Float(kernel * kernel * outC)).squareRoot(), using: &rng)
            return Conv2d(weight: model.register("\(name).weight", weight, role: .linearWeight),
                          bias: bias ? model.register("\(name).bias", Tensor.zeros([outC]), role: .linearBias) : nil,
                          stride: (stride, stride), padding: padding > 0 ? .explicit(top: padding, bottom: padding, left: padding, right: padding) : .none)
        }
        func batchNorm(_ name: String, _ c: Int, eps: Float, affine: Bool) -> SideBatchNorm {
            SideBatchNorm(weight: affine ? model.register("\(name).weight", Tensor.ones([c])) : nil,
                          bias: affine ? model.register("\(name).bias", Tensor.zeros([c])) : nil,
                          runningMean: model.registerState("\(name).running_mean", Tensor.zeros([c])),
                          runningVar: model.registerState("\(name).running_var", Tensor.ones([c])), eps: eps)
        }

        let side = HierarchicalSide(prefixTokens: vit.config.prefixTokens, grid: vit.config.gridSize)
        let metaBound = (3 / Float(d)).squareRoot()
        side.meta = vit.blocks.indices.map { model.register("hst.meta.\($0)", Tensor.uniform([1, d], low: -metaBound, high: metaBound, using: &rng)) }
        let c0 = widths[0]
        side.stem = (conv("hst.stem.conv1", 3, c0, kernel: 3, stride: 2, padding: 1, bias: false), batchNorm("hst.stem.bn", c0, eps: 1e-5, affine: true),
                     conv("hst.stem.conv2", c0, c0, kernel: 2, stride: 2, padding: 0, bias: true), norm("hst.stem.norm", c0, eps: 1e-5))
        var layer = 0
        for (s, (c, n)) in zip(widths, blocksPerStage).enumerated() {
            let embed = s == 0 ? nil : (conv("hst.stages.\(s).embed.conv", widths[s - 1], c, kernel: 3, stride: 2, padding: 1, bias: true),
                                        norm("hst.stages.\(s).embed.norm", c, eps: 1e-5))
            let bridge = linear("hst.bridges.\(s)", d, c)
            let hidden = Int(Float(c) * mlpRatio)
            var blocks: [SideBlock] = []
            for b in 0..<n {
                let p = "hst.stages.\(s).blocks.\(b)"
                blocks.append(SideBlock(metaNorm: norm("hst.meta_norms.\(layer + b)", c, eps: 1e-5), norm1: norm("\(p).norm1", c, eps: 1e-6),
                                        q: linear("\(p).attn.q", c, c), k: linear("\(p).attn.k", c, c), v: linear("\(p).attn.v", c, c),
                                        proj: linear("\(p).attn.proj", c, c), heads: heads[s], norm2: norm("\(p).norm2", c, eps: 1e-6),
                                        fc1: linear("\(p).mlp.fc1", c, hidden), fc2: linear("\(p).mlp.fc2", hidden, c), layer: layer + b))
            }
            side.stages.append(SideStage(embed: embed, bridge: bridge, blocks: blocks, norm: norm("hst.stages.\(s).norm", c, eps: 1e-6)))
            layer += n
        }
        side.headNorm = batchNorm("hst.head_norm", widths[widths.count - 1], eps: 1e-6, affine: false)
        side.dropPath = { [weak vit] in vit?.blocks[$0].dropPath ?? 0 }   // weak: the hooks live in vit

        vit.head = Linear(weight: truncated([model.classes, widths[widths.count - 1]]), bias: Tensor.zeros([model.classes]))
        vit.head!.setTrainable(true)

        vit.patchEmbed.proj.hooks.append(ImageTap(side: side))
        var stageOf: [Int] = []
        for (s, n) in blocksPerStage.enumerated() { stageOf += Array(repeating: s, count: n) }
        for (l, block) in vit.blocks.enumerated() {
            block.hooks.input.append(MetaTokenInsertion(side: side, layer: l))
            block.hooks.output.append(SideStep(side: side, layer: l, stage: stageOf[l], first: l == 0 || stageOf[l - 1] != stageOf[l],
                                               last: l == vit.blocks.count - 1 || stageOf[l + 1] != stageOf[l]))
        }
        vit.featureHooks.append(SideHead(side: side))
    }
}

/// The side network's modules and its state within one forward pass (forwards of one model run
/// one at a time, as everywhere in the project).
final class HierarchicalSide {
    let prefixTokens: Int, grid: Int
    var meta: [Tensor] = []
    var stem: (conv1: Conv2d, bn: SideBatchNorm, conv2: Conv2d, norm: LayerNorm)!
    var stages: [SideStage] = []
    var headNorm: SideBatchNorm!
    var dropPath: (Int) -> Float = { _ in 0 }
    // Per pass:
    var image: Tensor?
    /// The current stage's tokens [B, H·W, c] and grid size.
    var tokens: Tensor?
    var size = (height: 0, width: 0)

    init(prefixTokens: Int, grid: Int) { (self.prefixTokens, self.grid) = (prefixTokens, grid) }
}

struct SideStage {
    let embed: (conv: Conv2d, norm: LayerNorm)?
    let bridge: Linear
    let blocks: [SideBlock]
    let norm: LayerNorm
}

/// One side block: cross-attention of the stage's tokens to [meta token; mean of the bridged
/// grid], the bridged grid added, then an MLP.
struct SideBlock {
    let metaNorm: LayerNorm, norm1: LayerNorm
    let q: Linear, k: Linear, v: Linear, proj: Linear
    let heads: Int
    let norm2: LayerNorm, fc1: Linear, fc2: Linear
    let layer: Int

    func callAsFunction(_ z: Tensor, bridged f: Tensor, meta: Tensor, dropPath: Float, context: inout ForwardContext) -> Tensor {
        let (b, n, c) = (z.shape[0], z.shape[1], z.shape[2]), dh = c / heads
        let kv = concat([metaNorm(meta), f.mean(dims: [1], keepDims: true)], dim: 1)          // [B, 2, c]
        func split(_ x: Tensor) -> Tensor { x.reshaped([b, x.shape[1], heads, dh]).transposed(1, 2) }
        let mixed = attention(split(q(norm1(z))), split(k(kv)), split(v(kv)), scale: 1 / Float(dh).squareRoot())
            .transposed(1, 2).reshaped([b, n, c])
        var z = z + proj(mixed).dropPath(dropPath, training: context.options.training, using: &context.rng)
        z = z + f
        return z + fc2(fc1(norm2(z)).gelu()).dropPath(dropPath, training: context.options.training, using: &context.rng)
    }
}

/// BatchNorm over all axes but the channel axis (1): batch statistics while training (running
/// statistics updated, momentum 0.1, unbiased variance), running statistics otherwise.
struct SideBatchNorm {
    let weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor, eps: Float
    let momentum: Float = 0.1

    func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        let c = x.shape[1]
        let axes = [0] + Array(2..<x.rank)
        var shape = [Int](repeating: 1, count: x.rank)
        shape[1] = c
        guard training else {
            return batchNormInference(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, eps: eps)
        }
        let mean = x.mean(dims: axes, keepDims: true)
        let centered = x - mean
        let variance = centered.squared().mean(dims: axes, keepDims: true)
        var y = centered / variance.adding(eps).sqrt()
        if let weight { y = y * weight.reshaped(shape) }
        if let bias { y = y + bias.reshaped(shape) }
        let count = Float(x.count / c)
        withoutGradients {
            let (m, v) = (mean.scalars, variance.scalars)
            for i in 0..<c {
                runningMean.data[i] = (1 - momentum) * runningMean.data[i] + momentum * m[i]
                runningVar.data[i] = (1 - momentum) * runningVar.data[i] + momentum * v[i] * count / max(count - 1, 1)
            }
        }
        return y
    }
}

/// Keeps the image the patch embedding reads: the side network's input.
final class ImageTap: LayerHook {
    let side: HierarchicalSide
    init(side: HierarchicalSide) { self.side = side }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        side.image = x
        return next(x)
    }
}

/// [M_l; x] before block l.
final class MetaTokenInsertion: TokenHook {
    let side: HierarchicalSide, layer: Int
    init(side: HierarchicalSide, layer: Int) { (self.side, self.layer) = (side, layer) }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, d) = (x.shape[0], x.shape[2])
        return concat([side.meta[layer].reshaped([1, 1, d]).expanded(to: [b, 1, d]), x], dim: 1)
    }
}

/// After block l: the side block fed by layer l (starting the stage from the image or the
/// previous stage first, ending it with the stage norm); the meta token is removed.
final class SideStep: TokenHook {
    let side: HierarchicalSide, layer: Int, stage: Int, first: Bool, last: Bool
    init(side: HierarchicalSide, layer: Int, stage: Int, first: Bool, last: Bool) {
        (self.side, self.layer, self.stage, self.first, self.last) = (side, layer, stage, first, last)
    }

    /// [B, c, H, W] → tokens [B, H·W, c] and the grid size.
    private func tokens(_ grid: Tensor) -> Tensor {
        side.size = (grid.shape[2], grid.shape[3])
        return grid.flattened(from: 2).transposed(1, 2)
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, n) = (x.shape[0], x.shape[1])
        let training = context.options.training
        let current = side.stages[stage]
        if first {
            if let embed = current.embed {
                let (h, w) = side.size, c = side.tokens!.shape[2]
                side.tokens = embed.norm(tokens(embed.conv(side.tokens!.transposed(1, 2).reshaped([b, c, h, w]))))
            } else {
                let stem = side.stem!
                side.tokens = stem.norm(tokens(stem.conv2(stem.bn(stem.conv1(side.image!), training: training).relu())))
                side.image = nil
            }
        }
        let meta = x.narrowed(1, start: 0, length: 1)
        let patches = x.narrowed(1, start: 1 + side.prefixTokens, length: n - 1 - side.prefixTokens)    // [B, Hv·Wv, d]
        let c = current.bridge.outFeatures
        let grid = current.bridge(patches).transposed(1, 2).reshaped([b, c, side.grid, side.grid])
        let bridged = resize(grid, to: side.size, filter: .bilinear).flattened(from: 2).transposed(1, 2)
        let block = current.blocks[layer - current.blocks[0].layer]
        side.tokens = block(side.tokens!, bridged: bridged, meta: current.bridge(meta), dropPath: side.dropPath(layer), context: &context)
        if last { side.tokens = current.norm(side.tokens!) }
        return x.narrowed(1, start: 1, length: n - 1)
    }
}

/// The pooled feature: BatchNorm1d(mean of the last stage's tokens); releases the pass's state.
final class SideHead: TokenHook {
    let side: HierarchicalSide
    init(side: HierarchicalSide) { self.side = side }

    func callAsFunction(_ pooled: Tensor, context: inout ForwardContext) -> Tensor {
        let z = side.tokens!
        side.tokens = nil
        return side.headNorm(z.mean(dims: [1]), training: context.options.training)
    }
}
