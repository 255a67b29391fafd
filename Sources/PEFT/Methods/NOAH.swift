import Models
import NN
import Tensor

/// NOAH — Zhang et al., 2022 (Neural prOmpt seArcH): per layer l, VPT-deep prompts (p_l tokens),
/// LoRA on the whole fused qkv (rank r_l, no scaling, dropout on its input) and a sequential
/// adapter on the MLP output (dim a_l, QuickGELU, dropout before up), with (p, r, a) per layer
/// chosen by a one-shot supernet search. This file trains a *subnet*: one of the 19 released
/// VTAB-1k subnets (`subnet: <task>`, default cifar100) or explicit per-layer lists (`prompts`,
/// `ranks`, `adapter_dims`, all three, one entry per block; a rank or adapter dim of 0 leaves
/// that part out). Retraining the released subnets is the faithful reproduction; the supernet
/// training and evolutionary search are not implemented (optional for reproducing the released
/// subnets; docs/methods.md, "NOAH").
/// Wiring choices: prompts are inserted after the class token and replaced before every block
/// (NOAH appends them at the end of the sequence; without position embeddings on prompts the
/// class token's output is the same); the adapter acts on the MLP output before DropPath (NOAH
/// applies it after; identical when drop-path is off). Init: prompts as VPT, LoRA A kaiming-
/// uniform, B zero, adapter down xavier-uniform, up and biases zero. NOAH's released model then
/// re-initialises every Linear to trunc-normal(0.02) with zero bias (its `init_weights`), so
/// there LoRA B and the adapter's up-projection do not start at zero: `init: vpetl` applies that
/// re-initialisation (the `official` recipe of configs/methods/noah.yaml sets it). Prompt
/// dropout (`prompt_dropout`, 0 here; 0.1 in NOAH's training scripts) acts on the prompts as in
/// VPT-deep.
/// Sites: tokens, blockInput(l), linear(l, qkv), branch(l, mlp). Backbones: ViT (its prompts join one
/// global token sequence; Swin is refused by name).
/// Params per layer: d·p + 4d·r + [a > 0](2d·a + a + d); ViT-B/16 cifar100 subnet: 320,330
/// (19-task mean 360,134; NOAH's own counter reports more).
public struct NOAH: PEFTMethod {
    public static let name = "noah"
    public static let summary = "NOAH (Zhang et al. 2022): searched per-layer VPT-deep + LoRA + adapter subnets"
    public static let sites = "tokens, blockInput(l), linear(l, qkv), branch(l, mlp)"
    public static let mergeable = false
    /// A released VTAB-1k subnet by task name (used when the explicit lists are empty).
    public var subnet = "cifar100"
    public var prompts: [Int] = []
    public var ranks: [Int] = []
    public var adapterDims: [Int] = []
    public var dropout: Float = 0.1
    /// Dropout on the prompt tokens where they enter (VPT's `prompt_dropout`).
    public var promptDropout: Float = 0
    public init() {}

    /// The released subnets (NOAH's experiments/NOAH/subnet/VTAB configs): p, r, a for layers
    /// 0–11, "A" = 10.
    static let releasedSubnets: [String: (p: String, r: String, a: String)] = [
        "caltech101": ("5A15A1A1A1A1", "1AAA5AAA51A1", "A15AA155A15A"), "cifar100": ("A5A151A1A51A", "A1551A111A11", "5AAA5111AAA1"),
        "clevr_count": ("A15A51A555A1", "11A5AAA151A1", "1AAAA15AAA11"), "clevr_dist": ("A11A5A515A55", "51A5AA115A1A", "111A111A51AA"),
        "diabetic_retinopathy": ("A15A155A5A55", "11A55A1AA5A1", "1155AAA51AA1"), "dmlab": ("1A51AA5AA111", "A515AA555AA1", "515151555AAA"),
        "dsprites_loc": ("5A1AA55155A1", "1111AA1A515A", "111A11AAAAA1"), "dsprites_ori": ("5511A51AAAAA", "1A1A15AA5515", "1AAAA15AAA11"),
        "dtd": ("A5115A511511", "A5115A511511", "111A11AAAAA1"), "eurosat": ("AAAAA155AA5A", "A1AA15A111A1", "AA51A1A5A1AA"),
        "kitti": ("15A1A5111555", "5AAA1A55A5A1", "51AA1A115A55"), "oxford_flowers102": ("AA551A15A15A", "AA551A15A15A", "515511A55A5A"),
        "oxford_iiit_pet": ("A55A1AAAA5AA", "A11A5115AA1A", "15555A15A115"), "patch_camelyon": ("AA5A1AAA5155", "AA1A11555155", "51A5511A1515"),
        "resisc45": ("55A1515A1151", "AA555AAA1515", "555151A55155"), "smallnorb_azi": ("1A1A15AA1AA5", "A5151155A11A", "5111551A1151"),
        "smallnorb_ele": ("A11115AAAA1A", "A11155A51A11", "111A11AAAAA1"), "sun397": ("51A55A151111", "AA5511A1111A", "A5111A551151"),
        "svhn": ("A55A55555555", "555A555AAAA5", "55555A5A5555"),
    ]

    /// (p, r, a) per layer: the explicit lists, or the released subnet.
    func layers(depth: Int) throws -> [(p: Int, r: Int, a: Int)] {
        if !(prompts.isEmpty && ranks.isEmpty && adapterDims.isEmpty) {
            for (option, list) in [("prompts", prompts), ("ranks", ranks), ("adapter_dims", adapterDims)] {
                try MethodOptionError.require(list.count == depth, Self.name, option, list, "needs one entry per block (\(depth)) when the per-layer lists are given")
            }
            return (0..<depth).map { (prompts[$0], ranks[$0], adapterDims[$0]) }
        }
        guard let released = Self.releasedSubnets[subnet] else {
            throw MethodOptionError("\(Self.name): option 'subnet' = \(subnet): no released subnet; known: \(Self.releasedSubnets.keys.sorted().joined(separator: ", ")) (or give prompts, ranks and adapter_dims)")
        }
        try MethodOptionError.require(depth == 12, Self.name, "subnet", subnet, "the released subnets have 12 layers; this backbone has \(depth) (give prompts, ranks and adapter_dims)")
        func digits(_ s: String) -> [Int] { s.map { $0 == "A" ? 10 : Int(String($0))! } }
        let (p, r, a) = (digits(released.p), digits(released.r), digits(released.a))
        return (0..<depth).map { (p[$0], r[$0], a[$0]) }
    }

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require((0..<1).contains(dropout), Self.name, "dropout", dropout, "must be in [0, 1)")
        try MethodOptionError.require((0..<1).contains(promptDropout), Self.name, "prompt_dropout", promptDropout, "must be in [0, 1)")
        guard let vit = backbone as? VisionTransformer else { return }
        let layers = try layers(depth: vit.blocks.count)
        try MethodOptionError.require(layers.allSatisfy { $0.p > 0 }, Self.name, "prompts", layers.map(\.p), "must all be positive")
        try MethodOptionError.require(layers.allSatisfy { $0.r >= 0 }, Self.name, "ranks", layers.map(\.r), "must not be negative")
        try MethodOptionError.require(layers.allSatisfy { $0.a >= 0 }, Self.name, "adapter_dims", layers.map(\.a), "must not be negative")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "its VPT prompts join one global token sequence; a windowed backbone (Swin) has no such sequence")
        let d = vit.config.embedDim, prefix = vit.config.prefixTokens
        let layers = try layers(depth: vit.blocks.count)
        for (l, (block, layer)) in zip(vit.blocks, layers).enumerated() {
            let prompts = model.register("prompt.deep.\(l)", promptInit(vit.config, layer.p, using: &rng))
            if l == 0 {
                vit.tokenHooks.append(PromptInsertion(prompts: prompts, after: prefix, dropout: model.dropout, rate: promptDropout))
            } else {
                block.hooks.input.append(PromptReplacement(prompts: prompts, at: prefix, replacing: layers[l - 1].p, dropout: model.dropout, rate: promptDropout))
            }
            if layer.r > 0 {
                let qkv = block.attn.qkv
                let delta = LowRankDelta(
                    a: model.register("blocks.\(l).attn.qkv.lora_A", Initialiser.kaimingUniform([layer.r, d], fanIn: d, using: &rng), role: .linearWeight),
                    b: model.register("blocks.\(l).attn.qkv.lora_B", Tensor.zeros([qkv.outFeatures, layer.r]), role: .linearWeight))
                qkv.hooks.append(LowRankHook(delta: delta, rows: 0..<qkv.outFeatures, scale: 1, dropout: model.dropout, dropoutRate: dropout))
            }
            if layer.a > 0 {
                block.hooks.mlpBranch.append(SequentialAdapter(Bottleneck(
                    model, prefix: "blocks.\(l).adapter", dim: d, hidden: layer.a, activation: .quickGelu, dropout: dropout,
                    down: (Initialiser.xavierUniform([layer.a, d], fanIn: d, fanOut: layer.a, using: &rng), Tensor.zeros([layer.a])),
                    up: (Tensor.zeros([d, layer.a]), Tensor.zeros([d])))))
            }
        }
        vit.finalHooks.append(PromptRemoval(at: prefix, count: layers[layers.count - 1].p))
    }
}
