import Foundation
import NN
import Tensor

/// What PEFT, training and adapter files ask of a backbone, for EfficientNet-Lite.
extension EfficientNetLite {
    /// The classifier (`_fc` in the checkpoint).
    public var head: Linear? { fc }

    /// The training resolution of the preset (the network itself takes any size).
    public var inputSize: Int { config.imageSize }

    public var architecture: String {
        let matching = EfficientNetLiteConfig.presetNames.first { name in
            var preset = try? EfficientNetLiteConfig.preset(name)
            preset?.numClasses = config.numClasses
            preset?.dropRate = config.dropRate
            preset?.dropPathRate = config.dropPathRate
            return preset == config
        }
        return matching ?? "efficientnet_lite (width \(config.widthMultiplier), depth \(config.depthMultiplier), "
            + "\(blocks.count) blocks, stem \(config.stemSize), features \(config.numFeatures))"
    }

    /// The configuration without what does not change the backbone's tensors: head size,
    /// dropout, stochastic depth, and the training resolution (convolutions and BN are
    /// resolution-independent, so an adapter trained at 224 applies at 260).
    public var architectureIdentity: String {
        var c = config
        c.numClasses = 0
        c.dropRate = 0
        c.dropPathRate = 0
        c.imageSize = 0
        return canonicalIdentity(c)
    }

    /// Stochastic depth for training: block i drops its residual branch with probability
    /// rate · i / n, efficientnet_pytorch's schedule (TF trained with 0.2).
    public func setDropPathRate(_ rate: Float) {
        for (i, block) in blocks.enumerated() { block.dropPath = rate * Float(i) / Float(blocks.count) }
    }

    /// Removes every PEFT hook from every site: the plain backbone again.
    public func removeAllHooks() {
        for (_, conv) in convolutions { conv.hooks = [] }
        for (_, norm) in batchNorms { norm.hooks = [] }
        for block in blocks { block.hooks = [] }
        featureHooks = []
        fc?.hooks = []
    }
}
