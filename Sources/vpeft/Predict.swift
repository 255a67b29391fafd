import ArgumentParser
import Datasets
import Foundation
import Models
import PEFT
import Tensor
import Training

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a pre-trained backbone (its own head) or a trained adapter; prints the top-k labels.",
        discussion: """
        Without --adapter: the backbone's classifier and the preprocessing its weights expect \
        (timm's pretrained_cfg: a hub folder's, or the preset's — EfficientNet-Lite: (x−127)/128, \
        short side 256, centre crop 224, bicubic); --resize, --crop and --normalization override it. \
        An ImageNet-1k head (1000 classes) prints class names unless --labels gives others. \
        With --adapter: the adapter's training run's preprocessing and classes.
        """)

    @OptionGroup var backbone: BackboneOptions
    @Option(help: "A trained adapter folder.") var adapter: String?
    @Option(name: .customLong("image"), help: "Image files (repeatable).") var images: [String]
    @Option(help: "Class names, one per line (default for a 1000-class head: ImageNet-1k's).") var labels: String?
    @Option(help: "How many classes to print.") var top = 5
    @Option(help: "Short-side resize before the crop (no adapter; default: the model's input size / crop fraction).") var resize: Int?
    @Option(help: "Centre crop (no adapter; default: the model's input size).") var crop: Int?
    @Option(help: "Pixel normalisation (no adapter): \(NormalizationName.allCases.map(\.rawValue).joined(separator: ", ")).") var normalization = NormalizationName.model

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one --image") }
        guard adapter != nil || backbone.model != nil else { throw ValidationError("give --model (and --weights) or --adapter") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
        for (flag, value) in [("--resize", resize), ("--crop", crop)] {
            if let value, value <= 0 { throw ValidationError("\(flag) \(value) must be positive") }
        }
    }

    func run() throws {
        let forward: (Tensor) -> Tensor
        let pipeline: ImagePipeline
        var classNames: [String]?
        if let adapter {
            let adapted = try AdaptedModel(adapter: adapter, model: backbone.model, weights: backbone.weights)
            forward = { x in withoutGradients { adapted.model(x) } }
            pipeline = adapted.pipeline
        } else {
            let model = try backbone.requiredModel()
            let loaded = try BackboneLoader.load(model: model, weights: backbone.weightsURL)
            guard let head = loaded.head else { throw ValidationError("\(model) has no classifier head; use an adapter") }
            forward = { x in withoutGradients { loaded.forward(x).logits! } }
            let preprocessing = loaded.preprocessing, crop = crop ?? loaded.inputSize, resize = resize ?? preprocessing.resizeSize(for: crop)
            let interpolation = try TrainingSession.interpolation("model", model: preprocessing)
            pipeline = try ImagePipeline.fgvc(train: false, interpolation: interpolation,
                                              normalization: try TrainingSession.normalization(normalization.rawValue, model: preprocessing),
                                              resize: resize, crop: crop)
            if head.weight.shape[0] == ImageNetClasses.names.count { classNames = ImageNetClasses.names }
            let statistics = normalization == .model ? "\(preprocessing.normalizationName) mean/std (\(preprocessing.source))" : normalization.rawValue
            print("preprocessing: short side \(resize) (\(interpolation.rawValue)), centre crop \(crop), \(statistics)")
        }
        let names = try labels.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? classNames
        for path in images {
            let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path))
            var rng = SeededRandom(seed: 0)
            let prepared = try pipeline.augment(try pipeline.prepare(image, source: path), using: &rng, source: path)
            let x = TensorPacker(normalization: pipeline.normalization).tensor(prepared)
            let logits = forward(x.reshaped([1] + x.shape)).softmax()
            let p = logits.scalars
            let ranked = p.indices.sorted { p[$0] > p[$1] }.prefix(top)
            print(path + ":")
            for c in ranked { print(String(format: "  %6.2f%%  %4d  %@", 100 * p[c], c, names.flatMap { c < $0.count ? $0[c] : nil } ?? "")) }
        }
    }
}
