import Models
import NN
import Tensor

/// Prefix tuning — Li & Liang, ACL 2021, in ViT form: per block, l learned key and value
/// vectors appended to the attention's keys and values, softmax(Q[K; P_k]ᵀ/√d_h)[V; P_v].
/// Backbones: transformer blocks (ViT; Swin, where every window attends to the block's prefixes
/// too — they take neither the relative position bias nor the shift mask); a CNN is refused by name.
/// Sites: attention(l). Init: N(0, 0.02). Params: 2·l·d per block = 18,432·l on ViT-B/16
/// (l = 20 → 368,640 ≈ the table's 0.36M). The optional training-time MLP
/// re-parameterisation of the prefixes is not offered: it changes training dynamics only and
/// merges into exactly these tensors.
public struct PrefixTuning: PEFTMethod {
    public static let name = "prefix"
    public static let summary = "Prefix tuning (Li & Liang 2021): learned keys/values in every attention"
    public static let sites = "attention(l)"
    public static let mergeable = false
    public var length = 20
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(length > 0, Self.name, "length", length, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let keys = model.register(block.name("attn.prefix_key"), Tensor.normal([length, block.width], std: 0.02, using: &rng))
            let values = model.register(block.name("attn.prefix_value"), Tensor.normal([length, block.width], std: 0.02, using: &rng))
            block.hooks.attention.append(PrefixKeysValues(keys: keys, values: values, heads: block.heads))
        }
    }
}

/// Appends the prefixes, split into heads, to keys and values.
final class PrefixKeysValues: AttentionHook {
    let keys: Tensor, values: Tensor, heads: Int
    init(keys: Tensor, values: Tensor, heads: Int) { (self.keys, self.values, self.heads) = (keys, values, heads) }

    func modify(_ inputs: inout AttentionInputs, normed: Tensor, context: inout ForwardContext) {
        let (l, d) = (keys.shape[0], keys.shape[1])
        inputs.extraKeys = keys.reshaped([l, heads, d / heads]).permuted([1, 0, 2])
        inputs.extraValues = values.reshaped([l, heads, d / heads]).permuted([1, 0, 2])
    }
}
