import NN
import Tensor

/// PEFT *sites* of transformer blocks beyond single layers (linear and norm layers take a
/// `LayerHook` directly). Every `TransformerBlockSite` (ViT, Swin) calls these hooks at the same
/// fixed places in its forward; it never names a method, and with no hooks installed the forward
/// is exactly timm's.
///
///     tokens ─▶ [block l: input hooks ─▶ x + DP(branch(attn(norm1 x))) + bypass ─▶ afterResidual
///                         ─▶ x + DP(branch(mlp(norm2 x))) + bypass ─▶ afterResidual ─▶ output hooks]
///            ─▶ norm ─▶ final hooks ─▶ pool ─▶ feature hooks ─▶ head

/// Transforms a token sequence [B, N, D] (or pooled features [B, D]): prompt insertion, side
/// networks reading or adding back hidden states.
public protocol TokenHook: AnyObject {
    func callAsFunction(_ tokens: Tensor, context: inout ForwardContext) -> Tensor
}

/// A module around a block's attention or MLP sub-layer.
public protocol BranchHook: AnyObject {
    /// Replaces the sub-layer output `output` (before DropPath and the residual add); `normed`
    /// is the sub-layer's input (norm1 x / norm2 x) and `stream` the residual stream x.
    /// Sequential adapters transform `output`; parallel ones add a function of `normed`.
    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor
    /// A term added to the stream beside the DropPath'd branch (parallel modules with their own
    /// or no DropPath, like AdaptFormer and Convpass); nil when none.
    func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor?
    /// Transforms the stream after the residual add (modules "after the attention residual").
    func afterResidual(_ stream: Tensor, context: inout ForwardContext) -> Tensor
    /// Whether `branch`/`bypass` read `normed`. A block whose MLP branch hooks do not may
    /// recompute norm2 with the MLP in the backward (`Mlp.recompute`).
    var readsNormed: Bool { get }
}

extension BranchHook {
    public var readsNormed: Bool { true }
    public func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor { output }
    public func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor? { nil }
    public func afterResidual(_ stream: Tensor, context: inout ForwardContext) -> Tensor { stream }
}

/// What multi-head attention multiplies: q, k, v [B, heads, N, Dh] and optional extra keys and
/// values [heads, P, Dh] shared by the batch.
public struct AttentionInputs {
    public var q: Tensor
    public var k: Tensor
    public var v: Tensor
    public var extraKeys: Tensor?
    public var extraValues: Tensor?
}

/// Changes attention's inputs: prefix keys/values (Prefix tuning), K/V modulation (PATT).
public protocol AttentionHook: AnyObject {
    func modify(_ inputs: inout AttentionInputs, normed: Tensor, context: inout ForwardContext)
}

/// The hooks of one block.
public struct BlockHooks {
    public var input: [TokenHook] = []
    public var attention: [AttentionHook] = []
    public var attnBranch: [BranchHook] = []
    public var mlpBranch: [BranchHook] = []
    public var output: [TokenHook] = []

    public init() {}

    public var isEmpty: Bool { input.isEmpty && attention.isEmpty && attnBranch.isEmpty && mlpBranch.isEmpty && output.isEmpty }
}

/// x + DropPath(branch) with the branch hooks of one sub-layer: transform the branch, add bypass
/// terms, then transform the sum. One routine for every block type, so a hook means the same
/// thing in a ViT and a Swin block.
func residual(_ x: Tensor, _ output: Tensor, normed: Tensor, hooks: [BranchHook], dropPath: Float, context: inout ForwardContext) -> Tensor {
    var branch = output
    for hook in hooks { branch = hook.branch(branch, normed: normed, stream: x, context: &context) }
    var y = x + branch.dropPath(dropPath, training: context.options.training, using: &context.rng)
    for hook in hooks { if let extra = hook.bypass(stream: x, normed: normed, context: &context) { y = y + extra } }
    for hook in hooks { y = hook.afterResidual(y, context: &context) }
    return y
}

extension Array where Element == TokenHook {
    func apply(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        var x = x
        for hook in self { x = hook(x, context: &context) }
        return x
    }
}

extension VisionTransformer {
    /// Removes every PEFT hook from every site: the plain backbone again.
    public func removeAllHooks() {
        tokenHooks = []
        finalHooks = []
        featureHooks = []
        removeSiteHooks()
    }

    /// The final LayerNorm and its timm name (`norm`, or `fc_norm` for avg-pool models).
    public var finalNorm: (name: String, layer: LayerNorm) {
        if let norm { return ("norm", norm) }
        return ("fc_norm", fcNorm!)
    }
}
