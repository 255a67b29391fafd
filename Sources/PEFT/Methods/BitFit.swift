import Models
import NN
import Tensor

/// BitFit — Ben Zaken et al., ACL 2022. Only the bias terms train.
/// Backbones: any (it unfreezes every backbone tensor named `*.bias`).
/// ViT sites: every backbone bias (patch embedding, norm1, qkv, proj, norm2, fc1, fc2, final
/// norm). Params: ViT-B/16 12·8,448 + 2·768 = 102,912.
/// EfficientNet-Lite: its convolutions have no bias (each is followed by a BatchNorm), so the
/// trainable biases are the BatchNorm biases (β of `_bn0`, every block's `_bn0/_bn1/_bn2`, `_bn1`)
/// — the per-channel shifts after every conv — plus the classifier's. Params = Σ BN channels =
/// stem + Σ_blocks (hidden·[expand] + hidden + out) + features; Lite0: 21,008. (On a backbone
/// whose BNs were folded the same shifts are the conv biases.)
/// Swin and Video Swin with `bias_tables: true`: also every block's relative position bias table —
/// selecting BitFit's tensors by `'bias' in name`, as PyTorch code commonly does, takes them, and
/// only with them do the paper's counts come out (Swin-B 0.20M in Table VI, Video Swin-B 1.09M in
/// Table V; the tables are 31% and 87% of those).
/// VideoMAE has q and v biases and no key bias (its blocks' `keyBiasIsFixedZero`): there the
/// fused qkv bias stays frozen and two new tensors, `blocks.i.attn.q_bias` and `….v_bias`
/// (VideoMAE's own names, zero-initialised deltas), add to its q and v thirds — 2·width per block,
/// not 3 (ViT-B 9,216 fewer than counting the zero key slot). Merging adds them into the fused bias.
/// Every other trained bias lives in the backbone itself.
public struct BitFit: PEFTMethod {
    public static let name = "bitfit"
    public static let summary = "BitFit: only the bias terms train"
    public static let sites = "linear(all).bias, norm(all).bias · CNN: BatchNorm biases"
    public static let mergeable = true

    /// Also train Swin's and Video Swin's relative position bias tables (`bias_tables`): the
    /// dense-prediction code released with Mona and the seed's video code select every parameter
    /// whose name contains "bias", which takes them in; so the paper counts BitFit in Tables V and VI.
    public var biasTables = false
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        if biasTables && !backbone.namedParameters.contains(where: { $0.name.hasSuffix(Self.tableSuffix) }) {
            throw MethodOptionError("bitfit: bias_tables = true, but this backbone (\(backbone.architecture)) has no relative position bias tables (Swin and Video Swin have)")
        }
    }

    private static let tableSuffix = ".relative_position_bias_table"

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let separateQV = model.backbone.transformerBlocks.filter(\.keyBiasIsFixedZero)
        let fused = Set(separateQV.map { $0.name("attn.qkv.bias") })
        model.unfreeze { name in
            (name.hasSuffix(".bias") && !fused.contains(name)) || (biasTables && name.hasSuffix(Self.tableSuffix))
        }
        for block in separateQV {
            let q = model.register(block.name("attn.q_bias"), Tensor.zeros([block.width]))
            let v = model.register(block.name("attn.v_bias"), Tensor.zeros([block.width]))
            block.qkv.hooks.append(QueryValueBias(q: q, v: v))
        }
    }

    public func merge(into model: PEFTModel) throws {
        for block in model.backbone.transformerBlocks {
            guard let hook = block.qkv.hooks.lazy.compactMap({ $0 as? QueryValueBias }).first, let bias = block.qkv.bias else { continue }
            let delta = hook.fusedDelta
            for i in 0..<bias.count { bias.data[i] += delta.data[i] }
        }
    }
}

/// Adds trained q and v biases to a fused qkv projection whose key bias is a constant zero.
final class QueryValueBias: LayerHook {
    let q: Tensor
    let v: Tensor

    init(q: Tensor, v: Tensor) { (self.q, self.v) = (q, v) }

    /// [q, 0, v]: the change to the fused bias.
    var fusedDelta: Tensor { concat([q, Tensor.zeros([q.count]), v], dim: 0) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor { next(x) + fusedDelta }
}
