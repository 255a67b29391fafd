import Models
import NN
import Tensor

/// LAST — Tang et al., 2024 (Low-rank Attention Side-Tuning). Known from the paper only; the
/// wiring chosen here: a side stream s (zero at the start) beside the frozen backbone, updated
/// after every block l from that block's output h_{l+1} by a low-rank self-attention module,
///     s ← s + LSA_l(LN_l(h_{l+1} + s)),   LSA(z) = MHA_r(z W_q, z W_k, z W_v) W_o
/// (W_q, W_k, W_v: d → r, W_o: r → d, `heads` heads of r/heads channels, no biases); the last
/// block's output is corrected to h_L + s before the frozen final norm, pooling and head — the
/// side network learns the correction to the backbone's own representation. W_o starts at zero,
/// so the model starts as the backbone. Why this wiring: it uses only the pieces the paper
/// names (low-rank attention over each frozen layer's output, a correction of the final
/// representation), keeps every backbone block untouched (no gradient and no saved activation
/// inside it; block outputs cacheable), and its count matches the paper's ≈0.61M at r 16.
/// Init: W_q, W_k, W_v kaiming-uniform (PyTorch Linear default), W_o zero, LN ones/zeros.
/// Sites: output(l). Backbones: ViT (its side network reads every block at one width; Swin is refused
/// by name).
/// Params: L·(2d + 4·d·r); ViT-B/16, r 16: 608,256.
public struct LAST: PEFTMethod {
    public static let name = "last"
    public static let summary = "LAST (Tang et al. 2024): low-rank attention side network correcting the frozen features"
    public static let sites = "output(l)"
    public static let mergeable = false
    public static let cacheable = true
    /// The backbone is a fixed feature extractor (no drop-path), its blocks run once per image.
    public static let frozenBlocksInEvalMode = true
    public static let readsFrozenBlockOutputs = true
    public var rank = 16
    public var heads = 1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(rank > 0, Self.name, "rank", rank, "must be positive")
        try MethodOptionError.require(heads > 0 && rank % heads == 0, Self.name, "heads", heads, "must divide the rank \(rank)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "its side network has one width and reads every block at the backbone's single width")
        let d = vit.config.embedDim, last = vit.blocks.count - 1
        let stream = SideStream()
        for (l, block) in vit.blocks.enumerated() {
            let norm = model.registerLayerNorm("last.\(l).norm", d, eps: 1e-6)
            func projection(_ name: String) -> Tensor {
                model.register("last.\(l).\(name)", Initialiser.kaimingUniform([rank, d], fanIn: d, using: &rng), role: .linearWeight)
            }
            let attention = LowRankSelfAttention(q: projection("q"), k: projection("k"), v: projection("v"),
                                                 o: model.register("last.\(l).o", Tensor.zeros([d, rank]), role: .linearWeight), heads: heads)
            block.hooks.output.append(SideCorrection(stream: stream, norm: norm, attention: attention, isLast: l == last))
        }
    }
}

/// The side stream within one forward pass.
final class SideStream {
    var s: Tensor?
}

/// MHA over r low-rank channels: softmax(Q_h K_hᵀ/√(r/heads)) V_h per head, then W_o.
struct LowRankSelfAttention {
    let q: Tensor, k: Tensor, v: Tensor, o: Tensor, heads: Int

    func callAsFunction(_ z: Tensor) -> Tensor {
        let (b, n, r) = (z.shape[0], z.shape[1], q.shape[0]), dh = r / heads
        func split(_ w: Tensor) -> Tensor { linear(z, w).reshaped([b, n, heads, dh]).transposed(1, 2) }
        let mixed = attention(split(q), split(k), split(v), scale: 1 / Float(dh).squareRoot()).transposed(1, 2).reshaped([b, n, r])
        return linear(mixed, o)
    }
}

/// After block l: s ← s + LSA(LN(h + s)); the stream passes unchanged except after the last
/// block, which hands h + s on to the final norm.
final class SideCorrection: TokenHook {
    let stream: SideStream, norm: LayerNorm, attention: LowRankSelfAttention, isLast: Bool
    init(stream: SideStream, norm: LayerNorm, attention: LowRankSelfAttention, isLast: Bool) {
        (self.stream, self.norm, self.attention, self.isLast) = (stream, norm, attention, isLast)
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let update = attention(norm(stream.s.map { x + $0 } ?? x))
        let s = stream.s.map { $0 + update } ?? update
        guard isLast else {
            stream.s = s
            return x
        }
        stream.s = nil
        return x + s
    }
}
