import Foundation

/// Loads any supported backbone by the CLI's `--model` name: EfficientNet-Lite presets
/// (`efficientnet_lite0`…), otherwise a ViT (preset, hub folder or config.json). `imgSize`
/// resamples a ViT's position embedding; a CNN takes any input size as it is.
public enum BackboneLoader {
    public static func load(model: String, weights: URL?, imgSize: Int? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> any Backbone {
        if (try? EfficientNetLiteConfig.preset(model)) != nil {
            return try EfficientNetLite.load(model: model, weights: weights, numClasses: numClasses)
        }
        return try VisionTransformer.load(model: model, weights: weights, imgSize: imgSize, numClasses: numClasses, seed: seed)
    }
}
