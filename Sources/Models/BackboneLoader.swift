import Foundation

/// Loads any supported backbone by the CLI's `--model` name: EfficientNet-Lite presets
/// (`efficientnet_lite0`…), Swin (a `swin_…` preset, or a hub folder / config.json naming a Swin
/// architecture), otherwise a ViT (preset, hub folder or config.json). `imgSize` resamples a
/// ViT's position embedding and sets a Swin's input size; a CNN takes any input size as it is.
public enum BackboneLoader {
    public static func load(model: String, weights: URL?, imgSize: Int? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> any Backbone {
        if (try? EfficientNetLiteConfig.preset(model)) != nil {
            return try EfficientNetLite.load(model: model, weights: weights, numClasses: numClasses)
        }
        if try SwinSource.resolve(model, imgSize: imgSize, numClasses: numClasses) != nil {
            return try SwinTransformer.load(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
        }
        return try VisionTransformer.load(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
    }
}
