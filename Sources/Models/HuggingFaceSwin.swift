import Foundation
import Tensor

/// Hugging Face's `SwinBackbone` (as dense heads such as `UperNetForSemanticSegmentation` embed
/// it) read into the timm-layout `SwinTransformer`: its `SwinConfig` becomes a
/// `SwinTransformerConfig` with `.dense` windowing (the backbone runs with
/// `always_partition=True`), and its tensor names map onto timm's.
///
/// Names, after the wrapper's `backbone.` prefix:
///
/// | Hugging Face | timm |
/// |---|---|
/// | `embeddings.patch_embeddings.projection` | `patch_embed.proj` |
/// | `embeddings.norm` | `patch_embed.norm` |
/// | `encoder.layers.i.blocks.j.layernorm_before` / `layernorm_after` | `layers.i.blocks.j.norm1` / `norm2` |
/// | `….attention.self.query` + `key` + `value` | `….attn.qkv` (rows q, k, v) |
/// | `….attention.self.relative_position_bias_table` | `….attn.relative_position_bias_table` |
/// | `….attention.output.dense` | `….attn.proj` |
/// | `….intermediate.dense` / `….output.dense` | `….mlp.fc1` / `mlp.fc2` |
/// | `encoder.layers.i.downsample` (end of stage i) | `layers.(i+1).downsample` (start of stage i+1) |
/// | `swin.layernorm` or `layernorm` (unused by the backbone's outputs) | `norm` |
/// | `hidden_states_norms.stageK` | not a Swin tensor: the per-stage output norms, returned apart |
public enum HuggingFaceSwin {
    /// A `SwinTransformerConfig` for an HF `SwinConfig` (the `backbone_config` of a dense model)
    /// on square `imgSize` inputs (HF pads any size; this backbone is built for one). Every stage
    /// must be an output (`out_features` stage1…stageN), as UPerNet uses them. Every `SwinConfig`
    /// field is read or checked; the other keys are `PretrainedConfig`'s generic ones (labels,
    /// dtype, and the generation defaults older transformers versions wrote), which do not shape
    /// the backbone.
    public static func config(_ json: [String: Any], imgSize: Int, file: String) throws -> SwinTransformerConfig {
        let values = HubConfigValues(file: file)
        var c = SwinTransformerConfig()
        c.imgSize = imgSize
        c.numClasses = 0
        c.windowing = .dense
        var window: Int?
        for key in json.keys.sorted() {
            let value = json[key]!
            switch key {
            case "image_size": _ = try values.int(key, value)  // the size the weights were trained at; inputs decide
            case "patch_size": c.patchSize = try values.int(key, value)
            case "num_channels": c.inChans = try values.int(key, value)
            case "embed_dim": c.embedDim = try values.int(key, value)
            case "depths": c.depths = try values.ints(key, value)
            case "num_heads": c.numHeads = try values.ints(key, value)
            case "window_size": window = try values.int(key, value)
            case "mlp_ratio": c.mlpRatio = try values.float(key, value)
            case "qkv_bias": c.qkvBias = try values.bool(key, value)
            case "layer_norm_eps": c.normEps = try values.float(key, value)
            case "drop_path_rate": c.dropPathRate = try values.float(key, value)
            case "hidden_act":
                let act = try values.string(key, value)
                if act != "gelu" { throw values.error("backbone_config.hidden_act = '\(act)': only 'gelu' (Swin's) is supported") }
            case "use_absolute_embeddings":
                if try values.bool(key, value) { throw values.error("backbone_config.use_absolute_embeddings = true is not supported (Swin V1 has none)") }
            case "hidden_dropout_prob", "attention_probs_dropout_prob":
                if try values.float(key, value) != 0 { throw values.error("backbone_config.\(key) = \(value): only 0 is supported (this Swin has no dropout)") }
            case "out_features":
                guard let names = value as? [String] else { throw values.error("backbone_config.out_features = \(value) is not a list of stage names") }
                let expected = (1...c.depths.count).map { "stage\($0)" }  // "depths" sorts before "out_features"
                if names != expected {
                    throw values.error("backbone_config.out_features = \(names): UPerNet on this backbone needs every stage, \(expected)")
                }
            default:
                break  // initializer_range, encoder_stride (masked-image modelling), derived values, PretrainedConfig's generic keys
            }
        }
        c.windowSize = Array(repeating: window ?? 7, count: c.depths.count)
        do { try c.validate() } catch { throw values.error("backbone_config: \(error)") }
        return c
    }

    /// Splits HF backbone tensors (names without the `backbone.` prefix) into timm-named Swin
    /// tensors and the per-stage output norms (`stage1` … as keys `0` …, `weight`/`bias`).
    public static func timmTensors(from tensors: [String: Tensor], file: String) throws
        -> (swin: [String: Tensor], stageNorms: [Int: (weight: Tensor, bias: Tensor)]) {
        var swin: [String: Tensor] = [:]
        var norms: [Int: [String: Tensor]] = [:]
        var projections: [String: [String: Tensor]] = [:]  // "layers.i.blocks.j|weight" -> q/k/v
        for (key, tensor) in tensors {
            if key.hasPrefix("hidden_states_norms.stage") {
                let rest = key.dropFirst("hidden_states_norms.stage".count).split(separator: ".")
                guard rest.count == 2, let stage = Int(rest[0]), stage >= 1, ["weight", "bias"].contains(rest[1]) else {
                    throw ModelConfigError("\(file): 'backbone.\(key)' is not a stage norm tensor")
                }
                norms[stage - 1, default: [:]][String(rest[1])] = tensor
                continue
            }
            if key.hasSuffix("relative_position_index") { continue }  // a buffer Swin's formula rebuilds
            guard let (name, projection) = timmName(of: key) else {
                throw ModelConfigError("\(file): 'backbone.\(key)' is not a Hugging Face Swin backbone tensor")
            }
            if let projection {
                projections[name, default: [:]][projection] = tensor
            } else {
                swin[name] = tensor
            }
        }
        for (name, parts) in projections {
            guard let q = parts["q"], let k = parts["k"], let v = parts["v"] else {
                throw ModelConfigError("\(file): '\(name)' needs query, key and value tensors, found \(parts.keys.sorted())")
            }
            swin[name] = concat([q, k, v], dim: 0)
        }
        var stageNorms: [Int: (weight: Tensor, bias: Tensor)] = [:]
        for (stage, pair) in norms {
            guard let w = pair["weight"], let b = pair["bias"] else {
                throw ModelConfigError("\(file): 'backbone.hidden_states_norms.stage\(stage + 1)' needs weight and bias")
            }
            stageNorms[stage] = (w, b)
        }
        return (swin, stageNorms)
    }

    /// The timm name of one HF Swin tensor; for query/key/value the fused `qkv` name plus which
    /// third it is. nil: not a Swin tensor.
    static func timmName(of key: String) -> (name: String, projection: String?)? {
        let direct = [
            "embeddings.patch_embeddings.projection.": "patch_embed.proj.", "embeddings.norm.": "patch_embed.norm.",
            "swin.layernorm.": "norm.", "layernorm.": "norm.",
        ]
        for (from, to) in direct where key.hasPrefix(from) { return (to + key.dropFirst(from.count), nil) }
        let parts = key.split(separator: ".").map(String.init)
        guard parts.count >= 5, parts[0] == "encoder", parts[1] == "layers", let stage = Int(parts[2]) else { return nil }
        if parts[3] == "downsample" {
            return ("layers.\(stage + 1).downsample." + parts[4...].joined(separator: "."), nil)
        }
        guard parts[3] == "blocks", parts.count >= 7, let block = Int(parts[4]) else { return nil }
        let prefix = "layers.\(stage).blocks.\(block)."
        let inner = parts[5...].joined(separator: ".")
        let renames = [
            "layernorm_before.": "norm1.", "layernorm_after.": "norm2.", "attention.output.dense.": "attn.proj.",
            "intermediate.dense.": "mlp.fc1.", "output.dense.": "mlp.fc2.",
        ]
        for (from, to) in renames where inner.hasPrefix(from) { return (prefix + to + inner.dropFirst(from.count), nil) }
        if inner == "attention.self.relative_position_bias_table" { return (prefix + "attn.relative_position_bias_table", nil) }
        for (projection, letter) in [("query", "q"), ("key", "k"), ("value", "v")] {
            let stem = "attention.self.\(projection)."
            if inner.hasPrefix(stem) { return (prefix + "attn.qkv." + inner.dropFirst(stem.count), letter) }
        }
        return nil
    }
}
