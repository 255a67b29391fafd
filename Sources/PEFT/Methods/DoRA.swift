import Models
import NN
import Tensor

/// DoRA — Liu et al., ICML 2024 (as in Hugging Face PEFT). Weight-decomposed LoRA: a trained
/// magnitude per output unit times the direction of the LoRA-updated weight,
///     W' = W₀ + (α/r)·B A,  n = ‖W'‖ per row (detached),  y_t = (m / n) ⊙ (x W'ᵀ) + b_t.
/// Backbones: transformer blocks (ViT, Swin); a CNN is refused by name.
/// Sites: linear(l, qkv) on q and v by default, at each block's width. Init: A kaiming, B zero, m = ‖W₀‖ rows (so the
/// model starts unchanged). Params: LoRA's + out_t per target; ViT-B/16 q,v r 8: 313,344.
/// Mergeable: W_t ← diag(m/n)·W'.
public struct DoRA: PEFTMethod {
    public static let name = "dora"
    public static let summary = "DoRA (Liu et al. 2024): magnitude × LoRA-updated direction"
    public static let sites = "linear(l, qkv[q,v]) by default; any of q,k,v,proj,fc1,fc2"
    public static let mergeable = true
    public var rank = 8
    public var alpha: Float = 8
    public var targets: [LinearTarget] = [.q, .v]
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateLowRank(Self.name, rank: rank, targets: targets, dropout: 0)
        if !backbone.transformerBlocks.isEmpty { try LinearTarget.validate(Self.name, targets, for: backbone) }
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            for target in targets {
                let layer = target.layer(in: block), rows = target.rows(in: block)
                let delta = LowRankDelta(model, block: block, target: target, rank: rank, using: &rng)
                let magnitude = model.register(target.tensorName(in: block, "dora_m"), rowNorms(layer.weight.narrowed(0, start: rows.lowerBound, length: rows.count)))
                layer.hooks.append(DecomposedHook(layer: layer, rows: rows, delta: delta, magnitude: magnitude, scale: alpha / Float(rank)))
            }
        }
    }

    public func merge(into model: PEFTModel) throws {
        try model.foldLinearHooks()
    }
}

/// ‖W‖ over each row (the input axis), [out].
func rowNorms(_ w: Tensor) -> Tensor {
    w.squared().sum(dims: [1]).sqrt()
}

/// Rescales one target's rows of the layer output by m / ‖W₀ + sBA‖ and adds the low-rank term.
final class DecomposedHook: LayerHook {
    let layer: Linear
    let rows: Range<Int>
    let delta: LowRankDelta
    let magnitude: Tensor
    let scale: Float

    init(layer: Linear, rows: Range<Int>, delta: LowRankDelta, magnitude: Tensor, scale: Float) {
        self.layer = layer
        self.rows = rows
        self.delta = delta
        self.magnitude = magnitude
        self.scale = scale
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let y = next(x)
        let w0 = layer.weight.narrowed(0, start: rows.lowerBound, length: rows.count).detached()
        // The norm is a constant for the backward (DoRA's detach), so it needs no graph.
        let norms = withoutGradients { rowNorms(w0 + delta.matrix.detached() * scale) }
        let factor = magnitude / norms                                          // [out_t]
        let bias = layer.bias.map { $0.narrowed(0, start: rows.lowerBound, length: rows.count).detached() }
        let slice = y.narrowed(-1, start: rows.lowerBound, length: rows.count)
        let base = bias.map { slice - $0 } ?? slice                             // x W₀ᵀ (+ earlier hooks)
        let combined = (base + delta(x) * scale) * factor
        let target = bias.map { combined + $0 } ?? combined
        return y.addingNarrow(target - slice, dim: -1, start: rows.lowerBound)
    }
}
