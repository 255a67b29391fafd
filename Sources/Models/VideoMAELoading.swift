import Checkpoints
import Foundation
import NN
import Tensor

extension VideoMAE {
    /// The `--model` names that are VideoMAE: the preset, or a Hugging Face folder (or its
    /// config.json) whose `model_type` is `videomae`. Nil for any other model.
    public static func config(forModel model: String, numClasses: Int? = nil) throws -> (config: VideoMAEConfig, folder: URL?)? {
        var isFolder: ObjCBool = false
        var result: (config: VideoMAEConfig, folder: URL?)
        if model == presetName {
            result = (.base, nil)
        } else if FileManager.default.fileExists(atPath: model, isDirectory: &isFolder) {
            let url = URL(fileURLWithPath: model)
            let configURL = isFolder.boolValue ? url.appendingPathComponent("config.json") : url
            guard url.pathExtension == "json" || isFolder.boolValue,
                  let data = FileManager.default.contents(atPath: configURL.path),
                  let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  json["model_type"] as? String == "videomae" else { return nil }
            result = (try hubConfig(json, file: configURL.path), configURL.deletingLastPathComponent())
        } else {
            return nil
        }
        if let numClasses { result.config.numLabels = numClasses }
        try result.config.validate()
        return result
    }

    /// VideoMAE ViT-B/16 (16 frames, 224²) with the released code's settings and no head.
    public static let presetName = "videomae_base_patch16_224"

    /// A model as the CLI names it; `weights` overrides a folder's own weights (model.safetensors,
    /// else pytorch_model.bin). With `numClasses` different from the checkpoint's head, the head
    /// is new (fine-tuning).
    public static func load(model: String, weights: URL? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> VideoMAE {
        guard let (config, folder) = try config(forModel: model, numClasses: numClasses) else {
            throw ModelConfigError("\(model): not a VideoMAE model (the preset \(presetName) or a Hugging Face folder with model_type 'videomae')")
        }
        let videoMAE = try VideoMAE(config, seed: seed)
        let folderWeights = folder.flatMap { folder in
            ["model.safetensors", "pytorch_model.bin"].lazy.map { folder.appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0.path) }
        }
        if let url = weights ?? folderWeights { try videoMAE.loadCheckpoint(url, newHead: numClasses != nil) }
        return videoMAE
    }

    /// Reads Hugging Face's `VideoMAEConfig` keys; HF's own defaults apply to absent ones (its
    /// LayerNorm epsilon 1e-12, fc_norm 1e-5).
    static func hubConfig(_ json: [String: Any], file: String) throws -> VideoMAEConfig {
        let values = HubConfigValues(file: file)
        var c = VideoMAEConfig()
        c.layerNormEps = 1e-12
        func int(_ key: String, _ apply: (Int) -> Void) throws { if let v = json[key] { apply(try values.int(key, v)) } }
        try int("image_size") { c.imageSize = $0 }
        try int("patch_size") { c.patchSize = $0 }
        try int("num_channels") { c.numChannels = $0 }
        try int("num_frames") { c.numFrames = $0 }
        try int("tubelet_size") { c.tubeletSize = $0 }
        try int("hidden_size") { c.hiddenSize = $0 }
        try int("num_hidden_layers") { c.numHiddenLayers = $0 }
        try int("num_attention_heads") { c.numAttentionHeads = $0 }
        try int("intermediate_size") { c.intermediateSize = $0 }
        if let v = json["layer_norm_eps"] { c.layerNormEps = try values.float("layer_norm_eps", v) }
        // Not Hugging Face's keys (its VideoMAE has neither LayerScale nor another position table,
        // and fixes fc_norm's epsilon): written by `writeFolder` for models inflated from an image ViT.
        if let v = json["fc_norm_eps"] { c.fcNormEps = try values.float("fc_norm_eps", v) }
        if let v = json["layerscale_value"] { c.layerScaleInit = try values.float("layerscale_value", v) }
        if let v = json["temporal_position_scale"] { c.temporalPositionScale = try values.float("temporal_position_scale", v) }
        if let v = json["position_embedding_type"] {
            guard let name = v as? String, let type = VideoPositionEmbedding(rawValue: name) else {
                throw values.error("'position_embedding_type' = \(v) is not one of \(VideoPositionEmbedding.allCases.map(\.rawValue))")
            }
            c.positionEmbeddingType = type
        }
        for key in ["qkv_bias", "qv_bias"] { if let v = json[key] { c.qkvBias = try values.bool(key, v) } }  // 4.x, 5.x
        if let v = json["use_mean_pooling"] { c.useMeanPooling = try values.bool("use_mean_pooling", v) }
        if let v = json["hidden_act"] {
            guard let name = v as? String, let act = Activation(rawValue: name) else {
                throw values.error("'hidden_act' = \(v) is not one of \(Activation.allCases.map(\.rawValue))")
            }
            c.hiddenAct = act
        }
        let architectures = json["architectures"] as? [String] ?? []
        if architectures.contains("VideoMAEForVideoClassification") {
            c.numLabels = (json["id2label"] as? [String: Any])?.count ?? 2
            if let v = json["num_labels"] { c.numLabels = try values.int("num_labels", v) }
        }
        return c
    }

    /// Loads a checkpoint in Hugging Face's names (`videomae.encoder.layer.i…`) or the released
    /// code's (`blocks.i…`, fine-tuned, or a pre-training file with `encoder.`-prefixed names
    /// and a decoder, which is dropped). A file without `fc_norm` (pre-training) keeps the
    /// model's fresh one, as VideoMAE's fine-tuning starts; `newHead` keeps a fresh head when
    /// the file's does not fit.
    public func loadCheckpoint(_ url: URL, newHead: Bool = false) throws {
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var state = try Self.ownNames(checkpoint.tensors, file: url.path, width: config.hiddenSize)
        if norm == nil { for key in ["norm.weight", "norm.bias"] { state[key] = nil } }
        // A pre-training file's `pos_embed` is its copy of the fixed sinusoid table.
        if posEmbed == nil { state["pos_embed"] = nil }
        var keepOwn: Set<String> = []
        if fcNorm != nil, state["fc_norm.weight"] == nil, state["fc_norm.bias"] == nil { keepOwn.formUnion(["fc_norm.weight", "fc_norm.bias"]) }
        if newHead && droppingMismatchedHead(&state, head: head, prefix: "head") { keepOwn.formUnion(["head.weight", "head.bias"]) }
        do {
            try load(state, strict: true, keepOwn: keepOwn.contains)
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("\(url.path): \(mismatch)")
        }
    }

    /// The tensors under this model's names. Both layouts store q and v biases apart from the
    /// weight; here they join the ViT block's fused qkv bias with the key third zero, which is
    /// where VideoMAE's attention keeps its fixed zero key bias.
    static func ownNames(_ tensors: [String: Tensor], file: String, width: Int) throws -> [String: Tensor] {
        let huggingFace = tensors.keys.contains { $0.hasPrefix("videomae.") || $0.hasPrefix("embeddings.") || $0.contains("encoder.layer.") }
        var state: [String: Tensor] = [:]
        var qBias: [String: Tensor] = [:], vBias: [String: Tensor] = [:], qkvParts: [String: [Int: Tensor]] = [:]
        for (key, tensor) in tensors {
            var name = key
            if huggingFace {
                if name.hasPrefix("videomae.") { name.removeFirst("videomae.".count) }
            } else if name.hasPrefix("encoder.") {
                name.removeFirst("encoder.".count)
            }
            // Pre-training leftovers: the decoder and the mask token have no place in the encoder.
            if name.hasPrefix("decoder") || name.hasPrefix("encoder_to_decoder") || name == "mask_token" { continue }
            if huggingFace { name = try huggingFaceName(name, file: file) }
            if name.hasSuffix(".attn.q_bias") { qBias[String(name.dropLast(".q_bias".count))] = tensor; continue }
            if name.hasSuffix(".attn.v_bias") { vBias[String(name.dropLast(".v_bias".count))] = tensor; continue }
            if let part = ["query", "key", "value"].firstIndex(where: { name.hasSuffix(".attn.\($0).weight") }) {
                qkvParts[String(name[..<name.range(of: ".attn.", options: .backwards)!.upperBound]) + "qkv", default: [:]][part] = tensor
                continue
            }
            state[name] = name == "patch_embed.proj.weight" && tensor.rank == 5 ? tensor.reshaped([tensor.shape[0], tensor.count / tensor.shape[0]]) : tensor
        }
        for (attention, parts) in qkvParts {
            guard let q = parts[0], let k = parts[1], let v = parts[2] else {
                throw ModelConfigError("\(file): \(attention) needs query, key and value weights; found \(parts.keys.sorted())")
            }
            state[attention + ".weight"] = concat([q, k, v], dim: 0)
        }
        for attention in Set(qBias.keys).union(vBias.keys) {
            guard let q = qBias[attention], let v = vBias[attention], q.shape == [width], v.shape == [width] else {
                throw ModelConfigError("\(file): \(attention) needs q_bias and v_bias of shape [\(width)]")
            }
            state[attention + ".qkv.bias"] = concat([q, Tensor.zeros([width]), v], dim: 0)
        }
        return state
    }

    /// Hugging Face's module path → the released code's (`videomae.` already removed).
    static func huggingFaceName(_ name: String, file: String) throws -> String {
        let direct: [(String, String)] = [
            ("embeddings.patch_embeddings.projection.", "patch_embed.proj."), ("layernorm.", "norm."),
            ("fc_norm.", "fc_norm."), ("classifier.", "head."),
        ]
        for (from, to) in direct where name.hasPrefix(from) { return to + name.dropFirst(from.count) }
        let parts = name.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "encoder", parts[1] == "layer", let index = Int(parts[2]) else {
            throw ModelConfigError("\(file): unexpected tensor '\(name)' for VideoMAE")
        }
        // transformers ≥ 5 stores the q/v biases as `query.bias`/`value.bias`; hub files saved by
        // 4.x as `q_bias`/`v_bias`.
        let inBlock: [(String, String)] = [
            ("attention.attention.query.bias", "attn.q_bias"), ("attention.attention.value.bias", "attn.v_bias"),
            ("attention.attention.query.", "attn.query."), ("attention.attention.key.", "attn.key."),
            ("attention.attention.value.", "attn.value."), ("attention.attention.q_bias", "attn.q_bias"),
            ("attention.attention.v_bias", "attn.v_bias"), ("attention.output.dense.", "attn.proj."),
            ("intermediate.dense.", "mlp.fc1."), ("output.dense.", "mlp.fc2."),
            ("layernorm_before.", "norm1."), ("layernorm_after.", "norm2."),
        ]
        for (from, to) in inBlock where parts[3].hasPrefix(from) { return "blocks.\(index).\(to)\(parts[3].dropFirst(from.count))" }
        throw ModelConfigError("\(file): unexpected tensor '\(name)' for VideoMAE")
    }
}
