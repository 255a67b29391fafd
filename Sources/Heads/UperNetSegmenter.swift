import Models
import NN
import Tensor

/// Semantic segmentation with UPerNet on a backbone's feature pyramid, as Hugging Face's
/// `UperNetForSemanticSegmentation`: the backbone's maps (a Swin's stages, or a plain ViT's
/// blocks through a neck — anything `FeaturePyramidBackbone`) optionally go through a LayerNorm
/// each (HF's `SwinBackbone` has them: `backbone.hidden_states_norms.stage{k}`), the decode head
/// (and, when configured, the auxiliary FCN head) read those maps, and logits are upsampled
/// bilinearly (align_corners=False) to the input size.
///
/// A plain ViT's maps all sit at the patch stride: with `pyramidNeck` they first go through
/// mmseg's `Feature2PyramidNeck` (strides p/4, p/2, p, 2p), as mmseg's ViT/BEiT UPerNet configs
/// do. A backbone that reads one input size (`fixedInputSide`: a ViT's position embedding) gets
/// every input resized bilinearly to it; the logits come back at the input's own size, so
/// training crops and test images of any size work.
///
/// Names are HF's for everything outside the backbone (`decode_head.…`, `auxiliary_head.…`),
/// mmseg's for the neck (`neck.upsample_4x.…`) and `backbone.` + timm's inside the backbone, so
/// PEFT methods see the backbone exactly as on classification. As a `TaskHead` the neck, the
/// stage norms and both heads are the head: new, trained beside every method, not counted.
public final class UperNetSegmenter: Module, TaskHead {
    public let config: UperNetConfig
    public let backbone: any Backbone & FeaturePyramidBackbone
    /// The ViT neck between the backbone's maps and the norms (nil: the maps are a pyramid already).
    public let neck: Feature2PyramidNeck?
    /// LayerNorm over the channels of each map (nil: the maps go to the heads as they are).
    public let stageNorms: [LayerNorm]?
    public let decodeHead: UperNetHead
    public let auxiliaryHead: FCNHead?

    /// A randomly initialised segmenter (heads drawn from `seed`; load weights for real use);
    /// the backbone must have no classifier head. The neck is drawn from its own stream, so
    /// adding it leaves the heads' initial weights as they were.
    public init(backbone: any Backbone & FeaturePyramidBackbone, config: UperNetConfig, stageNorms: Bool = true, pyramidNeck: Bool = false,
                seed: UInt64 = 0) throws {
        try config.validate(file: "UPerNet config")
        guard backbone.head == nil else { throw ModelConfigError("UperNetSegmenter: the backbone must have no classifier head (num_classes 0)") }
        var neckRNG = SeededRandom(seed: seed).derived("feature2pyramid-init")
        neck = pyramidNeck ? try Feature2PyramidNeck(for: backbone.featureInfo, using: &neckRNG) : nil
        let channels = backbone.featureInfo.map(\.channels)   // the neck keeps every map's channels
        if config.useAuxiliaryHead && !channels.indices.contains(config.auxiliaryInIndex) {
            throw ModelConfigError("UperNetSegmenter: auxiliary head reads map \(config.auxiliaryInIndex), the backbone has \(channels.count)")
        }
        self.config = config
        self.backbone = backbone
        self.stageNorms = stageNorms ? channels.map { LayerNorm($0, eps: 1e-5) } : nil  // HF: nn.LayerNorm(channels), default eps
        var rng = SeededRandom(seed: seed).derived("upernet-init")
        decodeHead = UperNetHead(config, inChannels: channels, using: &rng)
        auxiliaryHead = config.useAuxiliaryHead ? FCNHead(config, inChannels: channels, using: &rng) : nil
    }

    /// The backbone's maps (through the neck, when there is one) after the per-stage norms,
    /// NCHW, finest first. `images` must have the backbone's fixed side, if it has one.
    public func features(_ images: Tensor, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0)) -> [Tensor] {
        if neck == nil, let stageNorms {
            // Swin's maps come channels-last, as the LayerNorms want them: one transpose each.
            return zip(backbone.channelsLastStageFeatures(images, options: options, rng: rng), stageNorms).map { map, norm in
                norm(map).permuted([0, 3, 1, 2])
            }
        }
        var maps = backbone.stageFeatures(images, options: options, rng: rng)
        if let neck { maps = neck(maps) }
        guard let stageNorms else { return maps }
        return zip(maps, stageNorms).map { map, norm in norm(map.permuted([0, 2, 3, 1])).permuted([0, 3, 1, 2]) }
    }

    /// Logits [B, labels, H, W] at the input size; the auxiliary head's too when it exists.
    public func forward(_ images: Tensor, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0))
        -> (logits: Tensor, auxiliaryLogits: Tensor?) {
        let size = spatialSize(images)
        var input = images
        if let side = backbone.fixedInputSide, size.height != side || size.width != side { input = resize(images, to: (side, side), filter: .bilinear) }
        let maps = features(input, options: options, rng: rng)
        let logits = resize(decodeHead(maps), to: size, filter: .bilinear)
        return (logits, auxiliaryHead.map { resize($0(maps), to: size, filter: .bilinear) })
    }

    /// The training loss of Hugging Face's model and mmseg's recipe: per-pixel cross-entropy of
    /// the logits plus `auxiliaryLossWeight` (0.4) times that of the auxiliary logits, pixels
    /// labelled `lossIgnoreIndex` (255) left out. `labels` is [B, H, W] flattened.
    public func loss(_ output: (logits: Tensor, auxiliaryLogits: Tensor?), labels: [Int]) -> Tensor {
        let main = pixelCrossEntropy(output.logits, targets: labels, ignoreIndex: config.lossIgnoreIndex)
        guard let auxiliary = output.auxiliaryLogits else { return main }
        return main + pixelCrossEntropy(auxiliary, targets: labels, ignoreIndex: config.lossIgnoreIndex) * config.auxiliaryLossWeight
    }

    /// Training mode for the neck's and heads' BatchNorms (the backbone's stochastic depth is
    /// `backbone.setDropPathRate`).
    public func setTraining(_ training: Bool) {
        neck?.setTraining(training)
        decodeHead.setTraining(training)
        auxiliaryHead?.setTraining(training)
    }

    public var classes: Int { config.numLabels }
    public var featureBackbone: any Backbone { backbone }

    /// The neck, the stage norms and both heads, by HF (neck: mmseg) name.
    public var headParameters: [(name: String, tensor: Tensor)] {
        var list: [(name: String, tensor: Tensor)] = prefixed("neck", neck)
        for (i, norm) in (stageNorms ?? []).enumerated() { list += prefixed("backbone.hidden_states_norms.stage\(i + 1)", norm) }
        return list + prefixed("decode_head", decodeHead) + prefixed("auxiliary_head", auxiliaryHead)
    }

    public var headBuffers: [(name: String, tensor: Tensor)] { namedBuffers }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("backbone", backbone) + headParameters }

    /// The neck's and heads' BatchNorm running statistics.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        (neck?.namedBuffers.map { ("neck.\($0.name)", $0.tensor) } ?? [])
            + decodeHead.namedBuffers.map { ("decode_head.\($0.name)", $0.tensor) }
            + (auxiliaryHead?.namedBuffers.map { ("auxiliary_head.\($0.name)", $0.tensor) } ?? [])
    }
}
