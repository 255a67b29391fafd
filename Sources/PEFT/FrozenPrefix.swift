import Models
import NN
import Tensor

/// Where the frozen, deterministic front of a PEFT model ends: everything before that point
/// neither trains nor carries a method, nor draws random numbers while training, so its output
/// depends only on the (un-augmented) image and can be computed once and reused every epoch.
public enum FrozenPrefix: Equatable, Sendable, CustomStringConvertible {
    /// The token sequence entering block l (partial-k: l = depth − k).
    case blockInput(Int)
    /// The pooled feature the head reads (linear probing).
    case features
    /// The embeddings and every block's output, which a side network reads beside an untouched
    /// backbone (LST, LAST): the blocks run once per image, the side network every step.
    case blockOutputs

    public var description: String {
        switch self {
        case .blockInput(let l): "the tokens entering block \(l)"
        case .features: "the pooled features"
        case .blockOutputs: "the embeddings and every block's output"
        }
    }
}

extension PEFTModel {
    /// The model's frozen prefix, or nil when nothing before the first block qualifies (or the
    /// backbone is not a ViT). Call after the training drop-path rate is set: a block with
    /// stochastic depth is not deterministic.
    public var frozenPrefix: FrozenPrefix? {
        guard taskHead == nil, let vit = backbone as? VisionTransformer else { return nil }   // cached rows are classifier inputs
        func frozen(_ tensors: [(name: String, tensor: Tensor)]) -> Bool { !tensors.contains { $0.tensor.requiresGrad } }
        let embedding = vit.namedParameters.filter { ["cls_token", "pos_embed"].contains($0.name) || $0.name.hasPrefix("patch_embed.") || $0.name.hasPrefix("norm_pre.") }
        guard frozen(embedding), vit.patchEmbed.proj.hooks.isEmpty, vit.normPre?.hooks.isEmpty ?? true else { return nil }
        /// Frozen, deterministic, and nothing inside it changes what it computes.
        func unchanged(_ block: Block) -> Bool {
            let layersHookFree = block.linears.allSatisfy { $0.layer.hooks.isEmpty } && block.norm1.hooks.isEmpty && block.norm2.hooks.isEmpty
            let h = block.hooks
            return frozen(block.namedParameters) && layersHookFree && block.dropPath == 0
                && h.input.isEmpty && h.attention.isEmpty && h.attnBranch.isEmpty && h.mlpBranch.isEmpty
        }
        // A side network's hooks read the embeddings and block outputs (the method says they
        // only read, the last block's excepted: see `forward(replaying:)`).
        if type(of: method).readsFrozenBlockOutputs {
            return vit.blocks.allSatisfy(unchanged) ? .blockOutputs : nil
        }
        guard vit.tokenHooks.isEmpty else { return nil }
        let first = vit.blocks.firstIndex { !unchanged($0) || !$0.hooks.output.isEmpty } ?? vit.blocks.count
        if first < vit.blocks.count { return first == 0 ? nil : .blockInput(first) }
        let finalNorm = vit.finalNorm.layer
        let headFree = frozen(vit.namedParameters.filter { $0.name.hasPrefix("norm.") || $0.name.hasPrefix("fc_norm.") })
            && finalNorm.hooks.isEmpty && vit.finalHooks.isEmpty && vit.featureHooks.isEmpty && (vit.norm?.hooks.isEmpty ?? true)
        return headFree ? .features : .blockInput(vit.blocks.count)
    }

    /// The frozen prefix's output for `images` [B, 3, H, W] (no graph), one row per image.
    public func frozenPrefixOutput(_ images: Tensor, at point: FrozenPrefix) -> Tensor {
        let vit = backbone as! VisionTransformer
        return withoutGradients {
            switch point {
            case .blockInput(let l): vit.hidden(images, throughBlocks: l)
            case .features: vit.forward(images, options: ForwardOptions(), rng: SeededRandom(seed: 0)).features
            case .blockOutputs:
                // [B, L + 1, N, D]: one row per image, like the other points.
                concat(vit.sideInputs(images).map { $0.reshaped([$0.shape[0], 1, $0.shape[1], $0.shape[2]]) }, dim: 1)
            }
        }
    }

    /// The logits from a frozen prefix's output (`frozenPrefixOutput`, rows gathered per batch):
    /// the same computation as `forward(images)` from that point on.
    public func forward(frozenPrefixOutput hidden: Tensor, at point: FrozenPrefix, options: ForwardOptions = ForwardOptions(),
                        rng: SeededRandom = SeededRandom(seed: 0)) -> Tensor {
        dropout.training = options.training
        dropout.rng = rng.derived("peft-dropout")
        let vit = backbone as! VisionTransformer
        switch point {
        case .blockInput(let l): return vit.forward(fromBlock: l, hidden: hidden, options: options, rng: rng).logits!
        case .features: return vit.head!(hidden)
        case .blockOutputs:
            let (b, count, n, d) = (hidden.shape[0], hidden.shape[1], hidden.shape[2], hidden.shape[3])
            let outputs = (0..<count).map { hidden.narrowed(1, start: $0, length: 1).reshaped([b, n, d]) }
            return vit.forward(replaying: outputs, options: options, rng: rng).logits!
        }
    }
}
