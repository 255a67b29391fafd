import Datasets
import Foundation
import Heads
import PEFT

/// A segmentation adapter written by `vpeft train`, back on its segmenter: the run's config
/// (stored with the adapter) rebuilds the backbone and the head's shape, the adapter file fills
/// in the method's tensors and the head's (BatchNorm statistics included). What `vpeft eval`
/// and `vpeft viz segmentation` read.
public struct TrainedSegmenter {
    public let config: TrainingConfig
    public let settings: SegmentationSettings
    public let model: PEFTModel
    public let objective: SegmentationObjective

    /// `inference` (whole or slide) overrides the run's; the slide stride stays the run's.
    public init(adapter folder: URL, inference: String? = nil) throws {
        var config = try TrainingSession.runConfig(ofAdapter: folder)
        guard SegmentationSettings.isSegmentation(config) else {
            throw ConfigError("\(folder.path): the adapter's run (dataset \(config.dataset)) is not a segmentation run")
        }
        if let inference { config.inference = inference }
        try config.validate()
        self.config = config
        settings = try SegmentationSettings(config)
        let classes = try AdapterFile.readManifest(folder).classes
        let segmenter = try SegmenterLoader.load(config: config, settings: settings, classes: classes)
        model = try AdapterFile.load(folder, onto: segmenter.backbone, classes: classes, head: segmenter)
        objective = SegmentationObjective(segmenter: segmenter, inference: settings.inference, testFlip: settings.testFlip)
    }

    /// A split of `dataset` under `dataRoot` (each defaulting to the run's) as the run's evaluation
    /// reads it, with its class names; `test` on ADE20K and VOC is their validation split.
    public func split(_ split: String, dataset: String? = nil, dataRoot: String? = nil) throws -> (source: SegmentationBatchSource, classNames: [String]?) {
        var config = self.config
        if let dataset { config.dataset = dataset }
        if let dataRoot { config.dataRoot = dataRoot }
        let (suite, name) = try DatasetReference.parse(config.dataset)
        guard let root = config.dataRoot else { throw ConfigError("data_root is not set: give --data-root DIR (the folder holding \(name)/)") }
        let data = try SegmentationTrainingData.split(suite: suite, name: name, root: URL(fileURLWithPath: root), split: split, config: config)
        guard data.dataset.numClasses == model.classes else {
            throw ConfigError("\(config.dataset) has \(data.dataset.numClasses) classes, the adapter \(model.classes)")
        }
        let normalization = try TrainingSession.normalization(config.normalization, model: model.backbone.preprocessing)
        return (SegmentationBatchSource(dataset: data.dataset, training: false, settings: settings, normalization: normalization, batchSize: 1, seed: config.seed),
                data.classNames)
    }
}
