import Models
import NN
import Tensor

/// E3VA — Yin et al., ACM MM 2023 ("Parameter-efficient is not sufficient", arXiv 2306.09729),
/// on Swin. A RECONSTRUCTION: no code was released, so this follows the paper's description
/// (a gradient "highway" beside the frozen Swin stages, fed by the stop-gradient activations of
/// every block's (S)W-MSA and MLP through parallel dual low-rank adapters, downsampling
/// inherited from the backbone's PatchMerging, no gradient through the backbone) and fixes the
/// rest as stated below (docs/methods.md, "E3VA").
///
/// The highway h carries a copy of the backbone's stream plus every adapter's output. For block
/// l of stage s, with a_l its attention branch and m_l its MLP branch (both read, never written):
///     stage start:  h ← x₀ (the patch map, stage 0)  or  h ← PatchMerging_s(h)  (stage s > 0)
///     block l:      h ← h + a_l + A^attn_l(a_l) + m_l + A^mlp_l(m_l)
///     features:     LN_E3VA(h) → mean over H, W → head
/// A(z) = U(GELU(D z)) with D: C → C/2 and U: C/2 → C, each weight a sum of α products of small
/// factors, W = Σ_i P_i K_i Q_i (P [in, k], K [k, k], Q [k, out]) plus a bias: LoRand's adapter
/// (same first author), α = 2 branches being the "dual" low rank.
///
/// Choices (the paper leaves them open):
/// - Where the adapters read: a_l = the attention branch after window merge, crop and un-roll
///   (what the block adds to its stream), taken as `norm2`'s input minus `norm1`'s input; m_l =
///   `mlp.fc2`'s output. Both are outputs of frozen layers on a stream no gradient reaches.
/// - The highway starts as an exact copy of the backbone stream (adding a_l + m_l itself), so the
///   adapters learn corrections; PatchMerging on the highway is the backbone's own frozen layer
///   (a shared copy: gradients pass through it to earlier adapters, its weights never train).
/// - Classification instead of the paper's FPN: the last stage's highway goes through a new
///   trainable LayerNorm (initialised from the backbone's final norm, the paper's "trainable
///   norm" into the neck), then the backbone's pooling and the new head. The backbone's own
///   final norm is unused.
/// - Dense prediction (a segmenter reading `stageFeatures`): each stage's highway replaces the
///   stage's output map the heads read — the paper's highway into the FPN; the segmenter's own
///   per-stage norms are the "trainable norms" there, and E3VA registers no final norm.
/// - Init: P, K, Q kaiming-uniform as PyTorch's default (LoRand's choice), zero biases, except
///   the K factors of each up-projection, which start at zero, so at init the highway equals the
///   backbone stream and the model is the frozen backbone with a new head.
/// - The frozen blocks run in evaluation mode (no drop-path), so the highway's copy of the
///   stream is exact.
/// Memory: the backbone's tensors never require a gradient, so its forward records no graph and
/// keeps no activation for backward; only the highway's own ops (adapters, PatchMerging, norm)
/// keep theirs. Not cacheable here: the adapters read activations inside blocks,
/// which `FrozenPrefix` does not store (they would be cacheable per un-augmented image).
/// Sites: norm1/norm2 inputs and `mlp.fc2` output of every block, the final norm. Backbones: Swin.
/// Params per block of width C, two adapters: 2·(α(3kC + 2k²) + 3C/2); plus 2C_last for the norm
/// when classifying. Swin-B, α 2, k 8: adapters 1,203,456 (segmentation) + 2,048 norm = 1,205,504. α 2, k 8 and the C/2
/// bottleneck are chosen because they give both of the paper's counts (Table VI) for the adapters
/// alone: Swin-B 1.20M, Swin-L 1,799,040 ≈ the paper's 1.79M if truncated (1.80M rounded); the
/// paper's norms sit in its FPN, outside that count.
public struct E3VA: PEFTMethod {
    public static let name = "e3va"
    public static let summary = "E3VA (Yin et al. 2023, reconstruction): dual low-rank adapters on a gradient highway beside frozen Swin stages"
    public static let sites = "norm1/norm2 inputs, mlp.fc2 output (read only), final norm (Swin)"
    public static let mergeable = false
    public static let frozenBlocksInEvalMode = true
    /// α: products summed per adapter weight.
    public var branches = 2
    /// k: the inner size of each product.
    public var kernel = 8
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try FactorisedLinear.validate(branches: branches, kernel: kernel, method: Self.name)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        guard let swin = model.backbone as? SwinTransformer else {
            throw MethodOptionError("\(Self.name) is defined for Swin backbones (a highway beside hierarchical stages); this backbone is \(model.backbone.architecture)")
        }
        let highway = Highway()
        for (s, stage) in swin.layers.enumerated() {
            let c = swin.config.stageDim(s)
            for (i, block) in stage.blocks.enumerated() {
                let prefix = "layers.\(s).blocks.\(i)"
                let attnAdapter = dualLowRankAdapter("\(prefix).e3va_attn", width: c, model: model, using: &rng)
                let mlpAdapter = dualLowRankAdapter("\(prefix).e3va_mlp", width: c, model: model, using: &rng)
                block.norm1.hooks.append(HighwayBlockEntry(highway: highway, startsStage: i == 0, merging: stage.downsample))
                block.norm2.hooks.append(HighwayAttentionTap(highway: highway, adapter: attnAdapter))
                block.mlp.fc2.hooks.append(HighwayMLPTap(highway: highway, adapter: mlpAdapter))
            }
        }
        swin.stageOutputHooks.append(HighwayStageOutput(highway: highway))
        // A dense task head reads the stage maps and never the final norm: no E3VA norm then.
        guard model.taskHead == nil else { return }
        let norm = model.registerLayerNorm("e3va.norm", swin.config.numFeatures, eps: swin.config.normEps)
        norm.weight.data.update(from: swin.norm.weight.data, count: norm.weight.count)
        norm.bias.data.update(from: swin.norm.bias.data, count: norm.bias.count)
        swin.norm.hooks.append(HighwayExit(highway: highway, norm: norm))
    }

    /// U(GELU(D z)), D: width → width/2, U: width/2 → width, each Σ_i P_i K_i Q_i + bias; the
    /// up-projection's K factors start at zero, so the adapter starts at zero.
    private func dualLowRankAdapter(_ prefix: String, width: Int, model: PEFTModel, using rng: inout SeededRandom) -> FactorisedBottleneck {
        FactorisedBottleneck(
            down: FactorisedLinear.register("\(prefix).down", in: model, width, width / 2, branches: branches, kernel: kernel, using: &rng),
            up: FactorisedLinear.register("\(prefix).up", in: model, width / 2, width, branches: branches, kernel: kernel, zeroKernels: true, using: &rng))
    }
}

/// The highway within one forward pass (forwards of one model run one at a time, as everywhere
/// in the project): its value, as tokens [B, H·W, C] of the current stage, and the current
/// block's input, to recover the attention branch.
final class Highway {
    var stream: Tensor?
    var mapShape: [Int] = []
    var blockInput: Tensor?
}

/// At `norm1` (the block's input x, [B, H, W, C]): starts the stage's highway on the first block
/// (a copy of the patch map, or the inherited PatchMerging of the previous stage's highway) and
/// keeps x for the attention tap.
final class HighwayBlockEntry: LayerHook {
    let highway: Highway, startsStage: Bool, merging: PatchMerging?
    init(highway: Highway, startsStage: Bool, merging: PatchMerging?) { (self.highway, self.startsStage, self.merging) = (highway, startsStage, merging) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let tokenShape = [x.shape[0], x.shape[1] * x.shape[2], x.shape[3]]
        if startsStage {
            highway.stream = merging.map { $0(highway.stream!.reshaped(highway.mapShape)).reshaped(tokenShape) } ?? x.reshaped(tokenShape)
            highway.mapShape = x.shape
        }
        highway.blockInput = x.reshaped(tokenShape)
        return next(x)
    }
}

/// At `norm2` (x + a, tokens): a = its input − the block's input; h ← h + a + A^attn(a).
final class HighwayAttentionTap: LayerHook {
    let highway: Highway, adapter: FactorisedBottleneck
    init(highway: Highway, adapter: FactorisedBottleneck) { (self.highway, self.adapter) = (highway, adapter) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let branch = x - highway.blockInput!
        highway.stream = highway.stream! + branch + adapter(branch)
        highway.blockInput = nil
        return next(x)
    }
}

/// At `mlp.fc2` (its output m, tokens): h ← h + m + A^mlp(m).
final class HighwayMLPTap: LayerHook {
    let highway: Highway, adapter: FactorisedBottleneck
    init(highway: Highway, adapter: FactorisedBottleneck) { (self.highway, self.adapter) = (highway, adapter) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let branch = next(x)
        highway.stream = highway.stream! + branch + adapter(branch)
        return branch
    }
}

/// At the backbone's final norm: the highway through E3VA's trainable norm replaces the
/// backbone's normalised map (the pooling and head follow); releases the pass's state so no
/// graph outlives it.
final class HighwayExit: LayerHook {
    let highway: Highway, norm: LayerNorm
    init(highway: Highway, norm: LayerNorm) { (self.highway, self.norm) = (highway, norm) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let stream = highway.stream!.reshaped(x.shape)
        (highway.stream, highway.blockInput) = (nil, nil)
        return norm(stream)
    }
}

/// At each stage's output (dense heads): the stage's highway as the map the heads read. The
/// state is left for `HighwayExit` (a classifier's forward continues to the final norm) or the
/// next pass, which starts a new highway.
final class HighwayStageOutput: StageOutputHook {
    let highway: Highway
    init(highway: Highway) { self.highway = highway }

    func stageOutput(_ x: Tensor, stage: Int, of stages: Int) -> Tensor { highway.stream!.reshaped(x.shape) }
}
