import Foundation
import NN
import Tensor

/// Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022), laid out as the
/// released `SwinTransformer3D` (SwinTransformer/Video-Swin-Transformer, mmaction2) with its
/// `I3DHead`: the same modules, parameter names and forward, so a released `state_dict` loads
/// (VideoSwinTransformerLoading.swift) and outputs match.
///
///     clip [B, T, C, H, W] ─▶ patch_embed (zero-pad T, H, W to whole tubelets ─▶ Conv3d t×p×p/t×p×p
///           ─▶ LayerNorm) ─▶ layers.0 … layers.{S−1}: blocks ─▶ [downsample (PatchMerging over H, W), i < S−1]
///           ─▶ norm ─▶ mean over T, H, W ─▶ head (the released `cls_head.fc_cls`)
///
/// Maps stay channels-last [B, D, H, W, C]. Each block is
///     x = x + DropPath(attn(norm1 x));  x = x + DropPath(mlp(norm2 x))
/// with self-attention inside 3-D windows (8 × 7 × 7 tokens in the released models) and a
/// learned relative position bias over (Δt, Δrow, Δcol); odd blocks roll the map by half a
/// window first (and back after), with a mask keeping tokens from attending across the seams.
/// As in the released code a window never exceeds the map: along an axis whose size is at most
/// the window, the window is the whole axis and does not shift there (`get_window_size`); maps
/// are zero-padded to whole windows before the roll, and the mask is built on the padded map.
///
/// PEFT sites: every block is a `TransformerBlockSite` running the hooks of `BlockHooks` over
/// its tokens [B, D·H·W, C] (time, then row, then column — VideoMAE's order), attention hooks
/// per window; the patch embedding, patch mergings and norms take `LayerHook`s.

/// Clip → channels-last tubelet map [B, D, h, w, C]: zero-padding of T, H, W up to whole tubelets
/// (at the end, as the released `PatchEmbed3D`), the tubelet Conv3d (kernel = stride, so one
/// linear map per tubelet; weight [C_out, C·t·p·p]) and, with `patch_norm`, a LayerNorm.
public final class VideoSwinPatchEmbed: Module {
    public let proj: Linear
    public let norm: LayerNorm?
    let tubelet: Int
    let patch: Int

    init(_ c: VideoSwinTransformerConfig, using rng: inout WeightInit) {
        proj = vitLinear(c.tubeletValues, c.embedDim, bias: true, using: &rng)
        norm = c.patchNorm ? LayerNorm(c.embedDim, eps: c.normEps) : nil
        (tubelet, patch) = (c.patchSize[0], c.patchSize[1])
    }

    func callAsFunction(_ clip: Tensor) -> Tensor {
        func padding(_ size: Int, _ unit: Int) -> Int { (unit - size % unit) % unit }
        let padded = clip.padded(dim: 1, after: padding(clip.shape[1], tubelet))
            .padded(dim: 3, after: padding(clip.shape[3], patch)).padded(dim: 4, after: padding(clip.shape[4], patch))
        let tokens = proj(tubeletRows(padded, tubelet: tubelet, patch: patch))
        return norm.map { $0(tokens) } ?? tokens
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("proj", proj) + prefixed("norm", norm) }
}

/// Multi-head self-attention within windows of wd × wh × ww tokens with a relative position
/// bias: a table of (2wd−1)(2wh−1)(2ww−1) entries per head, one per offset (Δt, Δrow, Δcol).
public final class WindowAttention3D: Module {
    public let qkv: Linear
    public let proj: Linear
    /// [(2wd−1)(2wh−1)(2ww−1), heads]; trained (its gradient arrives through the gather).
    public var relativePositionBiasTable: Tensor
    public let numHeads: Int
    /// The configured window (wd, wh, ww).
    public let window: [Int]
    public let scale: Float
    /// Row `i·N₀ + j` (N₀ = wd·wh·ww): the table entry of query token i and key token j of a
    /// full window.
    let relativePositionIndex: [Int]

    init(dim: Int, heads: Int, window: [Int], qkvBias: Bool, using rng: inout WeightInit) {
        qkv = vitLinear(dim, 3 * dim, bias: qkvBias, using: &rng)
        proj = vitLinear(dim, dim, bias: true, using: &rng)
        relativePositionBiasTable = rng.truncatedNormal([window.map { 2 * $0 - 1 }.reduce(1, *), heads], std: 0.02)
        numHeads = heads
        self.window = window
        scale = 1 / Float(dim / heads).squareRoot()
        relativePositionIndex = Self.relativePositionIndex(window: window)
    }

    /// The released index: tokens (d, h, w) of the window in that order; the pair (i, j) reads
    /// entry (dᵢ−dⱼ+wd−1)(2wh−1)(2ww−1) + (hᵢ−hⱼ+wh−1)(2ww−1) + (wᵢ−wⱼ+ww−1).
    public static func relativePositionIndex(window: [Int]) -> [Int] {
        let (wd, wh, ww) = (window[0], window[1], window[2])
        let n = wd * wh * ww
        var index = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let dd = i / (wh * ww) - j / (wh * ww) + wd - 1
                let dh = (i / ww) % wh - (j / ww) % wh + wh - 1
                let dw = i % ww - j % ww + ww - 1
                index[i * n + j] = (dd * (2 * wh - 1) + dh) * (2 * ww - 1) + dw
            }
        }
        return index
    }

    /// The bias [heads, n, n] for windows of n tokens. A window shrunk to a smaller map reads the
    /// first n × n entries of the full window's index, as the released code does
    /// (`relative_position_index[:N, :N]`): exact when only time shrinks, the released model's own
    /// function otherwise.
    func relativePositionBias(tokens n: Int) -> Tensor {
        let full = window.reduce(1, *)
        var rows = relativePositionIndex
        if n != full {
            rows = [Int](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { rows[i * n + j] = relativePositionIndex[i * full + j] } }
        }
        return relativePositionBiasTable.indexSelect(rows, dim: 0).reshaped([n, n, numHeads]).permuted([2, 0, 1])
    }

    /// `x` [windows, N, C] → [windows, N, C]; `mask` [nW, N, N] for shifted windows. Attention
    /// hooks see each window as one sequence: q, k, v [windows, heads, N, Dh], `normed` = `x`.
    func callAsFunction(_ x: Tensor, mask: Tensor?, hooks: [AttentionHook], context: inout ForwardContext) -> Tensor {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let bias = relativePositionBias(tokens: n)
        guard !hooks.isEmpty else {
            return proj(windowAttention(qkv(x), heads: numHeads, scale: scale, bias: bias, mask: mask))
        }
        let heads = qkv(x).reshaped([b, n, 3, numHeads, d / numHeads]).permuted([2, 0, 3, 1, 4])
        func part(_ i: Int) -> Tensor { heads.narrowed(0, start: i, length: 1).reshaped([b, numHeads, n, d / numHeads]) }
        var inputs = AttentionInputs(q: part(0), k: part(1), v: part(2))
        for hook in hooks { hook.modify(&inputs, normed: x, context: &context) }
        return proj(windowAttentionWithExtras(inputs, scale: scale, bias: bias, mask: mask).transposed(1, 2).reshaped([b, n, d]))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("relative_position_bias_table", relativePositionBiasTable)] + prefixed("qkv", qkv) + prefixed("proj", proj)
    }
}

/// The windows a stage cuts its (padded) map into: their size and shift, and for shifted blocks
/// the mask [nW, N, N] built on the padded map.
struct VideoSwinWindows {
    let window: [Int]
    let shift: [Int]
    let mask: Tensor?

    var shifts: Bool { shift.contains { $0 > 0 } }

    /// The released `compute_mask`: along each shifted axis of padded length P the cells fall in
    /// three regions, [0, P − w), [P − w, P − s), [P − s, P) (one region along an unshifted axis);
    /// a token pair of one window whose region labels differ came from different places before
    /// the roll, and −100 keeps it from attending.
    init(size: [Int], window configured: [Int]) {
        let (w, s) = VideoSwinTransformer.effectiveWindow(size: size, window: configured, shift: configured.map { $0 / 2 })
        (window, shift) = (w, s)
        guard s.contains(where: { $0 > 0 }) else { mask = nil; return }
        let padded = (0..<3).map { (size[$0] + w[$0] - 1) / w[$0] * w[$0] }
        let counts = (0..<3).map { padded[$0] / w[$0] }
        func region(_ x: Int, _ axis: Int) -> Int {
            guard s[axis] > 0 else { return 0 }
            return x < padded[axis] - w[axis] ? 0 : (x < padded[axis] - s[axis] ? 1 : 2)
        }
        let n = w[0] * w[1] * w[2]
        let values = Tensor.zeros([counts[0] * counts[1] * counts[2], n, n])
        for win in 0..<values.shape[0] {
            let (wd, wh, ww) = (win / (counts[1] * counts[2]), (win / counts[2]) % counts[1], win % counts[2])
            let labels = (0..<n).map { t in
                9 * region(wd * w[0] + t / (w[1] * w[2]), 0) + 3 * region(wh * w[1] + (t / w[2]) % w[1], 1) + region(ww * w[2] + t % w[2], 2)
            }
            for i in 0..<n { for j in 0..<n where labels[i] != labels[j] { values.data[(win * n + i) * n + j] = -100 } }
        }
        mask = values
    }
}

/// A Video Swin block: x = x + DropPath(attn(norm1 x)); x = x + DropPath(mlp(norm2 x)), where attn
/// zero-pads the normalised map to whole windows, rolls it by −shift (odd blocks), attends within
/// windows (+ mask when shifted), and undoes the roll and the padding.
/// As a PEFT site it runs its hooks over the map's tokens [B, D·H·W, C]: input hooks, the
/// attention residual with its branch hooks, the MLP residual with its branch hooks, output
/// hooks. Attention hooks act per (shifted, padded) window as in V-PETL's Video Swin code; extra
/// keys/values (prefixes) are shared by every window and take neither the bias nor the mask.
public final class VideoSwinTransformerBlock: Module {
    public let norm1: LayerNorm
    public let attn: WindowAttention3D
    public let norm2: LayerNorm
    public let mlp: Mlp
    /// Odd blocks shift their windows by half a window (where the window is smaller than the map).
    public let shifted: Bool
    /// The token grid side of this stage at the configured frame size (for grid-shaped methods).
    let resolution: Int
    public var dropPath: Float = 0
    public var hooks = BlockHooks()
    /// The released path (`layers.2.blocks.5`).
    public let path: String

    init(path: String, dim: Int, heads: Int, window: [Int], shifted: Bool, resolution: Int, mlpHidden: Int, qkvBias: Bool, eps: Float,
         using rng: inout WeightInit) {
        self.path = path
        self.shifted = shifted
        self.resolution = resolution
        norm1 = LayerNorm(dim, eps: eps)
        attn = WindowAttention3D(dim: dim, heads: heads, window: window, qkvBias: qkvBias, using: &rng)
        norm2 = LayerNorm(dim, eps: eps)
        mlp = Mlp(dim, hidden: mlpHidden, act: .gelu, using: &rng)
    }

    func callAsFunction(_ x: Tensor, windows: VideoSwinWindows, context: inout ForwardContext) -> Tensor {
        let (b, d, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let n = d * h * w
        var tokens = hooks.input.apply(x.reshaped([b, n, c]), &context)
        let h1 = norm1(tokens.reshaped([b, d, h, w, c]))
        let a = windowedAttention(h1, windows: windows, context: &context).reshaped([b, n, c])
        tokens = residual(tokens, a, normed: h1.reshaped([b, n, c]), hooks: hooks.attnBranch, dropPath: dropPath, context: &context)
        let h2 = norm2(tokens)
        tokens = residual(tokens, mlp(h2), normed: h2, hooks: hooks.mlpBranch, dropPath: dropPath, context: &context)
        return hooks.output.apply(tokens, &context).reshaped([b, d, h, w, c])
    }

    /// The released `forward_part1` after norm1: pad, roll, partition, attend, merge, roll back, crop.
    private func windowedAttention(_ x: Tensor, windows: VideoSwinWindows, context: inout ForwardContext) -> Tensor {
        let (b, c) = (x.shape[0], x.shape[4])
        let size = [x.shape[1], x.shape[2], x.shape[3]], win = windows.window
        let padded = (0..<3).map { (size[$0] + win[$0] - 1) / win[$0] * win[$0] }
        let shift = shifted ? windows.shift : [0, 0, 0]
        let rolls = shift.contains { $0 > 0 }
        var map = x.padded(dim: 1, after: padded[0] - size[0]).padded(dim: 2, after: padded[1] - size[1]).padded(dim: 3, after: padded[2] - size[2])
        if rolls { map = map.rolled(shift.map { -$0 }, dims: [1, 2, 3]) }
        // [B, Dp/wd, wd, Hp/wh, wh, Wp/ww, ww, C] → windows [B·nW, wd·wh·ww, C]
        let counts = (0..<3).map { padded[$0] / win[$0] }
        let n = win.reduce(1, *), nW = counts.reduce(1, *)
        let parts = map.reshaped([b, counts[0], win[0], counts[1], win[1], counts[2], win[2], c]).permuted([0, 1, 3, 5, 2, 4, 6, 7])
            .reshaped([b * nW, n, c])
        let mixed = attn(parts, mask: rolls ? windows.mask : nil, hooks: hooks.attention, context: &context)
        var merged = mixed.reshaped([b, counts[0], counts[1], counts[2], win[0], win[1], win[2], c]).permuted([0, 1, 4, 2, 5, 3, 6, 7])
            .reshaped([b, padded[0], padded[1], padded[2], c])
        if rolls { merged = merged.rolled(shift, dims: [1, 2, 3]) }
        return merged.narrowed(1, start: 0, length: size[0]).narrowed(2, start: 0, length: size[1]).narrowed(3, start: 0, length: size[2])
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("norm1", norm1) + prefixed("attn", attn) + prefixed("norm2", norm2) + prefixed("mlp", mlp)
    }
}

/// The Video Swin block as a PEFT site: per time step a resolution × resolution grid of tokens
/// (at the configured frame size), time steps one after the other, no prefix token.
extension VideoSwinTransformerBlock: TransformerBlockSite {
    public var width: Int { norm1.weight.count }
    public var heads: Int { attn.numHeads }
    public var qkv: Linear { attn.qkv }
    public var proj: Linear { attn.proj }
    public var fc1: Linear { mlp.fc1 }
    public var fc2: Linear { mlp.fc2 }
    public var branchScales: (attn: LayerScale?, mlp: LayerScale?) { (nil, nil) }
    public var tokenGrid: TokenGrid { TokenGrid(prefixTokens: 0, side: resolution) }
}

/// One stage in the released layout: the blocks, unshifted and shifted alternately, then
/// (every stage but the last) PatchMerging over H and W, time untouched.
public final class VideoSwinTransformerStage: Module {
    public let blocks: [VideoSwinTransformerBlock]
    public let downsample: PatchMerging?
    let window: [Int]
    /// The windows (and shift mask) of the map size this stage last ran: a clip size rarely changes,
    /// and the mask of an early stage holds millions of values.
    private var lastWindows: (size: [Int], windows: VideoSwinWindows)?

    init(_ c: VideoSwinTransformerConfig, stage: Int, using rng: inout WeightInit) {
        let dim = c.stageDim(stage)
        window = c.windowSize
        blocks = (0..<c.depths[stage]).map { i in
            VideoSwinTransformerBlock(path: "layers.\(stage).blocks.\(i)", dim: dim, heads: c.numHeads[stage], window: c.windowSize, shifted: i % 2 == 1,
                                      resolution: c.stageResolution(stage), mlpHidden: c.mlpHidden(stage), qkvBias: c.qkvBias, eps: c.normEps, using: &rng)
        }
        downsample = stage < c.stageCount - 1 ? PatchMerging(dim: dim, eps: c.normEps, using: &rng) : nil
    }

    /// [B, D, H, W, C] → the stage output (before merging) and the merged map for the next stage.
    func callAsFunction(_ x: Tensor, context: inout ForwardContext, blockOutputs: inout [Tensor]) -> (output: Tensor, next: Tensor) {
        let size = [x.shape[1], x.shape[2], x.shape[3]]
        let windows = lastWindows.flatMap { $0.size == size ? $0.windows : nil } ?? withoutGradients { VideoSwinWindows(size: size, window: window) }
        lastWindows = (size, windows)
        var x = x
        for block in blocks {
            x = block(x, windows: windows, context: &context)
            if context.options.keepBlockOutputs { blockOutputs.append(x) }
        }
        guard let downsample else { return (x, x) }
        let (b, d, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let merged = downsample(x.reshaped([b * d, h, w, c]))
        return (x, merged.reshaped([b, d] + Array(merged.shape.dropFirst())))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list: [(name: String, tensor: Tensor)] = []
        for (i, block) in blocks.enumerated() { list += prefixed("blocks.\(i)", block) }
        return list + prefixed("downsample", downsample)
    }
}

public final class VideoSwinTransformer: Backbone {
    public let config: VideoSwinTransformerConfig
    public let patchEmbed: VideoSwinPatchEmbed
    public let layers: [VideoSwinTransformerStage]
    public let norm: LayerNorm
    /// The classifier (`cls_head.fc_cls` in the released checkpoints).
    public var head: Linear?
    public var preprocessing: Preprocessing

    /// A model with the released initialisation (trunc-normal 0.02 for linear weights and bias
    /// tables, zero biases, identity LayerNorms); load a checkpoint for real use. `randomInit:
    /// false` fills the weights with zeros instead (fast; for shapes and counts).
    public init(_ config: VideoSwinTransformerConfig, seed: UInt64 = 0, randomInit: Bool = true) throws {
        try config.validate()
        self.config = config
        var rng = WeightInit(random: randomInit, rng: SeededRandom(seed: seed).derived("video-swin-init"))
        patchEmbed = VideoSwinPatchEmbed(config, using: &rng)
        layers = (0..<config.stageCount).map { VideoSwinTransformerStage(config, stage: $0, using: &rng) }
        norm = LayerNorm(config.numFeatures, eps: config.normEps)
        head = config.numClasses > 0 ? Linear(config.numFeatures, config.numClasses, using: &rng.rng) : nil
        // The released test pipeline: ImageNet statistics, the short side resized to the frame
        // size (bilinear), then the centre crop.
        preprocessing = Preprocessing(mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd, interpolation: "bilinear",
                                      cropFraction: 1, source: "Video Swin test pipeline (short side \(config.imgSize), centre crop)")
        setDropPathRate(config.dropPathRate)
    }

    /// The window and shift a stage uses on a map of `size` (D, H, W): the configured ones, except
    /// along an axis no longer than the window, where the window is the axis and the shift 0 (the
    /// released `get_window_size`).
    public static func effectiveWindow(size: [Int], window: [Int], shift: [Int]) -> (window: [Int], shift: [Int]) {
        var (w, s) = (window, shift)
        for axis in 0..<3 where size[axis] <= window[axis] { (w[axis], s[axis]) = (size[axis], 0) }
        return (w, s)
    }

    public var blocks: [VideoSwinTransformerBlock] { layers.flatMap(\.blocks) }

    /// Stochastic depth rates linspace(0, `rate`, total depth) over all blocks in order, as the
    /// released `dpr`.
    public func setDropPathRate(_ rate: Float) {
        let all = blocks
        for (i, block) in all.enumerated() { block.dropPath = all.count > 1 ? rate * Float(i) / Float(all.count - 1) : 0 }
    }

    public func resetHead(classes: Int, using rng: inout SeededRandom) {
        head = classes > 0 ? Linear(config.numFeatures, classes, using: &rng) : nil
    }

    /// `clip` [B, T, C, H, W] with H = W = `img_size` and any T. `tokens` is the patch map
    /// entering stage 0 and `final` the normalised last map, both [B, D, H, W, C];
    /// `blockOutputs` every block's output in order. Attention maps are a ViT feature.
    public func forward(_ clip: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        precondition(clip.rank == 5 && clip.shape[1] > 0 && clip.shape[2] == config.inChans && clip.shape[3] == config.imgSize && clip.shape[4] == config.imgSize,
                     "VideoSwinTransformer: input \(clip.shape) does not match [B, T, \(config.inChans), \(config.imgSize), \(config.imgSize)]")
        var context = ForwardContext(options: options, rng: rng)
        let tokens = patchEmbed(clip)
        var x = tokens, last = tokens
        var blockOutputs: [Tensor] = []
        for stage in layers { (last, x) = stage(x, context: &context, blockOutputs: &blockOutputs) }
        let final = norm(last)
        let features = final.mean(dims: [1, 2, 3])
        return BackboneOutput(logits: head.map { $0(features) }, features: features, tokens: tokens,
                              blockOutputs: blockOutputs, final: final, attention: [:])
    }

    /// Logits when the model has a head, else the pooled features.
    public func callAsFunction(_ clip: Tensor) -> Tensor {
        let out = forward(clip, options: ForwardOptions(), rng: SeededRandom(seed: 0))
        return out.logits ?? out.features
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list = prefixed("patch_embed", patchEmbed)
        for (i, stage) in layers.enumerated() { list += prefixed("layers.\(i)", stage) }
        return list + prefixed("norm", norm) + prefixed("head", head)
    }
}

/// What PEFT, training and adapter files ask of a backbone, for Video Swin.
extension VideoSwinTransformer {
    public var numFeatures: Int { config.numFeatures }
    public var inputSize: Int { config.imgSize }

    public var architecture: String {
        let matching = VideoSwinTransformerConfig.presetNames.first { name in
            guard var preset = try? VideoSwinTransformerConfig.preset(name) else { return false }
            (preset.numClasses, preset.dropPathRate) = (config.numClasses, config.dropPathRate)
            (preset.imgSize, preset.numFrames) = (config.imgSize, config.numFrames)
            return preset == config
        }
        return matching ?? "video swin (img \(config.imgSize), patch \(config.patchSize), dim \(config.embedDim), depths \(config.depths), "
            + "heads \(config.numHeads), window \(config.windowSize))"
    }

    /// The configuration without head size and stochastic depth (the frame size stays: it fixes
    /// the token grid that grid-shaped methods see).
    public var architectureIdentity: String {
        var c = config
        c.numClasses = 0
        c.dropPathRate = 0
        return canonicalIdentity(c)
    }

    public func removeAllHooks() { removeSiteHooks() }

    public var transformerBlocks: [any TransformerBlockSite] { blocks }

    /// patch_embed.proj, patch_embed.norm, each stage's patch merging, the final norm.
    public var tokenLayers: [(name: String, layer: TokenLayer)] {
        var list: [(name: String, layer: TokenLayer)] = [("patch_embed.proj", .linear(patchEmbed.proj))]
        if let norm = patchEmbed.norm { list.append(("patch_embed.norm", .norm(norm))) }
        for (i, stage) in layers.enumerated() {
            guard let merge = stage.downsample else { continue }
            list += [("layers.\(i).downsample.norm", .norm(merge.norm)), ("layers.\(i).downsample.reduction", .linear(merge.reduction))]
        }
        return list + [("norm", .norm(norm))]
    }

    public var outputNorm: (name: String, layer: LayerNorm)? { ("norm", norm) }
}
