import Checkpoints
import Foundation
import Models
import NN
import Tensor

/// Reads a folder saved by Hugging Face's `UperNetForSemanticSegmentation.save_pretrained`
/// (`config.json` + `model.safetensors`) with a Swin backbone.
extension UperNetSegmenter {
    /// True when `path` is a folder (or its config.json) whose config says `model_type: upernet`.
    public static func isHuggingFaceFolder(_ path: String) -> Bool {
        guard let json = try? configJSON(at: URL(fileURLWithPath: path)) else { return false }
        return json.json["model_type"] as? String == "upernet"
    }

    /// The segmenter for inputs of side `imgSize` (the Swin is built for one square size; HF's
    /// `image_size` is the training size, not a limit). Loading is strict: every tensor of the
    /// model must be in the file and every tensor in the file must be used, except BatchNorm's
    /// `num_batches_tracked` counters and the Swin's final norm (`backbone.swin.layernorm`,
    /// which no stage output passes through and HF itself may leave out).
    public static func loadHuggingFace(_ path: String, imgSize: Int) throws -> UperNetSegmenter {
        let (json, configURL) = try configJSON(at: URL(fileURLWithPath: path))
        let file = configURL.path
        guard json["model_type"] as? String == "upernet" else {
            throw ModelConfigError("\(file): model_type = \(json["model_type"] ?? "missing"), expected 'upernet'")
        }
        guard let backboneJSON = json["backbone_config"] as? [String: Any] else {
            throw ModelConfigError("\(file): no 'backbone_config' (a saved UperNet carries its backbone's config)")
        }
        guard backboneJSON["model_type"] as? String == "swin" else {
            throw ModelConfigError("\(file): backbone_config.model_type = \(backboneJSON["model_type"] ?? "missing"); only 'swin' is supported")
        }
        let swinConfig = try HuggingFaceSwin.config(backboneJSON, imgSize: imgSize, file: file)
        let model = try UperNetSegmenter(backbone: try SwinTransformer(swinConfig), config: try UperNetConfig.fromHuggingFace(json, file: file))
        let weights = configURL.deletingLastPathComponent().appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw ModelConfigError("\(weights.path): missing (a saved UperNet folder holds config.json and model.safetensors)")
        }
        try model.loadHuggingFaceState(try SafeTensors.read(weights).tensors, file: weights.path)
        return model
    }

    /// Copies HF-named tensors into the model (see `loadHuggingFace` for what may be absent).
    public func loadHuggingFaceState(_ tensors: [String: Tensor], file: String) throws {
        var backboneTensors: [String: Tensor] = [:], own: [String: Tensor] = [:]
        for (key, tensor) in tensors where !key.hasSuffix("num_batches_tracked") {
            if key.hasPrefix("backbone.") { backboneTensors[String(key.dropFirst("backbone.".count))] = tensor } else { own[key] = tensor }
        }
        let split = try HuggingFaceSwin.timmTensors(from: backboneTensors, file: file)
        for (name, tensor) in split.swin { own["backbone.\(name)"] = tensor }
        for (stage, norm) in split.stageNorms {
            own["backbone.hidden_states_norms.stage\(stage + 1).weight"] = norm.weight
            own["backbone.hidden_states_norms.stage\(stage + 1).bias"] = norm.bias
        }
        var report = StateDictMismatch()
        let targets = namedParameters + namedBuffers
        for (name, target) in targets {
            guard let value = own[name] else {
                if !name.hasPrefix("backbone.norm.") { report.missing.append(name) }
                continue
            }
            guard value.shape == target.shape else { report.wrongShape.append((name, target.shape, value.shape)); continue }
            target.data.update(from: value.data, count: target.count)
        }
        let known = Set(targets.map(\.name))
        report.unexpected = own.keys.filter { !known.contains($0) }.sorted()
        if !report.isEmpty { throw ModelConfigError("\(file): \(report) (names after mapping HF's Swin onto timm's)") }
    }

    private static func configJSON(at url: URL) throws -> (json: [String: Any], url: URL) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
        let configURL = exists && isFolder.boolValue ? url.appendingPathComponent("config.json") : url
        guard let data = FileManager.default.contents(atPath: configURL.path) else { throw ModelConfigError("\(configURL.path): cannot read") }
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelConfigError("\(configURL.path): not a JSON object")
        }
        return (json, configURL)
    }
}
