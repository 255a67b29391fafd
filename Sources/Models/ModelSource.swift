import Foundation
import NN

/// Where a model comes from, as the CLI's `--model` names it: a timm preset name
/// (`vit_base_patch16_224`), a timm hub folder (`config.json` + `model.safetensors`), or a
/// `config.json` file.
public struct ModelSource {
    public var config: VisionTransformerConfig
    /// The weights that come with the source (a hub folder's model.safetensors), if any.
    public var defaultWeights: URL?
    /// The timm architecture name.
    public var architecture: String
    /// The preset's preprocessing, or the hub folder's `pretrained_cfg` over it.
    public var preprocessing: Preprocessing

    public static func resolve(_ name: String, imgSize: Int? = nil, numClasses: Int? = nil) throws -> ModelSource {
        var isFolder: ObjCBool = false
        var source: ModelSource
        if FileManager.default.fileExists(atPath: name, isDirectory: &isFolder) {
            let folder = isFolder.boolValue ? URL(fileURLWithPath: name) : URL(fileURLWithPath: name).deletingLastPathComponent()
            let configURL = isFolder.boolValue ? folder.appendingPathComponent("config.json") : URL(fileURLWithPath: name)
            source = try fromHubConfig(configURL)
            let weights = folder.appendingPathComponent("model.safetensors")
            source.defaultWeights = FileManager.default.fileExists(atPath: weights.path) ? weights : nil
        } else {
            let config = try VisionTransformerConfig.preset(name)
            source = ModelSource(config: config, defaultWeights: nil, architecture: name, preprocessing: VisionTransformerConfig.preprocessing(ofPreset: name, config))
        }
        if let imgSize { source.config.imgSize = imgSize }
        if let numClasses { source.config.numClasses = numClasses }
        try source.config.validate()
        return source
    }

    /// The model_args V-PEFT Bench understands; any other key is an error, never ignored.
    static let knownModelArgs: Set<String> = [
        "img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads", "mlp_ratio", "qkv_bias", "class_token",
        "global_pool", "fc_norm", "pre_norm", "norm_eps", "norm_layer_eps", "act_layer", "init_values", "num_classes", "drop_path_rate",
    ]

    /// Reads a timm hub `config.json`: `architecture` picks the preset, `model_args` override
    /// it, `num_classes` and `global_pool` at the top level apply last.
    static func fromHubConfig(_ url: URL) throws -> ModelSource {
        let values = HubConfigValues(file: url.path)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw values.error("cannot read") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw values.error("not a JSON object") }
        guard let architecture = json["architecture"] as? String else { throw values.error("no 'architecture' field") }
        var config: VisionTransformerConfig
        do { config = try .preset(architecture) } catch { throw values.error("\(error)") }
        let args = try values.modelArguments(json, supported: knownModelArgs, family: "ViT")
        for (key, value) in args {
            switch key {
            case "img_size": config.imgSize = try values.int(key, value)
            case "patch_size": config.patchSize = try values.int(key, value)
            case "in_chans": config.inChans = try values.int(key, value)
            case "embed_dim": config.embedDim = try values.int(key, value)
            case "depth": config.depth = try values.int(key, value)
            case "num_heads": config.numHeads = try values.int(key, value)
            case "mlp_ratio": config.mlpRatio = try values.float(key, value)
            case "qkv_bias": config.qkvBias = try values.bool(key, value)
            case "class_token": config.classToken = try values.bool(key, value)
            case "global_pool": config.globalPool = try values.string(key, value)
            case "fc_norm": config.fcNorm = value is NSNull ? nil : try values.bool(key, value)
            case "pre_norm": config.preNorm = try values.bool(key, value)
            case "norm_eps", "norm_layer_eps": config.normEps = try values.float(key, value)
            case "act_layer":
                guard let s = value as? String, let act = Activation(rawValue: s == "quickgelu" ? "quick_gelu" : s) else {
                    throw values.error("'act_layer' = \(value) is not one of \(Activation.allCases.map(\.rawValue))")
                }
                config.actLayer = act
            case "init_values": config.initValues = value is NSNull ? nil : try values.float(key, value)
            case "num_classes": config.numClasses = try values.int(key, value)
            case "drop_path_rate": config.dropPathRate = try values.float(key, value)
            default: break
            }
        }
        if let n = json["num_classes"] { config.numClasses = try values.int("num_classes", n) }
        if let pool = json["global_pool"] as? String { config.globalPool = pool }
        if args["img_size"] == nil, let size = values.pretrainedInputSize(json) { config.imgSize = size }
        return ModelSource(config: config, defaultWeights: nil, architecture: architecture,
                           preprocessing: try VisionTransformerConfig.preprocessing(ofPreset: architecture, config).overridden(byPretrainedConfig: json, values))
    }
}
