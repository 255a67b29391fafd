import ArgumentParser
import Datasets
import Foundation
import Models
import PEFT
import Tensor
import Training

/// A trained adapter on its backbone, with the preprocessing its run used.
struct AdaptedModel {
    let model: PEFTModel
    let config: TrainingConfig
    let imgSize: Int
    let pipeline: ImagePipeline

    /// Loads `adapter` (written by `vpeft train`) onto its backbone; `model`/`weights` override
    /// the run's.
    init(adapter: String, model: String? = nil, weights: String? = nil) throws {
        let folder = URL(fileURLWithPath: adapter)
        var config = try TrainingSession.runConfig(ofAdapter: folder)
        if let model { config.model = model }
        if let weights { config.weights = weights }
        let backbone = try BackboneLoader.load(model: config.model, weights: config.weights.map { URL(fileURLWithPath: $0) }, imgSize: config.imgSize)
        self.model = try AdapterFile.load(folder, onto: backbone)
        self.config = config
        imgSize = config.imgSize ?? backbone.inputSize
        pipeline = try TrainingSession.evalPipeline(config, imgSize: imgSize, preprocessing: backbone.preprocessing)
    }

    /// A split of `dataset` under `dataRoot` (each defaulting to the run's): its name and images.
    func split(_ split: String, dataset: String?, dataRoot: String?) throws -> (name: String, source: any LabeledImageSource) {
        let (suite, name) = try DatasetReference.parse(dataset ?? config.dataset)
        guard let root = dataRoot ?? config.dataRoot else { throw ValidationError("--data-root is needed") }
        let rootURL = URL(fileURLWithPath: root)
        if suite == "vtab1k" {
            guard let s = VTAB1kDataset.Split(rawValue: split) else { throw ValidationError("--split \(split): one of \(VTAB1kDataset.Split.allCases.map(\.rawValue))") }
            return (name, try VTAB1kDataset.named(name, in: rootURL).split(s, checkClasses: false))
        }
        return (name, try FGVCDataset(root: rootURL, name: DatasetReference.fgvcCatalogName(name)).split(split))
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained adapter on a dataset split: top-1, top-5, per-class accuracy, confusion matrix (segmentation: mIoU, mAcc, aAcc, per-class IoU).",
        discussion: "The backbone, weights and preprocessing are the adapter's training run's (stored with it); the classes must match. A segmentation adapter is scored as its run scored (mmseg's metrics over the whole split; --inference whole|slide overrides the run's).")

    @OptionGroup var trained: AdapterOptions
    @OptionGroup var data: EvaluationDataOptions
    @Option(help: "Override the backbone weights.") var weights: String?
    @Flag(help: "Print the confusion matrix.") var confusion = false
    @Option(help: "Write the result as JSON to this file.") var output: String?
    @Option(help: "Segmentation: whole or slide (default: the run's inference).") var inference: String?

    func run() throws {
        let runConfig = try TrainingSession.runConfig(ofAdapter: URL(fileURLWithPath: trained.adapter))
        if SegmentationSettings.isSegmentation(runConfig) { return try evaluateSegmentation() }
        if let inference { throw ValidationError("--inference \(inference): only segmentation adapters take it") }
        let adapted = try AdaptedModel(adapter: trained.adapter, weights: weights)
        if VideoTrainingData.suites.contains(try DatasetReference.parse(data.dataset ?? adapted.config.dataset).suite) {
            return try report(try videoResult(adapted), adapted: adapted, name: data.dataset ?? adapted.config.dataset, unit: "videos", classNames: nil)
        }
        let (name, source) = try adapted.split(data.split, dataset: data.dataset, dataRoot: data.dataRoot)
        guard source.classCount == adapted.model.classes else {
            throw ValidationError("\(name) has \(source.classCount) classes, the adapter \(adapted.model.classes)")
        }
        let loader = try DataLoader(source: source, pipeline: adapted.pipeline, options: DataLoaderOptions(batchSize: 32, shuffle: false))
        let result = try Evaluator.evaluate(adapted.model, on: LoaderBatchSource(loader), confusion: confusion)
        try report(result, adapted: adapted, name: name, unit: "images", classNames: source.classNames)
    }

    /// A video adapter on the test split of its dataset (or `--dataset`), every test view of
    /// every video scored together (the run's `test_views`, or the dataset's).
    func videoResult(_ adapted: AdaptedModel) throws -> EvaluationResult {
        guard data.split == "test" else { throw ValidationError("--split \(data.split): video datasets are evaluated on their test split") }
        var config = adapted.config
        if let dataset = data.dataset { config.dataset = dataset }
        if let dataRoot = data.dataRoot { config.dataRoot = dataRoot }
        let (suite, name) = try DatasetReference.parse(config.dataset)
        guard let root = config.dataRoot else { throw ValidationError("--data-root is needed") }
        let normalization = try TrainingSession.normalization(config.normalization, model: adapted.model.backbone.preprocessing)
        let video = try VideoTrainingData(suite: suite, name: name, root: URL(fileURLWithPath: root), config: config, size: adapted.imgSize, normalization: normalization)
        guard video.splits.classCount == adapted.model.classes else {
            throw ValidationError("\(config.dataset) has \(video.splits.classCount) classes, the adapter \(adapted.model.classes)")
        }
        print("multi-view test: \(video.splits.testViews.temporalClips) clips × \(video.splits.testViews.spatialCrops) crops per video")
        return try Evaluator.evaluate(adapted.model, on: video.eval, confusion: confusion)
    }

    func report(_ result: EvaluationResult, adapted: AdaptedModel, name: String, unit: String, classNames names: [String]?) throws {
        print(String(format: "%@ on %@/%@ (%d %@): top-1 %.2f%%, top-5 %.2f%%, loss %.4f, %.1f %@/s", adapted.config.method, name, data.split,
                     result.images, unit, result.top1, result.top5, result.loss, result.imagesPerSecond, unit == "videos" ? "clips" : "img"))
        for (c, acc) in result.perClass.enumerated() {
            print(String(format: "  class %3d %@ %@", c, (names?[c] ?? "").padding(toLength: 16, withPad: " ", startingAt: 0), acc.map { String(format: "%6.2f%%", $0) } ?? "   (absent)"))
        }
        if let matrix = result.confusion {
            print("confusion (rows: true class, columns: predicted):")
            for row in matrix { print("  " + row.map { String(format: "%5d", $0) }.joined()) }
        }
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: output), options: .atomic)
        }
    }

    /// A segmentation adapter on a split (default `test`: ADE20K's and VOC's validation split):
    /// mmseg's mIoU, mAcc, aAcc over the whole split, and per-class IoU and accuracy.
    func evaluateSegmentation() throws {
        guard !confusion else { throw ValidationError("--confusion: segmentation reports per-class IoU and accuracy instead") }
        guard weights == nil else { throw ValidationError("--weights: a segmentation adapter is evaluated on its run's backbone weights") }
        let segmenter = try TrainedSegmenter(adapter: URL(fileURLWithPath: trained.adapter), inference: inference)
        let (source, names) = try segmenter.split(data.split, dataset: data.dataset, dataRoot: data.dataRoot)
        let result = try segmenter.objective.evaluate(segmenter.model, on: source)
        func percent(_ x: Double?) -> String { x.map { String(format: "%6.2f%%", $0) } ?? "     –" }
        let mode = segmenter.settings.inference == .whole ? "whole" : "slide"
        let dataset = data.dataset ?? segmenter.config.dataset
        let scores = "mIoU \(percent(result.meanIoU)), mAcc \(percent(result.meanAccuracy)), aAcc \(percent(result.allAccuracy))"
        print("\(segmenter.config.method) on \(dataset)/\(data.split) (\(result.images) images, \(mode) inference): \(scores), "
              + String(format: "%.1f img/s", result.imagesPerSecond))
        print("  class                      IoU      Acc")
        for c in result.perClassIoU.indices {
            let name = (names?[c] ?? "class \(c)").padding(toLength: 20, withPad: " ", startingAt: 0)
            print("  \(String(format: "%3d", c)) \(name) \(percent(result.perClassIoU[c])) \(percent(result.perClassAccuracy[c]))")
        }
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: output), options: .atomic)
        }
    }
}
