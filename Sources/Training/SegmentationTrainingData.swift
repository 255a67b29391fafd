import Datasets
import Foundation

/// The data of a semantic segmentation run, from its `dataset` reference and config. The name
/// after the suite is the folder under `data_root`:
///
/// - `ade20k:<folder>`: ADE20K SceneParsing (`<folder>` is `ADEChallengeData2016` or a folder
///   holding it); trains on `training`, evaluates on `validation` (150 classes, reduce-zero-label).
/// - `voc:<folder>`: Pascal VOC 2012 (`<folder>` is `VOC2012` or `VOCdevkit`); trains on the
///   `train` list, evaluates on `val` (21 classes, 255 ignored).
/// - `seglist:<folder>`: `<folder>/train.txt`, `test.txt` (and `val.txt` for honest-select) of
///   `image mask` lines, paths relative to the folder; classes from `num_classes` or
///   `<folder>/classes.txt` (one name per line, label order).
///
/// ADE20K and VOC have no labelled test split, so their validation split is where the honest
/// protocol reports (as every paper on them does) and there is nothing to select on
/// (honest-select is refused). Training batches are mmseg's joint transforms at `crop_size`;
/// evaluation reads one image at a time (`SegmentationBatchSource`).
public struct SegmentationTrainingData {
    public let settings: SegmentationSettings
    public let train: SegmentationBatchSource
    public let eval: SegmentationBatchSource
    public let splitNames: (train: String, eval: String)
    /// Class names where the dataset has them (VOC's, a list folder's classes.txt).
    public let classNames: [String]?
    /// The files that identify the data (the lists read), for the record.
    public let identifyingFiles: [URL]

    public var classes: Int { train.classes }

    /// `trainSplit`: the protocol's training split, read already (its classes size the head
    /// before the rest of the data is read).
    public init(suite: String, name: String, root: URL, proto: EvaluationProtocol, config: TrainingConfig, settings: SegmentationSettings,
                trainSplit: Split, normalization: PixelNormalization) throws {
        self.settings = settings
        splitNames = try Self.splitNames(suite: suite, proto: proto)
        let evalSplit = try Self.split(suite: suite, name: name, root: root, split: splitNames.eval, config: config)
        train = SegmentationBatchSource(dataset: trainSplit.dataset, training: true, settings: settings, normalization: normalization,
                                        batchSize: config.batchSize, seed: config.seed)
        eval = SegmentationBatchSource(dataset: evalSplit.dataset, training: false, settings: settings, normalization: normalization,
                                       batchSize: 1, seed: config.seed)
        classNames = trainSplit.classNames
        identifyingFiles = trainSplit.identifyingFiles + evalSplit.identifyingFiles.filter { !trainSplit.identifyingFiles.contains($0) }
    }

    /// Where each protocol trains and reports: ADE20K's `training`/`validation`, VOC's
    /// `train`/`val`, a list folder's `train`/`test` (`val` to select on).
    public static func splitNames(suite: String, proto: EvaluationProtocol) throws -> (train: String, eval: String) {
        if proto == .honestSelect {
            guard suite == "seglist" else {
                throw ConfigError("protocol = honest-select: \(suite) has no labelled test split apart from its validation split, so there is nothing to select on; use honest")
            }
            return ("train", "val")
        }
        switch suite {
        case "ade20k": return ("training", "validation")
        case "voc": return ("train", "val")
        default: return ("train", "test")
        }
    }

    /// One split of a segmentation dataset, with its class names and identifying files.
    /// `test` on ADE20K and VOC means their evaluation split (they have no labelled test split).
    public typealias Split = (dataset: SegmentationDataset, classNames: [String]?, identifyingFiles: [URL])

    public static func split(suite: String, name: String, root: URL, split: String, config: TrainingConfig) throws -> Split {
        let folder = root.appendingPathComponent(name)
        switch suite {
        case "ade20k":
            let dataset = try SegmentationDataset.ade20k(root: folder, split: split == "test" ? "validation" : split)
            try checkClasses(config, dataset: "ade20k", has: dataset.numClasses)
            return (dataset, nil, [])
        case "voc":
            let dataset = try SegmentationDataset.pascalVOC(root: folder, split: split == "test" ? "val" : split)
            try checkClasses(config, dataset: "voc", has: dataset.numClasses)
            var isFolder: ObjCBool = false
            let nested = folder.appendingPathComponent("VOC2012")
            let base = FileManager.default.fileExists(atPath: nested.path, isDirectory: &isFolder) && isFolder.boolValue ? nested : folder
            return (dataset, vocClassNames, [base.appendingPathComponent("ImageSets/Segmentation/\(split == "test" ? "val" : split).txt")])
        case "seglist":
            let classesFile = folder.appendingPathComponent("classes.txt")
            let names = DatasetReference.classNames(in: classesFile)
            let classes: Int
            switch (config.numClasses, names?.count) {
            case let (given?, listed?) where given != listed:
                throw ConfigError("num_classes = \(given): \(classesFile.path) names \(listed) classes")
            case let (given?, _): classes = given
            case let (nil, listed?): classes = listed
            case (nil, nil): throw ConfigError("\(classesFile.path): missing — give num_classes, or name the classes there, one per line, in label order")
            }
            let list = folder.appendingPathComponent("\(split).txt")
            guard FileManager.default.fileExists(atPath: list.path) else {
                throw ConfigError("\(list.path): missing — a seglist dataset holds train.txt and test.txt (val.txt for honest-select) of 'image mask' lines")
            }
            return (try SegmentationDataset.list(list, numClasses: classes), names, [list] + (names == nil ? [] : [classesFile]))
        default:
            throw ConfigError("dataset \(suite):\(name): not a segmentation suite (\(DatasetReference.segmentationSuites.joined(separator: ", ")))")
        }
    }

    /// `num_classes` may only restate a fixed benchmark's class count.
    private static func checkClasses(_ config: TrainingConfig, dataset: String, has classes: Int) throws {
        if let given = config.numClasses, given != classes { throw ConfigError("num_classes = \(given): \(dataset) has \(classes) classes") }
    }

    /// Pascal VOC 2012's classes in label order.
    public static let vocClassNames = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
                                       "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
}
