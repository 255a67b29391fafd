import Foundation
import Heads

/// One run's record, as docs/RESULTS_SCHEMA.md defines it (`vpeft-run/1`): what `vpeft train`
/// and each `vpeft bench` cell write, and what `vpeft report` reads.
public struct RunRecordFile: Encodable {
    public struct Backbone: Encodable {
        public var architecture: String
        public var fingerprint: String
        public var imgSize: Int
        enum CodingKeys: String, CodingKey { case architecture, fingerprint, imgSize = "img_size" }
    }

    public struct DatasetInfo: Encodable {
        public var suite: String
        public var name: String
        public var group: String?
        public var classes: Int
        public var manifestSHA256: String?
        public var trainSplit: String
        public var evalSplit: String
        public var trainImages: Int
        public var evalImages: Int
        enum CodingKeys: String, CodingKey {
            case suite, name, group, classes, manifestSHA256 = "manifest_sha256", trainSplit = "train_split", evalSplit = "eval_split"
            case trainImages = "train_images", evalImages = "eval_images"
        }
    }

    public struct Accuracy: Encodable {
        public var top1Final: Double?
        public var top1Best: Double?
        public var bestEpoch: Int?
        public var top5Final: Double?
        public var reported: Double
        /// What `reported` measures: top1 (classification) or miou (segmentation, in %).
        public var metric: String
        public var reportedKind: String
        /// Per evaluated epoch, the reported metric (field `top1` for either metric).
        public var perEpoch: [EpochAccuracy]
        enum CodingKeys: String, CodingKey {
            case top1Final = "top1_final", top1Best = "top1_best", bestEpoch = "best_epoch", top5Final = "top5_final", reported, metric
            case reportedKind = "reported_kind", perEpoch = "per_epoch"
        }
    }

    public struct EpochAccuracy: Encodable { public var epoch: Int; public var top1: Double }

    /// A segmentation run's final scores (mmseg's definitions, in %; null where a class is
    /// neither labelled nor predicted), with the class names where the dataset has them.
    public struct Segmentation: Encodable {
        public var miou: Double?
        public var macc: Double?
        public var aacc: Double?
        public var perClassIoU: [Double?]
        public var perClassAccuracy: [Double?]
        public var classNames: [String]?
        /// whole, or slide (crop, stride).
        public var inference: String
        public var evalImages: Int
        enum CodingKeys: String, CodingKey {
            case miou, macc, aacc, perClassIoU = "per_class_iou", perClassAccuracy = "per_class_acc", classNames = "class_names", inference
            case evalImages = "eval_images"
        }

        public init(_ evaluation: SegmentationEvaluation, classNames: [String]?, inference: SegmentationInference) {
            (miou, macc, aacc) = (evaluation.meanIoU, evaluation.meanAccuracy, evaluation.allAccuracy)
            (perClassIoU, perClassAccuracy, self.classNames) = (evaluation.perClassIoU, evaluation.perClassAccuracy, classNames)
            evalImages = evaluation.images
            switch inference {
            case .whole: self.inference = "whole"
            case let .slide(crop, stride): self.inference = "slide (crop \(crop), stride \(stride))"
            }
        }
    }

    public struct Params: Encodable {
        public var trainable: Int
        public var trainableWithHead: Int
        public var ppt: Double?
        enum CodingKeys: String, CodingKey { case trainable, trainableWithHead = "trainable_with_head", ppt }
    }

    public struct Cost: Encodable {
        public var adapterBytes: Int?
        public var peakMemoryMB: Double?
        public var trainImagesPerSecond: Double?
        public var evalImagesPerSecond: Double?
        public var mergedEvalImagesPerSecond: Double?
        public var wallSeconds: Double
        enum CodingKeys: String, CodingKey {
            case adapterBytes = "adapter_bytes", peakMemoryMB = "peak_memory_mb", trainImagesPerSecond = "train_images_per_s"
            case evalImagesPerSecond = "eval_images_per_s", mergedEvalImagesPerSecond = "merged_eval_images_per_s", wallSeconds = "wall_seconds"
        }
    }

    public struct Environment: Encodable {
        public var vpeft: String
        public var cpu: String
        public var threads: Int
        public var blas: String
        public var gitCommit: String?
        /// How the large products ran: "fp32", "bf16, native: …" or "bf16, emulated (why): …".
        public var products: String
        enum CodingKeys: String, CodingKey { case vpeft, cpu, threads, blas, gitCommit = "git_commit", products }
    }

    public let schema = "vpeft-run/1"
    public var runID: String
    public var method: String
    public var methodOptions: [String: JSONValue]
    public var initStyle: String
    /// The training recipe whose settings the run used (vpetl or official).
    public var recipe: String
    public var backbone: Backbone
    public var dataset: DatasetInfo
    public var evaluationProtocol: String
    public var seed: UInt64
    public var config: TrainingConfig
    public var accuracy: Accuracy
    /// Segmentation runs only (absent otherwise).
    public var segmentation: Segmentation?
    public var params: Params
    public var cost: Cost
    public var environment: Environment

    enum CodingKeys: String, CodingKey {
        case schema, runID = "run_id", method, methodOptions = "method_options", initStyle = "init", recipe, backbone, dataset
        case evaluationProtocol = "protocol", seed, config, accuracy, segmentation, params, cost, environment
    }

    /// The PPT of the paper: (M/100)·exp(−log10(P/10⁷ + 1)); undefined for full fine-tuning.
    public static func ppt(accuracy: Double, trainable: Int, method: String) -> Double? {
        method == "full" ? nil : accuracy / 100 * exp(-log10(Double(trainable) / 1e7 + 1))
    }

    /// Writes the record atomically (temp file, rename) as pretty, key-sorted JSON.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: temp)
        if rename(temp.path, url.path) != 0 { throw ConfigError("\(url.path): cannot write the run record (errno \(errno))") }
    }
}
