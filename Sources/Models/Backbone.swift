import Foundation
import NN
import Tensor

/// What PEFT methods, training and visualisation need from a pre-trained backbone (a ViT, a
/// CNN): named parameters, a replaceable head, stochastic depth, hook removal, and a forward
/// that reports logits, pooled features and intermediate states.
public protocol Backbone: Module {
    /// The architecture family and size, for messages ("vit_base_patch16_224-like").
    var architecture: String { get }
    /// The architecture-defining configuration as canonical JSON (without head size or
    /// training settings): two backbones with equal identities accept the same adapters.
    var architectureIdentity: String { get }
    /// Expected input side length (square images).
    var inputSize: Int { get }
    /// Normalisation, resampling and crop the weights expect (timm's `pretrained_cfg`).
    var preprocessing: Preprocessing { get set }
    var numFeatures: Int { get }
    var head: Linear? { get }
    func resetHead(classes: Int, using rng: inout SeededRandom)
    func setDropPathRate(_ rate: Float)
    /// Removes every PEFT hook: the plain backbone again.
    func removeAllHooks()
    func forward(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput

    /// The PEFT site map of a transformer backbone: every transformer block in forward order
    /// (empty for a CNN). Methods defined on blocks act on each at its own width and name their
    /// tensors by its path.
    var transformerBlocks: [any TransformerBlockSite] { get }
    /// The hookable layers outside the blocks, with their timm names, in forward order: the
    /// patch embedding, patch merging, the final norm (empty for a CNN; the head is not one).
    var tokenLayers: [(name: String, layer: TokenLayer)] { get }
    /// The LayerNorm on the last block's output, with its timm name (nil for a CNN).
    var outputNorm: (name: String, layer: LayerNorm)? { get }
}

extension Backbone {
    public var transformerBlocks: [any TransformerBlockSite] { [] }
    public var tokenLayers: [(name: String, layer: TokenLayer)] { [] }
    public var outputNorm: (name: String, layer: LayerNorm)? { nil }

    /// The patch embedding: the first convolution among `tokenLayers`, with its timm name.
    public var patchEmbedding: (name: String, conv: Conv2d)? {
        tokenLayers.lazy.compactMap { entry in if case .conv(let conv) = entry.layer { (entry.name, conv) } else { nil } }.first
    }

    /// Removes the hooks of every block and of every layer outside the blocks, and the head's:
    /// the walk over the site map that `removeAllHooks` starts with.
    public func removeSiteHooks() {
        for block in transformerBlocks { block.removeHooks() }
        for (_, layer) in tokenLayers {
            switch layer {
            case .linear(let linear): linear.hooks = []
            case .norm(let norm): norm.hooks = []
            case .conv(let conv): conv.hooks = []
            }
        }
        head?.hooks = []
    }
}

extension Backbone {
    /// Inference forward with default options.
    public func forward(_ images: Tensor) -> BackboneOutput {
        forward(images, options: ForwardOptions(), rng: SeededRandom(seed: 0))
    }
}

extension Backbone {
    public func forward(_ images: Tensor, options: ForwardOptions) -> BackboneOutput {
        forward(images, options: options, rng: SeededRandom(seed: 0))
    }
}

/// A configuration as canonical JSON (sorted keys): the form `architectureIdentity` takes, so two
/// backbones compare equal exactly when their identifying configurations do.
func canonicalIdentity<Config: Encodable>(_ config: Config) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
}
