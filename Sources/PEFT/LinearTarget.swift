import Models
import NN
import Tensor

/// A linear map that weight-delta methods (LoRA, DoRA, …) can target.
/// Transformer blocks (ViT, Swin; any `TransformerBlockSite`), at each block's own width: a
/// layer by its timm path within the block — `attn.qkv` (the whole fused projection), `attn.proj`,
/// `mlp.fc1`, `mlp.fc2` — or the q, k or v slice of the fused projection (`attn.qkv.q`, …). The
/// short names `q`, `k`, `v`, `proj`, `fc1`, `fc2` are the canonical spellings (adapter files
/// record them); the paths decode to the same targets. EfficientNet-Lite: the pointwise (1×1) convolutions, linear maps over channels —
/// every block's `expand` (`_expand_conv`, absent in block 0) or `project` (`_project_conv`)
/// conv, and the head conv (`conv_head`, `_conv_head`). A target of one family is an error on
/// the other (`validate(_:_:for:)`).
public enum LinearTarget: String, Codable, Sendable, CaseIterable {
    case q, k, v, proj, fc1, fc2
    case qkv = "attn.qkv"
    case expand, project
    case convHead = "conv_head"

    static let blockTargets: [LinearTarget] = [.q, .k, .v, .qkv, .proj, .fc1, .fc2]

    /// The block-relative timm paths that name the same targets as the short names.
    private static let paths: [String: LinearTarget] = [
        "attn.qkv.q": .q, "attn.qkv.k": .k, "attn.qkv.v": .v, "attn.proj": .proj, "mlp.fc1": .fc1, "mlp.fc2": .fc2,
    ]

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let target = LinearTarget(rawValue: name) ?? Self.paths[name] else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "'\(name)' is not a target; on transformer blocks: q, k, v, attn.qkv, proj (attn.proj), fc1 (mlp.fc1), fc2 (mlp.fc2); on EfficientNet-Lite: expand, project, conv_head"))
        }
        self = target
    }
    static let cnnTargets: [LinearTarget] = [.expand, .project, .convHead]
    var isBlockTarget: Bool { Self.blockTargets.contains(self) }

    /// The layer holding this target in `block`.
    func layer(in block: any TransformerBlockSite) -> Linear {
        switch self {
        case .q, .k, .v, .qkv: block.qkv
        case .proj: block.proj
        case .fc1: block.fc1
        case .fc2: block.fc2
        case .expand, .project, .convHead: preconditionFailure("LinearTarget: \(rawValue) is not a transformer-block target")
        }
    }

    /// The output rows of `layer(in:)` this target owns (a third of qkv for q/k/v).
    func rows(in block: any TransformerBlockSite) -> Range<Int> {
        let out = layer(in: block).outFeatures
        switch self {
        case .q: return 0..<(out / 3)
        case .k: return (out / 3)..<(2 * out / 3)
        case .v: return (2 * out / 3)..<out
        default: return 0..<out
        }
    }

    /// The timm name of the layer in `block` (`blocks.3.attn.qkv`, `layers.1.blocks.0.mlp.fc1`).
    func layerName(in block: any TransformerBlockSite) -> String {
        switch self {
        case .q, .k, .v, .qkv: block.name("attn.qkv")
        case .proj: block.name("attn.proj")
        case .fc1: block.name("mlp.fc1")
        case .fc2: block.name("mlp.fc2")
        case .expand, .project, .convHead: preconditionFailure("LinearTarget: \(rawValue) is not a transformer-block target")
        }
    }

    /// The convolutions an EfficientNet-Lite target names, with their checkpoint names, for
    /// `targets` in forward order (block by block, expand before project, the head conv last).
    static func convolutions(_ targets: [LinearTarget], in net: EfficientNetLite) -> [(name: String, layer: Conv2d)] {
        var list: [(name: String, layer: Conv2d)] = []
        for (i, block) in net.blocks.enumerated() {
            if targets.contains(.expand), let expand = block.expandConv { list.append(("_blocks.\(i)._expand_conv", expand)) }
            if targets.contains(.project) { list.append(("_blocks.\(i)._project_conv", block.projectConv)) }
        }
        if targets.contains(.convHead) { list.append(("_conv_head", net.convHead)) }
        return list
    }

    /// Checks that every target exists on `backbone`'s family (block targets on a backbone with
    /// transformer blocks, conv targets on EfficientNet-Lite); other backbones are left to the
    /// method's attach.
    static func validate(_ method: String, _ targets: [LinearTarget], for backbone: any Backbone) throws {
        if !backbone.transformerBlocks.isEmpty, let wrong = targets.first(where: { !$0.isBlockTarget }) {
            throw MethodOptionError("\(method): option 'targets' = \(targets.map(\.rawValue)): '\(wrong.rawValue)' is an EfficientNet-Lite target; on transformer blocks (\(backbone.architecture)) the targets are \(blockTargets.map(\.rawValue).joined(separator: ", "))")
        }
        if backbone is EfficientNetLite, let wrong = targets.first(where: { $0.isBlockTarget }) {
            throw MethodOptionError("\(method): option 'targets' = \(targets.map(\.rawValue)): '\(wrong.rawValue)' is a ViT target; on \(backbone.architecture) the targets are \(cnnTargets.map(\.rawValue).joined(separator: ", ")) (the pointwise convolutions)")
        }
    }

    /// The name of a method tensor for this target (`blocks.3.attn.qkv.lora_A.q`, `blocks.3.mlp.fc1.lora_A`).
    func tensorName(in block: any TransformerBlockSite, _ base: String) -> String {
        switch self {
        case .q, .k, .v: "\(layerName(in: block)).\(base).\(rawValue)"
        default: "\(layerName(in: block)).\(base)"
        }
    }
}

extension Linear {
    /// Folds this layer's hooks into its weight and bias, valid when the hooked layer is affine in
    /// its input (LoRA, DoRA, FacT, RepAdapter, SSF on a linear layer): the new weight and bias
    /// are read off the hooked layer's outputs for the identity matrix and for zero.
    func foldHooks() throws {
        guard !hooks.isEmpty else { return }
        let n = inFeatures
        let atIdentity = self(Tensor.eye(n))                       // [in, out] = Wᵀ + b
        let atZero = self(Tensor.zeros([1, n]))                    // [1, out] = b
        let newWeight = (atIdentity - atZero).transposed()         // [out, in]
        if let bias {
            bias.data.update(from: atZero.data, count: outFeatures)
        } else if atZero.scalars.contains(where: { $0 != 0 }) {
            throw MethodOptionError("cannot merge: the method adds a bias to a layer that has none (\(weight.shape))")
        }
        weight.data.update(from: newWeight.data, count: weight.count)
        hooks = []
    }
}
