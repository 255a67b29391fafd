import Foundation
import NN
import Tensor

extension VideoMAE {
    /// Writes the model as a folder `VideoMAE.load(model:)` (and so `--model FOLDER`) reads:
    /// `config.json` (Hugging Face's VideoMAEConfig keys, `model_type` videomae, plus the keys
    /// only this project reads: `layerscale_value`, `position_embedding_type`, `temporal_position_scale`,
    /// `fc_norm_eps`) and
    /// `model.safetensors` in the released code's names, the tubelet embedding as its Conv3d
    /// weight [D, C, t, p, p]. `metadata` goes into the safetensors header.
    public func writeFolder(_ folder: URL, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        var json = try JSONSerialization.jsonObject(with: encoder.encode(config)) as! [String: Any]
        json["model_type"] = "videomae"
        json["architectures"] = [config.numLabels > 0 ? "VideoMAEForVideoClassification" : "VideoMAEModel"]
        if config.numLabels > 0 { json["id2label"] = Dictionary(uniqueKeysWithValues: (0..<config.numLabels).map { ("\($0)", "LABEL_\($0)") }) }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: folder.appendingPathComponent("config.json"))

        var tensors = stateDict
        let (t, p) = (config.tubeletSize, config.patchSize)
        tensors["patch_embed.proj.weight"] = patchEmbed.weight.reshaped([config.hiddenSize, config.numChannels, t, p, p])
        try SafeTensors.write(tensors, metadata: metadata.merging(["format": "pt"]) { old, _ in old },
                              to: folder.appendingPathComponent("model.safetensors"))
    }
}
