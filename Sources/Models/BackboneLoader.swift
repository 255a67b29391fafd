import Foundation

/// Loads any supported backbone by the CLI's `--model` name: EfficientNet-Lite presets
/// (`efficientnet_lite0`…), VideoMAE (its preset, or a Hugging Face folder of model_type
/// `videomae`; input clips [B, T, C, H, W]), Swin (a `swin_…` preset, or a hub folder / config.json naming a Swin
/// architecture), a DINOv2 ONNX export (a `.onnx` file: its own weights, no `weights`), otherwise
/// a ViT (preset, hub folder or config.json). `imgSize` resamples a ViT's position embedding and
/// sets a Swin's input size; a CNN takes any input size as it is.
public enum BackboneLoader {
    public static func load(model: String, weights: URL?, imgSize: Int? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> any Backbone {
        if URL(fileURLWithPath: model).pathExtension.lowercased() == "onnx" {
            guard weights == nil, numClasses == nil || numClasses == 0 else {
                throw ModelConfigError("\(model): an ONNX model brings its own weights and has no head (no --weights, no --num-classes)")
            }
            return try VisionTransformer.loadDINOv2ONNX(URL(fileURLWithPath: model), imgSize: imgSize)
        }
        if (try? EfficientNetLiteConfig.preset(model)) != nil {
            return try EfficientNetLite.load(model: model, weights: weights, numClasses: numClasses)
        }
        if try VideoMAE.config(forModel: model, numClasses: numClasses) != nil {
            return try VideoMAE.load(model: model, weights: weights, numClasses: numClasses, seed: seed)
        }
        if try SwinSource.resolve(model, imgSize: imgSize, numClasses: numClasses) != nil {
            return try SwinTransformer.load(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
        }
        return try VisionTransformer.load(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
    }
}
