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
        Without --adapter: the backbone's classifier, images resized on the short side (--resize, \
        bicubic) and centre-cropped (--crop), normalised with --normalization (efficientnet: (x−127)/128). \
        With --adapter: the adapter's training run's preprocessing and classes.
        """)

    @OptionGroup var backbone: BackboneOptions
    @Option(help: "A trained adapter folder.") var adapter: String?
    @Option(name: .customLong("image"), help: "Image files (repeatable).") var images: [String]
    @Option(help: "Class names, one per line (e.g. assets/imagenet_classes.txt).") var labels: String?
    @Option(help: "How many classes to print.") var top = 5
    @Option(help: "Short-side resize before the crop (no adapter).") var resize = 256
    @Option(help: "Centre crop (no adapter).") var crop = 224
    @Option(help: "Pixel normalisation (no adapter): \(NormalizationName.allCases.map(\.rawValue).joined(separator: ", ")).") var normalization = NormalizationName.imagenet

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one --image") }
        guard adapter != nil || backbone.model != nil else { throw ValidationError("give --model (and --weights) or --adapter") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    func run() throws {
        let forward: (Tensor) -> Tensor
        let pipeline: ImagePipeline
        if let adapter {
            let adapted = try AdaptedModel(adapter: adapter, model: backbone.model, weights: backbone.weights)
            forward = { x in withoutGradients { adapted.model(x) } }
            pipeline = adapted.pipeline
        } else {
            let model = try backbone.requiredModel()
            let loaded = try BackboneLoader.load(model: model, weights: backbone.weightsURL)
            guard loaded.head != nil else { throw ValidationError("\(model) has no classifier head; use an adapter") }
            forward = { x in withoutGradients { loaded.forward(x).logits! } }
            pipeline = try ImagePipeline.fgvc(train: false, interpolation: .bicubic, normalization: try TrainingSession.normalization(normalization.rawValue),
                                              resize: resize, crop: crop)
        }
        let names = try labels.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
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
