import Models
import NN
import Tensor

/// Hydra — Kim et al., 2024. A parallel and a sequential low-rank branch around attn.proj and
/// mlp.fc2 (z = the linear's input):
///     y = W z + b + s·P(z) + s·S(W z + b)
/// P and S are each a linear down-projection (xavier, zero bias) followed by an up-projection
/// (zero), with biases and no non-linearity, and dropout on the rank-r bottleneck between them
/// (up(dropout(down(·))), as Hydra's hydra.py applies it). Both branches are linear, so the
/// method merges into W and b. Sites: linear(l, proj/fc2). Backbones: transformer blocks (ViT, Swin).
/// Params: 12·(8452·r + 3072) on ViT-B/16: r 8 (the default here) 848,256; r 2 (every task in
/// Hydra's train_hydra.sh, and the `rank` configs/methods/hydra.yaml sets) 239,712. s and
/// dropout are per dataset (configs/methods/hydra.yaml; the defaults are Hydra's cifar values).
public struct Hydra: PEFTMethod {
    public static let name = "hydra"
    public static let summary = "Hydra (Kim et al. 2024): parallel + sequential low-rank branches around proj and fc2"
    public static let sites = "linear(l, proj/fc2)"
    public static let mergeable = true
    public var rank = 8
    public var scale: Float = 0.1
    public var dropout: Float = 0.2
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try validateLowRank(Self.name, rank: rank, targets: [.proj], dropout: dropout)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            for (name, layer) in [("attn.proj", block.proj), ("mlp.fc2", block.fc2)] {
                func branch(_ kind: String, _ inFeatures: Int) -> (Tensor) -> Tensor {
                    let prefix = block.name("\(name).hydra_\(kind)")
                    let down = Linear(weight: model.register("\(prefix).down.weight", Initialiser.xavierUniform([rank, inFeatures], fanIn: inFeatures, fanOut: rank, using: &rng), role: .linearWeight),
                                      bias: model.register("\(prefix).down.bias", Tensor.zeros([rank]), role: .linearBias))
                    let up = Linear(weight: model.register("\(prefix).up.weight", Tensor.zeros([layer.outFeatures, rank]), role: .linearWeight),
                                    bias: model.register("\(prefix).up.bias", Tensor.zeros([layer.outFeatures]), role: .linearBias))
                    let (dropout, rate) = (model.dropout, self.dropout)
                    return { up(dropout(down($0), rate)) }
                }
                let parallel = branch("parallel", layer.inFeatures), sequential = branch("sequential", layer.outFeatures)
                layer.hooks.append(ParallelSequentialHook(parallel: parallel, sequential: sequential, scale: scale))
            }
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

/// y = f(z); y + s·P(z) + s·S(y).
final class ParallelSequentialHook: LayerHook {
    let parallel: (Tensor) -> Tensor, sequential: (Tensor) -> Tensor, scale: Float
    init(parallel: @escaping (Tensor) -> Tensor, sequential: @escaping (Tensor) -> Tensor, scale: Float) {
        (self.parallel, self.sequential, self.scale) = (parallel, sequential, scale)
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let y = next(x)
        return y + parallel(x) * scale + sequential(y) * scale
    }
}
