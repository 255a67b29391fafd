import NN
import Tensor

/// A pre-norm transformer block as PEFT methods see it, whatever backbone it sits in (a ViT
/// `Block`, a `SwinTransformerBlock`):
///
///     x ← x + DropPath(proj(attention(qkv(norm1 x))));  x ← x + DropPath(fc2(act(fc1(norm2 x))))
///
/// with the hook points of `BlockHooks` over its token sequence [B, N, width]. A method finds its
/// sites here — this block's width, heads, layers and the timm path that prefixes its tensor
/// names — so it never names a backbone, and a backbone whose blocks conform gets every method
/// defined on these sites.
public protocol TransformerBlockSite: Module {
    /// The block's timm module path (`blocks.5`, `layers.2.blocks.5`): the prefix of its
    /// parameter names and of the method tensors placed in it.
    var path: String { get }
    /// The channel width of its token sequence.
    var width: Int { get }
    var heads: Int { get }
    var norm1: LayerNorm { get }
    /// The fused query/key/value projection [3·width, width] (q, k, v in that row order).
    var qkv: Linear { get }
    var proj: Linear { get }
    var norm2: LayerNorm { get }
    var fc1: Linear { get }
    var fc2: Linear { get }
    /// The per-channel scales of the attention and MLP branches (a ViT's LayerScale `ls1`/`ls2`),
    /// nil where the block has none.
    var branchScales: (attn: LayerScale?, mlp: LayerScale?) { get }
    /// Stochastic-depth rate of this block (parallel modules with their own DropPath read it).
    var dropPath: Float { get set }
    var hooks: BlockHooks { get set }
    /// How the tokens lie on the image: conv-over-the-grid methods (Convpass, Mona, …) reshape
    /// the tokens after `prefixTokens` to height × width, reading it at each forward.
    var tokenGrid: TokenGrid { get }
    /// Whether the key third of `qkv.bias` is not a parameter of the architecture (VideoMAE:
    /// separate q and v biases, no key bias — zero in its checkpoints, a copied constant in a model
    /// inflated from an image ViT; a key bias shifts all of a query's logits alike, so softmax
    /// ignores it), so methods that train biases leave it out.
    var keyBiasIsFixedZero: Bool { get }
}

/// The token layout of a block's sequence: `prefixTokens` tokens (class, register) first, then a
/// height × width grid of patch tokens in row-major order — or, in a video backbone (VideoMAE),
/// one such grid per time step, one after the other. A ViT's grid is fixed and square; a Swin
/// built for dense prediction takes any input size, so its blocks report the grid of the map
/// they are running (see `SwinTransformerBlock.tokenGrid`).
public struct TokenGrid: Equatable, Sendable {
    public let prefixTokens: Int
    public let height: Int
    public let width: Int

    public init(prefixTokens: Int, height: Int, width: Int) { (self.prefixTokens, self.height, self.width) = (prefixTokens, height, width) }
    public init(prefixTokens: Int, side: Int) { self.init(prefixTokens: prefixTokens, height: side, width: side) }

    /// Patch tokens in one grid.
    public var area: Int { height * width }
}

extension TransformerBlockSite {
    public var keyBiasIsFixedZero: Bool { false }

    /// The block's linear layers with their timm names within the block, in forward order.
    public var linears: [(name: String, layer: Linear)] {
        [("attn.qkv", qkv), ("attn.proj", proj), ("mlp.fc1", fc1), ("mlp.fc2", fc2)]
    }

    /// The block's LayerNorms with their timm names within the block.
    public var norms: [(name: String, layer: LayerNorm)] { [("norm1", norm1), ("norm2", norm2)] }

    /// The width of the MLP's hidden layer.
    public var mlpHidden: Int { fc1.outFeatures }

    /// `local` under this block's path (`blocks.5` + `attn.qkv` → `blocks.5.attn.qkv`).
    public func name(_ local: String) -> String { "\(path).\(local)" }

    /// Removes every hook from the block's sites and layers.
    public func removeHooks() {
        hooks = BlockHooks()
        for (_, layer) in linears { layer.hooks = [] }
        for (_, norm) in norms { norm.hooks = [] }
    }
}

/// One hookable layer outside the transformer blocks (patch embedding, patch merging, final
/// norm), for methods that act after every operation (SSF).
public enum TokenLayer {
    case linear(Linear)
    case norm(LayerNorm)
    case conv(Conv2d)
}
