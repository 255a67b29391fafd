import Datasets
import Foundation
import Heads
import Models
import NN
import PEFT
import Tensor

/// Everything one run needs, assembled from a resolved config before any training starts (so
/// a wrong dataset, split, method option or checkpoint fails fast): the backbone with its
/// pre-trained weights, the data of the protocol's splits, and the PEFT model on top. A
/// segmentation dataset (`ade20k`, `voc`, `seglist`) makes a segmentation run: the UPerNet
/// segmenter of `SegmenterLoader` is the model's task head and `SegmentationObjective` its task.
public final class TrainingSession {
    public let config: TrainingConfig
    public let evaluationProtocol: EvaluationProtocol
    public let suite: String
    public let datasetName: String
    public let datasetGroup: String?
    public let model: PEFTModel
    /// What the trainer minimises and scores (classification, or the segmenter's objective).
    public let objective: TrainingObjective
    /// The segmentation data and objective of a segmentation run; nil otherwise.
    public let segmentation: (data: SegmentationTrainingData, objective: SegmentationObjective)?
    public let train: any BatchSource
    public let eval: any BatchSource
    /// The split names the record keeps (VTAB-1k's by protocol; video: train and test).
    public let splitNames: (train: String, eval: String)
    /// The training split with the evaluation preprocessing, for methods that calibrate (video:
    /// the training clips as trained on — there is no evaluation-preprocessed training source).
    public let calibration: BatchSourceCalibration
    /// The backbone's fingerprint before training (adapter files record it).
    public let backboneFingerprint: String
    public let imgSize: Int
    /// SHA-256 identifying the data: the task's MANIFEST.sha256 (every file's hash, written by
    /// `vpeft data verify`) when present, else the split lists used.
    public let dataManifestSHA256: String?

    public init(config: TrainingConfig) throws {
        guard let proto = EvaluationProtocol(rawValue: config.protocolName) else { throw ConfigError("protocol = \(config.protocolName): unknown") }
        evaluationProtocol = proto
        (suite, datasetName) = try DatasetReference.parse(config.dataset)
        guard let root = config.dataRoot else { throw ConfigError("data_root is not set: give --data-root DIR (the folder holding \(datasetName)/)") }
        let rootURL = URL(fileURLWithPath: root)
        let options = config.methodOptions.mapValues(\.foundationValue)
        guard let initStyle = InitStyle(rawValue: config.initStyle) else { throw ConfigError("init = \(config.initStyle): unknown") }

        if SegmentationSettings.isSegmentation(config) {
            guard DatasetReference.segmentationSuites.contains(suite) else {
                throw ConfigError("task = segmentation: dataset \(config.dataset) is not a segmentation suite (\(DatasetReference.segmentationSuites.joined(separator: ", ")))")
            }
            // Classes first (the head's size), then the segmenter, then pixels by its backbone.
            let trainSplit = try SegmentationTrainingData.split(suite: suite, name: datasetName, root: rootURL,
                                                                split: try SegmentationTrainingData.splitNames(suite: suite, proto: proto).train, config: config)
            let settings = try SegmentationSettings(config)
            let segmenter = try SegmenterLoader.load(config: config, settings: settings, classes: trainSplit.dataset.numClasses)
            let config = Self.resolvingModelPreprocessing(config, segmenter.backbone.preprocessing)
            self.config = config
            backboneFingerprint = Fingerprint.of(segmenter.backbone)
            imgSize = segmenter.backbone.inputSize
            let data = try SegmentationTrainingData(suite: suite, name: datasetName, root: rootURL, proto: proto, config: config,
                                                    settings: settings, trainSplit: trainSplit, normalization: try Self.normalization(config.normalization, model: segmenter.backbone.preprocessing))
            let objective = SegmentationObjective(segmenter: segmenter, inference: settings.inference, testFlip: settings.testFlip)
            (train, eval, splitNames, datasetGroup) = (data.train, data.eval, data.splitNames, "segmentation")
            (self.objective, segmentation) = (objective, (data, objective))
            dataManifestSHA256 = try SHA256.hexDigest(ofFiles: data.identifyingFiles)
            // Calibrating methods read the training split as the evaluation does (one image a batch).
            calibration = BatchSourceCalibration(SegmentationBatchSource(dataset: data.train.dataset, training: false, settings: settings,
                                                                         normalization: data.train.packer.normalization, batchSize: 1, seed: config.seed))
            model = try PEFTModel(backbone: segmenter.backbone, method: try MethodRegistry.method(named: config.method, options: options),
                                  head: segmenter, initStyle: initStyle, seed: config.seed)
            return
        }
        if DatasetReference.segmentationSuites.contains(suite) {
            throw ConfigError("task = \(config.task ?? "classification"): dataset \(config.dataset) is a segmentation dataset (leave task unset or set it to segmentation)")
        }
        objective = ClassificationObjective(labelSmoothing: Float(config.labelSmoothing))
        segmentation = nil

        let backbone = try BackboneLoader.load(model: config.model, weights: config.weights.map { URL(fileURLWithPath: $0) }, imgSize: config.imgSize)
        // `model` preprocessing becomes the backbone's values here, so that the record, the
        // adapter's stored config and a resumed run all name what was used.
        let config = Self.resolvingModelPreprocessing(config, backbone.preprocessing)
        self.config = config
        backboneFingerprint = Fingerprint.of(backbone)
        imgSize = config.imgSize ?? backbone.inputSize

        let (interpolation, normalization) = try Self.pixels(config, backbone.preprocessing)
        let classes: Int
        if VideoTrainingData.suites.contains(suite) {
            // Video: clips from the training split, every test view of the test split; there is
            // no validation split to select on.
            guard proto != .honestSelect else { throw ConfigError("protocol = honest-select: video datasets have no validation split; use honest") }
            let video = try VideoTrainingData(suite: suite, name: datasetName, root: rootURL, config: config, size: imgSize, normalization: normalization)
            (train, eval, splitNames, datasetGroup) = (video.train, video.eval, ("train", "test"), "video")
            dataManifestSHA256 = try SHA256.hexDigest(ofFiles: video.identifyingFiles)
            calibration = BatchSourceCalibration(video.train)
            classes = video.splits.classCount
        } else {
            let images = try Self.imageData(suite: suite, name: datasetName, root: rootURL, proto: proto, config: config, imgSize: imgSize,
                                            interpolation: interpolation, normalization: normalization, preprocessing: backbone.preprocessing)
            (train, eval, calibration, datasetGroup, dataManifestSHA256) = (images.train, images.eval, images.calibration, images.group, images.manifest)
            splitNames = (proto.trainSplit, proto.evalSplit)
            classes = images.classes
        }

        let method = try MethodRegistry.method(named: config.method, options: options)
        model = try PEFTModel(backbone: backbone, method: method, classes: classes, initStyle: initStyle, seed: config.seed)
    }

    /// The image splits of a VTAB-1k or FGVC run with their pipelines, the calibration passes,
    /// the task's group and the SHA-256 identifying its data.
    static func imageData(suite: String, name datasetName: String, root rootURL: URL, proto: EvaluationProtocol, config: TrainingConfig, imgSize: Int,
                          interpolation: Interpolation, normalization: PixelNormalization, preprocessing: Preprocessing) throws
        -> (train: LoaderBatchSource, eval: LoaderBatchSource, calibration: BatchSourceCalibration, group: String?, manifest: String?, classes: Int) {
        let (trainList, evalList, group, manifest): (any LabeledImageSource, any LabeledImageSource, String?, String?)
        switch suite {
        case "vtab1k":
            let task = try VTAB1kDataset.named(datasetName, in: rootURL)
            trainList = try task.split(VTAB1kDataset.Split(rawValue: proto.trainSplit)!)
            evalList = try task.split(VTAB1kDataset.Split(rawValue: proto.evalSplit)!)
            group = task.task?.group
            let manifestFile = task.folder.appendingPathComponent("MANIFEST.sha256")
            let identifying = FileManager.default.fileExists(atPath: manifestFile.path)
                ? [manifestFile] : [task.listFile(VTAB1kDataset.Split(rawValue: proto.trainSplit)!), task.listFile(VTAB1kDataset.Split(rawValue: proto.evalSplit)!)]
            manifest = try SHA256.hexDigest(ofFiles: identifying)
        default:
            let fgvc = try FGVCDataset(root: rootURL, name: DatasetReference.fgvcCatalogName(datasetName))
            // FGVC: train on train (+ val for the final runs), report on test; select on val.
            trainList = try fgvc.split("train")
            evalList = try fgvc.split(proto == .honestSelect ? "val" : "test")
            group = nil
            manifest = nil
        }
        // VTAB-1k: resize to the input size (+ flip and RandAugment when the task augments);
        // FGVC (VPT): resize the short side to 256/224 of the input, random crop + flip to train,
        // centre crop to evaluate.
        let fgvcResize = imgSize * 256 / 224
        let trainPipeline = suite == "fgvc"
            ? try ImagePipeline.fgvc(train: true, interpolation: interpolation, normalization: normalization, resize: fgvcResize, crop: imgSize)
            : try ImagePipeline.vtab1k(augment: config.trainAugmentation, interpolation: interpolation, normalization: normalization, size: imgSize)
        let evalPipeline = try Self.evalPipeline(config, imgSize: imgSize, preprocessing: preprocessing)
        let workers = max(1, min(2, Parallel.threadCount))
        let train = LoaderBatchSource(try DataLoader(source: trainList, pipeline: trainPipeline,
                                                 options: DataLoaderOptions(batchSize: config.batchSize, shuffle: true, seed: config.seed, workers: workers)))
        let eval = LoaderBatchSource(try DataLoader(source: evalList, pipeline: evalPipeline,
                                                options: DataLoaderOptions(batchSize: config.batchSize, shuffle: false, seed: config.seed, workers: workers)))
        // Calibrating methods read the training split once more: plainly (SCT) or as two
        // augmented views of every image (GPS), in a fixed order.
        func unshuffled(_ pipeline: ImagePipeline) throws -> LoaderBatchSource {
            LoaderBatchSource(try DataLoader(source: trainList, pipeline: pipeline,
                                             options: DataLoaderOptions(batchSize: config.batchSize, shuffle: false, seed: config.seed, workers: workers)))
        }
        let calibration = BatchSourceCalibration(try unshuffled(evalPipeline),
                                             views: try unshuffled(.contrastiveViews(size: imgSize, interpolation: interpolation, normalization: normalization)))
        return (train, eval, calibration, group, manifest, trainList.classCount)
    }

    /// Named presets plus `efficientnet` ((x − 127)/128 on 0–255 pixels, what the EfficientNet-Lite
    /// weights were trained with) and `clip` (OpenAI CLIP's statistics); `model` is the backbone's.
    public static func normalization(_ name: String, model: Preprocessing) throws -> PixelNormalization {
        switch name {
        case "model": return try .custom(mean: model.mean, std: model.std)
        case "efficientnet": return try .custom(mean: Preprocessing.efficientNetMean, std: Preprocessing.efficientNetStd)
        case "clip": return try .custom(mean: Preprocessing.openAIClipMean, std: Preprocessing.openAIClipStd)
        default: return try .named(name)
        }
    }

    /// The resampling filter and pixel statistics a run's config asks for.
    static func pixels(_ config: TrainingConfig, _ model: Preprocessing) throws -> (Interpolation, PixelNormalization) {
        (try interpolation(config.interpolation, model: model), try normalization(config.normalization, model: model))
    }

    /// A resampling filter by name; `model` is the backbone's.
    public static func interpolation(_ name: String, model: Preprocessing) throws -> Interpolation {
        let filter = name == "model" ? model.interpolation : name
        guard let interpolation = Interpolation(rawValue: filter) else { throw ConfigError("interpolation = \(filter): unknown (bilinear, bicubic)") }
        return interpolation
    }

    /// `config` with `model` interpolation and normalisation replaced by the backbone's values,
    /// by name; statistics without a name stay `model` (the pipeline takes the backbone's numbers).
    public static func resolvingModelPreprocessing(_ config: TrainingConfig, _ model: Preprocessing) -> TrainingConfig {
        var config = config
        if config.interpolation == "model" { config.interpolation = model.interpolation }
        if config.normalization == "model", model.normalizationName != "custom" { config.normalization = model.normalizationName }
        return config
    }

    /// Trains (or resumes) in `folder`, then writes the adapter, the per-epoch log and the run
    /// record there (the trainer writes a TensorBoard event file there as it goes). Returns the record, or nil when interrupted (a checkpoint was written).
    /// Holds the folder's lock throughout (`lock`: one the caller took early, before loading).
    public func run(in folder: URL, lock: RunFolderLock? = nil, resume: Bool, progress: ProgressReporter) throws -> RunRecordFile? {
        let lock = try lock ?? RunFolderLock(folder: folder)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        BufferPool.shared.resetPeak()
        let trainer = Trainer(model: model, config: config, train: train, eval: eval, folder: folder, progress: progress, calibration: calibration,
                              objective: objective)
        let (outcome, state) = try trainer.run(resume: resume)
        guard outcome == .finished else { return nil }
        let adapterFolder = folder.appendingPathComponent("adapter")
        try AdapterFile.save(model, backboneFingerprint: backboneFingerprint, to: adapterFolder)
        try Self.saveRunConfig(config, in: adapterFolder)
        try Self.writeLog(state.history, to: folder.appendingPathComponent("epochs.csv"))
        guard let reported = evaluationProtocol.reported(from: state.history, evalSplit: splitNames.eval) else { throw ConfigError("no evaluation was run") }
        // A segmentation run's final per-class scores: the final epoch's evaluation, or (a
        // resumed run whose checkpoint was already final evaluated nothing here) a new one.
        let segmentationScores = try segmentation.map { try $0.objective.lastEvaluation ?? $0.objective.evaluate(model, on: eval) }
        // Counted before merging (which removes the method's tensors).
        let trainable = model.trainableParameterCount(), trainableWithHead = model.trainableParameterCount(includingHead: true)
        // Inference speed before and after folding the method into the backbone (mergeable
        // methods only; the adapter is already saved, so merging changes nothing on disk).
        let unmergedSpeed = try inferenceImagesPerSecond()
        var mergedSpeed: Double?
        if type(of: model.method).mergeable && config.speedImages > 0 {
            try model.merge()
            mergedSpeed = try inferenceImagesPerSecond()
        }
        let evaluated = state.history.filter { $0.evalScore != nil }
        let best = evaluated.max { $0.evalScore! < $1.evalScore! }
        let adapterBytes = (try? FileManager.default.attributesOfItem(atPath: adapterFolder.appendingPathComponent("adapter.safetensors").path)[.size] as? Int) ?? nil
        let record = RunRecordFile(
            runID: Trainer.hash(config), method: config.method, methodOptions: config.methodOptions, initStyle: config.initStyle, recipe: config.recipe,
            backbone: .init(architecture: config.model, fingerprint: backboneFingerprint, imgSize: imgSize),
            dataset: .init(suite: suite, name: datasetName, group: datasetGroup, classes: train.classes, manifestSHA256: dataManifestSHA256,
                           trainSplit: splitNames.train, evalSplit: splitNames.eval,
                           trainImages: train.sampleCount, evalImages: eval.sampleCount),
            evaluationProtocol: evaluationProtocol.rawValue, seed: config.seed, config: config,
            accuracy: .init(top1Final: evaluated.last?.evalTop1, top1Best: best?.evalTop1, bestEpoch: best?.epoch, top5Final: evaluated.last?.evalTop5,
                            reported: reported.score, metric: segmentation == nil ? "top1" : "miou", reportedKind: reported.kind,
                            perEpoch: evaluated.map { .init(epoch: $0.epoch, top1: $0.evalScore!) }),
            segmentation: segmentationScores.map { .init($0, classNames: segmentation?.data.classNames, inference: segmentation!.objective.inference) },
            params: .init(trainable: trainable, trainableWithHead: trainableWithHead,
                          ppt: RunRecordFile.ppt(accuracy: reported.score, trainable: trainable, method: config.method)),
            cost: .init(adapterBytes: adapterBytes, peakMemoryMB: Double(BufferPool.shared.peakBytes) / 1_048_576,
                        trainImagesPerSecond: state.history.map(\.trainImagesPerSecond).reduce(0, +) / Double(max(state.history.count, 1)),
                        evalImagesPerSecond: unmergedSpeed, mergedEvalImagesPerSecond: mergedSpeed, wallSeconds: Date().timeIntervalSince(started)),
            environment: .init(vpeft: Version.string, cpu: Capabilities.current.cpuModel, threads: Parallel.threadCount, blas: "OpenBLAS \(BLAS.coreName)",
                               gitCommit: Version.gitCommit, products: BLAS.productsDescription))
        try record.write(to: folder.appendingPathComponent("record.json"))
        return record
    }

    /// Inference throughput of the model on up to `speed_images` evaluation images (after one
    /// warm-up batch); nil when not measured.
    func inferenceImagesPerSecond() throws -> Double? {
        guard config.speedImages > 0 else { return nil }
        let stream = try eval.batches(epoch: 0)
        guard let warmUp = try stream.next() else { return 0 }
        // A segmenter is timed on whole (resized) test images, one forward each.
        let forward: (Tensor) -> Tensor = segmentation.map { run in { run.objective.segmenter.forward($0).logits } } ?? { self.model.forward($0).logits! }
        if let segmentation { segmentation.objective.segmenter.setTraining(false) }
        _ = withoutGradients { forward(warmUp.images) }
        var images = 0, seconds = 0.0
        while images < config.speedImages, let batch = try stream.next() {
            let start = Date()   // the model's time only, not the loader's
            _ = withoutGradients { forward(batch.images) }
            seconds += Date().timeIntervalSince(start)
            images += batch.images.shape[0]
        }
        return images > 0 ? Double(images) / max(seconds, 1e-9) : 0
    }

    /// The training configuration next to the adapter, so `vpeft eval`/`predict` preprocess
    /// images exactly as training did.
    public static let runConfigFile = "run_config.json"

    static func saveRunConfig(_ config: TrainingConfig, in folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(config).write(to: folder.appendingPathComponent(runConfigFile), options: .atomic)
    }

    /// The training configuration stored with an adapter.
    public static func runConfig(ofAdapter folder: URL) throws -> TrainingConfig {
        let url = folder.appendingPathComponent(runConfigFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError("\(url.path): missing — the adapter folder was not written by `vpeft train`; pass --model/--img-size/--normalization explicitly")
        }
        // Keys added since the adapter was written take their defaults.
        do {
            let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfig())) as! [String: Any]
            guard let saved = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw ConfigError("not a JSON object") }
            return try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: defaults.merging(saved) { _, s in s }))
        } catch { throw ConfigError("\(url.path): \(error)") }
    }

    /// The preprocessing of a run's evaluation images.
    public static func evalPipeline(_ config: TrainingConfig, imgSize: Int, preprocessing: Preprocessing) throws -> ImagePipeline {
        let (interpolation, pixels) = try Self.pixels(config, preprocessing)
        if (try? DatasetReference.parse(config.dataset))?.suite == "fgvc" {
            return try ImagePipeline.fgvc(train: false, interpolation: interpolation, normalization: pixels, resize: imgSize * 256 / 224, crop: imgSize)
        }
        return try ImagePipeline.vtab1k(augment: false, interpolation: interpolation, normalization: pixels, size: imgSize)
    }

    /// One line per epoch; segmentation runs add their mIoU, mAcc and aAcc columns.
    static func writeLog(_ history: [EpochRecord], to url: URL) throws {
        let segmentation = history.contains { $0.evalMIoU != nil }
        var text = "epoch,lr,train_loss,train_images_per_s,data_wait_s,eval_top1,eval_top5,eval_loss,train_top1,peak_memory_mb"
            + (segmentation ? ",eval_miou,eval_macc,eval_aacc\n" : "\n")
        for r in history {
            let segmentationScores = segmentation ? [r.evalMIoU, r.evalMAcc, r.evalAAcc] : []
            let optional = ([r.evalTop1, r.evalTop5, r.evalLoss, r.trainTop1, r.peakMemoryMB] + segmentationScores).map { $0.map { "\($0)" } ?? "" }.joined(separator: ",")
            text += "\(r.epoch),\(r.lr),\(r.trainLoss),\(r.trainImagesPerSecond),\(r.dataWaitSeconds ?? 0),\(optional)\n"
        }
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}

/// The program's version and the machine, for records.
public enum Version {
    public static let string = "0.1.0"

    /// The commit of the checkout the configs come from (`$VPEFT_GIT_COMMIT` overrides), read from
    /// `.git` without running git; nil outside a checkout.
    public static var gitCommit: String? {
        if let env = ProcessInfo.processInfo.environment["VPEFT_GIT_COMMIT"] { return env }
        guard let repo = RunConfiguration.configsFolder()?.deletingLastPathComponent() else { return nil }
        let git = repo.appendingPathComponent(".git")
        guard let head = try? String(contentsOf: git.appendingPathComponent("HEAD"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard head.hasPrefix("ref: ") else { return head }
        let ref = String(head.dropFirst(5))
        if let hash = try? String(contentsOf: git.appendingPathComponent(ref), encoding: .utf8) { return hash.trimmingCharacters(in: .whitespacesAndNewlines) }
        let packed = (try? String(contentsOf: git.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        return packed.split(separator: "\n").first { $0.hasSuffix(" " + ref) }.map { String($0.prefix(40)) }
    }
}
