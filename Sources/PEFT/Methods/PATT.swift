import Models
import NN
import Tensor

/// PATT — the parallel attention adapter of V-PETL (Yu et al., 2022): in every attention the keys
/// and values are shifted by a small MLP of the attention's input x (the normed stream),
///     Δ = up(tanh(down(x))) ∈ R^{2d},   K ← K + s·Δ_k,   V ← V + s·Δ_v   (split into heads).
/// Sites: attention(l). Init: down PyTorch default, up zero (the model starts unchanged).
/// Backbones: transformer blocks (ViT; Swin, per window as V-PETL's Video Swin code: Δ of each
/// window token shifts its key and value; d = each block's width). Params per block d·m + m + 2d·m + 2d; ViT-B/16, m 64: 1,788,672.
/// V-PETL uses m 64–128 and s 0.2–0.8 (video); defaults here m 64, s 0.5. Not mergeable
/// (tanh).
public struct PATT: PEFTMethod {
    public static let name = "patt"
    public static let summary = "PATT (V-PETL): keys and values shifted by a tanh adapter of the attention input"
    public static let sites = "attention(l)"
    public static let mergeable = false
    public var dim = 64
    public var scale: Float = 0.5
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        try attachParallelAttention(model, dim: dim, scale: scale, using: &rng)
    }
}

/// PATT's modules on every block of `model`'s ViT.
func attachParallelAttention(_ model: PEFTModel, dim: Int, scale: Float, using rng: inout SeededRandom) throws {
    for block in try model.blockSites(for: PATT.name) {
        let d = block.width, prefix = block.name("attn.patt")
        let (w, b) = Initialiser.pytorchLinear(d, dim, using: &rng)
        let down = Linear(weight: model.register("\(prefix).down.weight", w, role: .linearWeight),
                          bias: model.register("\(prefix).down.bias", b, role: .linearBias))
        let up = Linear(weight: model.register("\(prefix).up.weight", Tensor.zeros([2 * d, dim]), role: .linearWeight),
                        bias: model.register("\(prefix).up.bias", Tensor.zeros([2 * d]), role: .linearBias))
        block.hooks.attention.append(KeyValueModulation(down: down, up: up, scale: scale, heads: block.heads))
    }
}

/// K += s·Δ_k, V += s·Δ_v with Δ = up(tanh(down(x))).
final class KeyValueModulation: AttentionHook {
    let down: Linear, up: Linear, scale: Float, heads: Int
    init(down: Linear, up: Linear, scale: Float, heads: Int) { (self.down, self.up, self.scale, self.heads) = (down, up, scale, heads) }

    func modify(_ inputs: inout AttentionInputs, normed: Tensor, context: inout ForwardContext) {
        let (b, n, d) = (normed.shape[0], normed.shape[1], normed.shape[2])
        let delta = up(down(normed).tanh()) * scale                                   // [B, N, 2d]
        func heads(_ part: Tensor) -> Tensor { part.reshaped([b, n, self.heads, d / self.heads]).permuted([0, 2, 1, 3]) }
        inputs.k = inputs.k + heads(delta.narrowed(-1, start: 0, length: d))
        inputs.v = inputs.v + heads(delta.narrowed(-1, start: d, length: d))
    }
}
