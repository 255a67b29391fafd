import Foundation
import NN
import Tensor

/// VideoMAE's video transformer (Tong et al., NeurIPS 2022; MCG-NJU `modeling_finetune.py`,
/// Hugging Face `VideoMAEForVideoClassification`): a ViT over space-time tubelets.
///
///     clip [B, T, C, H, W] → tubelets of tubelet_size frames × patch × patch → linear → + fixed
///     sinusoid table → ViT blocks (q/v biases, zero k bias) → mean over tokens → fc_norm → head
///
/// Tokens are ordered t·(H/p)(W/p) + h·(W/p) + w, with no class token. VideoMAE's separate q and
/// v biases (the key has none) live in the block's fused qkv bias with its key third at zero: a
/// key bias adds the same amount to all of a query's logits, which softmax ignores, so that third
/// never changes the output and its gradient is zero up to rounding. The blocks say so
/// (`keyBiasIsFixedZero`): BitFit trains only the q and v parts, as the released model has
/// them. The blocks are the ViT's
/// own `Block`s (parameter names `blocks.i.*` as in the released code), so every PEFT method
/// defined on transformer block sites attaches to VideoMAE unchanged.
///
/// A model inflated from an image ViT (`VideoMAE.inflated(from:…)`) uses the same architecture
/// with LayerScale and `VideoPositionEmbedding.spatialLearnedTemporalSinusoid` positions.
public final class VideoMAE: Backbone {
    public let config: VideoMAEConfig
    /// The tubelet embedding (a Conv3d whose kernel equals its stride in the released code):
    /// non-overlapping, so it is exactly one linear map on each flattened tubelet
    /// (C, t, p, p order, the Conv3d weight [D, C, t, p, p] read as [D, C·t·p·p]).
    public let patchEmbed: Linear
    /// The learned spatial table [1, (H/p)(W/p), D] of `.spatialLearnedTemporalSinusoid`
    /// positions, shared by every time slice; nil with VideoMAE's own sinusoid table.
    public let posEmbed: Tensor?
    public let blocks: [Block]
    /// The final LayerNorm of a model without mean pooling (pre-training layout).
    public let norm: LayerNorm?
    public let fcNorm: LayerNorm?
    public var head: Linear?
    public var tokenHooks: [TokenHook] = []
    public var preprocessing: Preprocessing
    /// The position table per token count, built on first use.
    private var positionTables: [Int: Tensor] = [:]
    private let positionLock = NSLock()

    public init(_ config: VideoMAEConfig, seed: UInt64 = 0, randomInit: Bool = true) throws {
        try config.validate()
        self.config = config
        var rng = WeightInit(random: randomInit, rng: SeededRandom(seed: seed).derived("videomae-init"))
        patchEmbed = vitLinear(config.tubeletValues, config.hiddenSize, bias: true, using: &rng)
        posEmbed = config.positionEmbeddingType == .sinusoid ? nil : rng.truncatedNormal([1, config.gridSize * config.gridSize, config.hiddenSize], std: 0.02)
        let blockConfig = config.blockConfig
        blocks = (0..<config.numHiddenLayers).map { Block(blockConfig, path: "blocks.\($0)", dropPath: 0, using: &rng) }
        for block in blocks { block.keyBiasIsFixedZero = true }
        norm = config.useMeanPooling ? nil : LayerNorm(config.hiddenSize, eps: config.layerNormEps)
        fcNorm = config.useMeanPooling ? LayerNorm(config.hiddenSize, eps: config.fcNormEps) : nil
        head = config.numLabels > 0 ? vitLinear(config.hiddenSize, config.numLabels, bias: true, using: &rng) : nil
        // VideoMAE's evaluation: ImageNet statistics, the short side resized to the input size
        // (bilinear, `--short_side_size 224`), then the centre crop.
        preprocessing = Preprocessing(mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd, interpolation: "bilinear",
                                      cropFraction: 1, source: "VideoMAE fine-tuning (short side \(config.imageSize), centre crop)")
        setDropPathRate(config.dropPathRate)
    }

    public var numFeatures: Int { config.hiddenSize }
    public var inputSize: Int { config.imageSize }
    public var architecture: String {
        "videomae (img \(config.imageSize), \(config.numFrames) frames, tubelet \(config.tubeletSize)×\(config.patchSize)×\(config.patchSize), dim \(config.hiddenSize), depth \(config.numHiddenLayers), heads \(config.numAttentionHeads))"
    }
    public var architectureIdentity: String {
        var c = config
        c.numLabels = 0
        c.dropPathRate = 0
        return canonicalIdentity(c)
    }

    public var transformerBlocks: [any TransformerBlockSite] { blocks }
    public var tokenLayers: [(name: String, layer: TokenLayer)] {
        [("patch_embed.proj", .linear(patchEmbed))] + (finalNorm.map { [($0.name, .norm($0.layer))] } ?? [])
    }
    public var outputNorm: (name: String, layer: LayerNorm)? { finalNorm }
    private var finalNorm: (name: String, layer: LayerNorm)? {
        if let fcNorm { return ("fc_norm", fcNorm) }
        return norm.map { ("norm", $0) }
    }

    public func setDropPathRate(_ rate: Float) {
        for (i, block) in blocks.enumerated() { block.dropPath = blocks.count > 1 ? rate * Float(i) / Float(blocks.count - 1) : 0 }
    }

    public func resetHead(classes: Int, using rng: inout SeededRandom) {
        head = classes > 0 ? Linear(config.hiddenSize, classes, using: &rng) : nil
    }

    public func removeAllHooks() {
        removeSiteHooks()
        tokenHooks = []
    }

    /// Tubelet tokens [B, T/t · (H/p)(W/p), D] with the sinusoid table added, from a clip laid
    /// out as Hugging Face's processor gives it, [B, T, C, H, W].
    func embed(_ clip: Tensor) -> Tensor {
        let (p, t, c) = (config.patchSize, config.tubeletSize, config.numChannels)
        precondition(clip.rank == 5 && clip.shape[2] == c && clip.shape[3] == config.imageSize && clip.shape[4] == config.imageSize
                     && clip.shape[1] > 0 && clip.shape[1] % t == 0,
                     "VideoMAE: input \(clip.shape) does not match [B, T, \(c), \(config.imageSize), \(config.imageSize)] with T a multiple of \(t)")
        let (b, frames, g) = (clip.shape[0], clip.shape[1], config.gridSize)
        let tubelets = tubeletRows(clip, tubelet: t, patch: p).reshaped([b, frames / t * g * g, config.tubeletValues])
        let tokens = patchEmbed(tubelets)
        guard let posEmbed else { return tokens + positionTable(tokens: tokens.shape[1]) }
        // [B, T/t, g², D] + the spatial table in every slice + the temporal table at every position.
        let slices = frames / t
        let d = config.hiddenSize
        let placed = tokens.reshaped([b, slices, g * g, d]) + posEmbed.reshaped([1, 1, g * g, d])
            + temporalPositionTable(slices: slices).reshaped([1, slices, 1, d])
        return placed.reshaped([b, slices * g * g, d])
    }

    /// The temporal signal of `.spatialLearnedTemporalSinusoid` positions: VideoMAE's sinusoid
    /// (`positionTable`) over the time-slice index, minus its mean over the clip's slices, times
    /// `temporal_position_scale`. Removing the mean matters for a model inflated from an image
    /// ViT: most of the table's channels turn so slowly that over a few slices they are a
    /// constant (cos ≈ 1 on half the channels), which would shift every token of the
    /// pre-trained model alike; centred, only the part that tells slices apart is added, and a
    /// clip's tokens still say which slice they come from. [slices, D].
    public func temporalPositionTable(slices: Int) -> Tensor {
        Self.centredTemporalTable(slices: slices, width: config.hiddenSize, scale: config.temporalPositionScale)
    }

    /// `temporalPositionTable` for any width and scale: it depends on nothing else.
    static func centredTemporalTable(slices: Int, width d: Int, scale: Float) -> Tensor {
        let table = sinusoidTable(tokens: slices, width: d).reshaped([slices, d])
        return withoutGradients { (table - table.mean(dims: [0]).reshaped([1, d])).scaled(by: scale) }
    }

    /// VideoMAE's fixed 1-D sinusoid table over the flattened token index:
    /// angle(p, j) = p / 10000^(2⌊j/2⌋/D), sin on even j, cos on odd j — computed in double
    /// precision as numpy does, for any frame count.
    public func positionTable(tokens n: Int) -> Tensor {
        positionLock.lock(); defer { positionLock.unlock() }
        if let table = positionTables[n] { return table }
        let table = Self.sinusoidTable(tokens: n, width: config.hiddenSize)
        positionTables[n] = table
        return table
    }

    /// The sinusoid table [1, n, d] itself (`positionTable` keeps one per token count).
    static func sinusoidTable(tokens n: Int, width d: Int) -> Tensor {
        var values = [Float](repeating: 0, count: n * d)
        for position in 0..<n {
            for j in 0..<d {
                let angle = Double(position) / pow(10000, 2 * Double(j / 2) / Double(d))
                values[position * d + j] = Float(j % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        return Tensor(shape: [1, n, d], values)
    }

    public func forward(_ clip: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        var context = ForwardContext(options: options, rng: rng)
        let tokens = tokenHooks.apply(embed(clip), &context)
        var x = tokens
        for (i, block) in blocks.enumerated() {
            x = block(x, context: &context, index: i)
            if options.keepBlockOutputs { context.blockOutputs.append(x) }
        }
        let final = norm.map { $0(x) } ?? x
        let pooled = config.useMeanPooling ? final.mean(dims: [1]) : final.narrowed(1, start: 0, length: 1).reshaped([x.shape[0], x.shape[2]])
        let features = fcNorm.map { $0(pooled) } ?? pooled
        return BackboneOutput(logits: head.map { $0(features) }, features: features, tokens: tokens,
                              blockOutputs: context.blockOutputs, final: final, attention: context.attention)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list = prefixed("patch_embed.proj", patchEmbed) + (posEmbed.map { [("pos_embed", $0)] } ?? [])
        for (i, block) in blocks.enumerated() { list += prefixed("blocks.\(i)", block) }
        return list + prefixed("norm", norm) + prefixed("fc_norm", fcNorm) + prefixed("head", head)
    }
}
