import Foundation
import Heads
import Models

/// The UPerNet segmenter a segmentation run's `model` names, with the pre-trained backbone:
///
/// - a Hugging Face `UperNetForSemanticSegmentation` folder (Swin backbone): loaded whole, head
///   included; its labels must be the dataset's classes;
/// - a Swin (preset, timm hub folder) with `weights` an mmseg UPerNet + Swin checkpoint
///   (`upernet_swin_*` .pth): loaded whole, head included, its sizes from the file; its classes
///   must be the dataset's;
/// - a Swin (preset, timm hub folder; `weights` as for classification): built with dense
///   windowing (any input size, HF's window layout), no classifier, stage norms as HF's
///   `SwinBackbone` has them, a new UPerNet head;
/// - anything else the backbone loader reads as a plain ViT (preset, hub folder, DINOv2 ONNX):
///   no classifier, four evenly spaced blocks (`VisionTransformer.defaultOutIndices`) through
///   mmseg's `Feature2PyramidNeck`, LayerNorms on the pyramid, a new UPerNet head.
///
/// The backbone's input side is `img_size`, else `crop_size`: training crops then reach a ViT at
/// its own size, and a Swin's precomputed window masks fit them. New heads (and the neck) are
/// drawn from the run's seed; sizes come from `SegmentationSettings`.
public enum SegmenterLoader {
    public static func load(config: TrainingConfig, settings: SegmentationSettings, classes: Int) throws -> UperNetSegmenter {
        let imgSize = config.imgSize ?? settings.cropSize
        if UperNetSegmenter.isHuggingFaceFolder(config.model) {
            if let weights = config.weights { throw ConfigError("weights = \(weights): \(config.model) is a UperNet folder with its own weights") }
            for (key, value) in [("decoder_channels", config.decoderChannels), ("aux_channels", config.auxChannels)] {
                if let value { throw ConfigError("\(key) = \(value): \(config.model) brings its own head (its config.json sets the channels)") }
            }
            let segmenter = try UperNetSegmenter.loadHuggingFace(config.model, imgSize: imgSize)
            guard segmenter.classes == classes else {
                throw ConfigError("model = \(config.model): its head has \(segmenter.classes) labels, the dataset \(classes) classes")
            }
            return segmenter
        }
        let head = settings.uperNetConfig(classes: classes)
        let weights = config.weights.map { URL(fileURLWithPath: $0) }
        if try SwinSource.resolve(config.model, imgSize: imgSize, numClasses: 0) != nil {
            if let path = config.weights, let segmenter = try UperNetSegmenter.loadMMSeg(path, swin: config.model, imgSize: imgSize, seed: config.seed) {
                for (key, value) in [("decoder_channels", config.decoderChannels), ("aux_channels", config.auxChannels)] {
                    if let value { throw ConfigError("\(key) = \(value): weights = \(path) is an mmseg UPerNet that brings its own head") }
                }
                guard segmenter.classes == classes else {
                    throw ConfigError("weights = \(path): its head has \(segmenter.classes) classes, the dataset \(classes)")
                }
                return segmenter
            }
            let swin = try SwinTransformer.load(model: config.model, weights: weights, imgSize: imgSize, numClasses: 0, seed: config.seed, windowing: .dense)
            return try UperNetSegmenter(backbone: swin, config: head, seed: config.seed)
        }
        let backbone = try BackboneLoader.load(model: config.model, weights: weights, imgSize: imgSize, numClasses: 0, seed: config.seed)
        guard let vit = backbone as? VisionTransformer else {
            throw ConfigError("model = \(config.model): \(backbone.architecture) has no feature pyramid for UPerNet (segmentation takes a Swin, a ViT or a UperNet folder)")
        }
        return try UperNetSegmenter(backbone: vit, config: head, pyramidNeck: true, seed: config.seed)
    }
}
