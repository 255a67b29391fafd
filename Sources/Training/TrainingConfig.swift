import Foundation
import Tensor

/// Everything that determines a training run, fully resolved before training starts, printed at
/// the start and stored with the results. Keys are snake_case in files and `--set key=value`.
public struct TrainingConfig: Codable, Equatable, Sendable {
    // Backbone
    public var model = "vit_base_patch16_224"
    public var weights: String?
    public var imgSize: Int?
    // Method
    public var method = "linear"
    /// The method's options as JSON text (their keys depend on the method).
    public var methodOptions: [String: JSONValue] = [:]
    public var initStyle: String = "intended"
    // Data
    public var dataset = "vtab1k:cifar100"
    public var dataRoot: String?
    public var trainAugmentation = false
    /// bilinear, bicubic, or `model`: the backbone's own (`Backbone.preprocessing`). The VTAB-1k
    /// and FGVC protocols set bilinear (`RunConfiguration`).
    public var interpolation = "model"
    /// imagenet, inception, clip, efficientnet, none, or `model`: the statistics the backbone's
    /// weights were trained with. The VTAB-1k and FGVC protocols set imagenet.
    public var normalization = "model"
    /// Video: frames per clip (nil: VideoMAE's 16), the spacing of densely sampled frames (HMDB51,
    /// list datasets; VideoMAE's `--sampling_rate`, nil: 4), and the test views as "CLIPSxCROPS"
    /// (nil: the dataset's own, 2x3 for Something-Something-V2, 5x3 otherwise). Optional, so image
    /// runs' configs (and their fingerprints) do not carry them. `VideoTrainingData` reads them.
    public var frames: Int?
    public var frameStride: Int?
    public var testViews: String?
    /// Video: the area range [min, max] of the training clips' random-resized crop (nil: VideoMAE's
    /// [0.08, 1]).
    public var clipCropScale: [Double]?
    public var protocolName = "honest"
    /// Which training recipe configs/methods/<method>.yaml supplies: "vpetl" (the settings of
    /// the V-PETL paper's tables) or "official" (the method's own released recipe). A method
    /// the V-PETL code never really ran resolves to "official" (RunConfiguration says so).
    public var recipe = "vpetl"
    // Optimisation (V-PETL image protocol defaults)
    public var epochs = 100
    public var batchSize = 64
    public var optimizer = "adamw"
    public var lr: Double = 1e-3
    public var weightDecay: Double = 1e-4
    /// V-PETL decays every trainable tensor; false applies timm's rule instead (no decay on
    /// biases and other 1-D tensors such as norm scales), as a second parameter group.
    public var decayAll = true
    /// Multiplies the classifier head's learning rate (1 = the papers' recipes: one rate for every
    /// trainable tensor). A fresh head on a frozen, sensitive backbone wants a rate that would
    /// wreck the backbone's biases or prompts; short runs set both apart.
    public var headLRScale: Double = 1
    public var momentum: Double = 0.9
    public var warmupEpochs = 10
    public var minLR: Double = 1e-5
    public var warmupLR: Double = 1e-6
    /// "epoch" (V-PETL: the schedule steps after each epoch) or "step".
    public var schedulePer = "epoch"
    public var labelSmoothing: Double = 0
    public var dropPath: Double = 0.1
    /// Clip the global gradient norm to this (0 = off).
    public var gradClip: Double = 0
    public var gradAccumulation = 1
    // Evaluation
    /// Evaluate every N epochs (and always after the last).
    public var evalEvery = 10
    /// Also evaluate after these epochs (1-based), e.g. the epochs V-PETL's code tested at.
    public var evalEpochs: [Int] = []
    /// Evaluation images timed for the record's inference speed, before and after merging
    /// (0 = not measured: a quick demo grid spends its minutes on training instead).
    public var speedImages = 256
    public var seed: UInt64 = 42
    public var threads: Int?
    /// Memory for frozen-prefix caches (MiB; 0 = off): when the front of the model is frozen and
    /// the inputs are not augmented (linear probing, partial-k), its output is computed once per
    /// image and reused every epoch.
    public var cacheFrozenMB = 4096
    /// Also keep frozen-prefix outputs on disk under this folder (`FrozenPrefixStore`), shared
    /// by every run with the same backbone, preprocessing, prefix point and precision.
    public var cacheFrozenDir: String?
    /// `bf16`: the large matrix products take bfloat16 operands (fp32 accumulation; native on a
    /// CPU with bfloat16 instructions, emulated elsewhere — `BLAS.productsDescription` says which,
    /// and the run record keeps it); trainable tensors, gradients and optimiser state stay fp32.
    public var precision = "fp32"
    /// ViT: recompute every MLP's fc1 → activation in the backward instead of keeping its output
    /// (activation checkpointing: less memory, ~15 % more arithmetic; same results).
    public var recomputeMLP = false

    // Semantic segmentation (`SegmentationSettings`: nil takes mmseg's ADE20K 512×512 recipe
    // value; unset keys stay out of the encoding, so classification configs and their hashes are
    // unchanged).
    /// classification or segmentation; nil: segmentation for the ade20k, voc and seglist suites.
    public var task: String?
    /// cosine (timm, `warmup_epochs`) or poly (mmseg, per iteration, `warmup_iters`); nil: cosine.
    public var schedule: String?
    public var polyPower: Double?
    public var warmupIters: Int?
    public var warmupRatio: Double?
    public var cropSize: Int?
    public var ratioRange: [Double]?
    /// (long, short) side of the resize before the random ratio and at test time.
    public var imgScale: [Int]?
    public var catMaxRatio: Double?
    public var auxLossWeight: Double?
    /// whole or slide.
    public var inference: String?
    public var slideStride: Int?
    public var testScales: [Double]?
    public var testFlip: Bool?
    /// mmseg's `PhotoMetricDistortion` on training images; nil: on, as its recipes have it.
    public var photometricDistortion: Bool?
    /// UPerNet's channels (`hidden_size`) and its auxiliary head's.
    public var decoderChannels: Int?
    public var auxChannels: Int?
    /// Classes of a `seglist:` dataset (its folder may name them in classes.txt instead).
    public var numClasses: Int?

    public init() {}

    /// Every key a config file or `--set` may name, optional ones included: the coding keys.
    public static let keys: [String] = CodingKeys.allCases.map(\.stringValue).sorted()

    /// The poly schedule (mmseg's) instead of timm's cosine.
    public var usesPolySchedule: Bool { schedule == "poly" }

    public static let recipes = ["vpetl", "official"]
    public static let normalizations = ["model", "imagenet", "inception", "clip", "efficientnet", "none"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, weights, imgSize = "img_size", method, methodOptions = "method_options", initStyle = "init"
        case dataset, dataRoot = "data_root", trainAugmentation = "train_augmentation", interpolation, normalization
        case frames, frameStride = "frame_stride", testViews = "test_views", clipCropScale = "clip_crop_scale"
        case protocolName = "protocol", recipe, epochs, batchSize = "batch_size", optimizer, lr, weightDecay = "weight_decay", decayAll = "decay_all", headLRScale = "head_lr_scale", momentum
        case warmupEpochs = "warmup_epochs", minLR = "min_lr", warmupLR = "warmup_lr", schedulePer = "schedule_per"
        case labelSmoothing = "label_smoothing", dropPath = "drop_path", gradClip = "grad_clip", gradAccumulation = "grad_accumulation"
        case evalEvery = "eval_every", evalEpochs = "eval_epochs", speedImages = "speed_images", seed, threads, cacheFrozenMB = "cache_frozen_mb", cacheFrozenDir = "cache_frozen_dir", precision, recomputeMLP = "recompute_mlp"
        case task, schedule, polyPower = "poly_power", warmupIters = "warmup_iters", warmupRatio = "warmup_ratio", cropSize = "crop_size", ratioRange = "ratio_range"
        case imgScale = "img_scale", catMaxRatio = "cat_max_ratio", auxLossWeight = "aux_loss_weight", inference, slideStride = "slide_stride"
        case testScales = "test_scales", testFlip = "test_flip", photometricDistortion = "photometric_distortion", decoderChannels = "decoder_channels", auxChannels = "aux_channels", numClasses = "num_classes"
    }

    /// Checks every value a user can get wrong, naming the key.
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ value: Any, _ expectation: String) throws {
            if !ok { throw ConfigError("\(key) = \(value): \(expectation)") }
        }
        try require(epochs > 0, "epochs", epochs, "must be positive")
        try require(batchSize > 0, "batch_size", batchSize, "must be positive")
        try require(["adamw", "sgd"].contains(optimizer), "optimizer", optimizer, "must be adamw or sgd")
        try require(lr > 0 && lr.isFinite, "lr", lr, "must be a positive number")
        try require(weightDecay >= 0, "weight_decay", weightDecay, "must be ≥ 0")
        // The poly schedule warms up over `warmup_iters` and ignores `warmup_epochs`.
        try require(usesPolySchedule || (warmupEpochs >= 0 && warmupEpochs < epochs), "warmup_epochs", warmupEpochs, "must be in 0..<epochs (\(epochs))")
        try require(minLR >= 0 && warmupLR >= 0, "min_lr/warmup_lr", (minLR, warmupLR), "must be ≥ 0")
        try require(["epoch", "step"].contains(schedulePer), "schedule_per", schedulePer, "must be epoch or step")
        try require((0..<1).contains(labelSmoothing), "label_smoothing", labelSmoothing, "must be in [0, 1)")
        try require((0..<1).contains(dropPath), "drop_path", dropPath, "must be in [0, 1)")
        try require(gradClip >= 0, "grad_clip", gradClip, "must be ≥ 0 (0 = off)")
        try require(gradAccumulation >= 1, "grad_accumulation", gradAccumulation, "must be ≥ 1")
        try require(evalEvery >= 1, "eval_every", evalEvery, "must be ≥ 1")
        try require(headLRScale > 0 && headLRScale.isFinite, "head_lr_scale", headLRScale, "must be positive")
        try require(speedImages >= 0, "speed_images", speedImages, "must be ≥ 0 (0 = not measured)")
        try require(evalEpochs.allSatisfy { (1...epochs).contains($0) }, "eval_epochs", evalEpochs, "must be epochs in 1…\(epochs)")
        try require(["vpetl", "honest", "honest-select"].contains(protocolName), "protocol", protocolName, "must be vpetl, honest or honest-select")
        try require(TrainingConfig.recipes.contains(recipe), "recipe", recipe, "must be vpetl or official")
        try require(["intended", "vpetl"].contains(initStyle), "init", initStyle, "must be intended or vpetl")
        try require(["model", "bilinear", "bicubic"].contains(interpolation), "interpolation", interpolation, "must be model, bilinear or bicubic")
        try require(TrainingConfig.normalizations.contains(normalization), "normalization", normalization,
                    "must be one of \(TrainingConfig.normalizations.joined(separator: ", "))")
        if let threads { try require(threads > 0, "threads", threads, "must be positive") }
        try require(cacheFrozenMB >= 0, "cache_frozen_mb", cacheFrozenMB, "must be ≥ 0 (0 = off)")
        if let cacheFrozenDir { try require(!cacheFrozenDir.isEmpty, "cache_frozen_dir", "\"\"", "must be a folder path") }
        try require(BLAS.Precision(rawValue: precision) != nil, "precision", precision, "must be fp32 or bf16")
        if let imgSize { try require(imgSize > 0, "img_size", imgSize, "must be positive") }
        if let frames { try require(frames > 0, "frames", frames, "must be positive") }
        if let frameStride { try require(frameStride > 0, "frame_stride", frameStride, "must be positive") }
        if let clipCropScale {
            try require(clipCropScale.count == 2 && clipCropScale[0] > 0 && clipCropScale[0] <= clipCropScale[1] && clipCropScale[1] <= 1,
                        "clip_crop_scale", clipCropScale, "must be [min, max] with 0 < min ≤ max ≤ 1")
        }
        if recomputeMLP, case .number(let rate)? = methodOptions["dropout"] {
            // The recomputed layers must compute what the forward did: no fresh dropout masks.
            try require(rate == 0, "recompute_mlp", true, "needs method_options.dropout = 0 (got \(rate)): the recomputed fc1 would draw other dropout masks")
        }
        if let task { try require(["classification", "segmentation"].contains(task), "task", task, "must be classification or segmentation") }
        if let schedule { try require(["cosine", "poly"].contains(schedule), "schedule", schedule, "must be cosine or poly") }
        if let polyPower { try require(polyPower > 0 && polyPower.isFinite, "poly_power", polyPower, "must be positive") }
        if let warmupIters { try require(warmupIters >= 0, "warmup_iters", warmupIters, "must be ≥ 0") }
        if let warmupRatio { try require(warmupRatio > 0 && warmupRatio <= 1, "warmup_ratio", warmupRatio, "must be in (0, 1]") }
        try SegmentationSettings.validate(self)
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A JSON value, so free-form option maps survive Codable round trips exactly.
public enum JSONValue: Codable, Equatable, Sendable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// As Foundation JSON objects (for the method registry).
    public var foundationValue: Any {
        switch self {
        case .number(let n): return n == n.rounded() && Swift.abs(n) < 1e15 ? Int(n) as Any : n
        case .string(let s): return s
        case .bool(let b): return b
        case .array(let a): return a.map(\.foundationValue)
        case .object(let o): return o.mapValues(\.foundationValue)
        case .null: return NSNull()
        }
    }
}
