import ArgumentParser
import Datasets
import Foundation
import Models
import PEFT
import Reports
import Tensor
import Training

// Options several commands share, declared once (`@OptionGroup`), and the enum options they take.

/// `--model` / `--weights`: a backbone and its checkpoint.
struct BackboneOptions: ParsableArguments {
    @Option(help: "Backbone: ViT or Swin preset, timm hub folder or config.json, or efficientnet_lite0/1/2.") var model: String?
    @Option(help: "Backbone weights (.safetensors, .npz, .pth, .bin); default: a hub folder's model.safetensors.") var weights: String?

    var weightsURL: URL? { weights.map { URL(fileURLWithPath: $0) } }

    /// `--model`, for the commands that cannot do without it.
    func requiredModel() throws -> String {
        guard let model else { throw ValidationError("--model is required") }
        return model
    }
}

/// `--adapter`: a trained adapter folder.
struct AdapterOptions: ParsableArguments {
    @Option(help: "A trained adapter folder (adapter.json + adapter.safetensors, written by `vpeft train`).") var adapter: String

    /// The adapter attached to the ViT of `backbone`, built at the image size and head size the
    /// adapter was trained with (its backbone identity records them).
    func loadOntoViT(_ backbone: BackboneOptions) throws -> (model: PEFTModel, manifest: AdapterFile.Manifest) {
        let folder = URL(fileURLWithPath: adapter)
        let manifest = try AdapterFile.readManifest(folder)
        let trainedConfig = try? JSONDecoder().decode(VisionTransformerConfig.self, from: Data(manifest.backbone.architecture.utf8))
        let vit = try VisionTransformer.load(model: try backbone.requiredModel(), weights: backbone.weightsURL, imgSize: trainedConfig?.imgSize,
                                             numClasses: manifest.classes)
        return (try AdapterFile.load(folder, onto: vit), manifest)
    }
}

/// `--dataset` / `--data-root` / `--split`: the data an adapter is evaluated or embedded on.
struct EvaluationDataOptions: ParsableArguments {
    @Option(help: "Dataset as suite:name (default: the adapter's training run's).") var dataset: String?
    @Option(help: "Folder holding the dataset folders (default: the run's).") var dataRoot: String?
    @Option(help: "Split: test, val200, train800, train800val200 (FGVC: train, val, test).") var split = "test"
}

/// `--precision`: the arithmetic of the large matrix products.
struct PrecisionOptions: ParsableArguments {
    @Option(help: """
        Arithmetic of the large matrix products: fp32, or bf16 (bfloat16 operands, fp32 accumulation; \
        emulated without a speed-up on CPUs without bfloat16 instructions — `vpeft doctor` says which).
        """)
    var precision: BLAS.Precision?

    /// Sets the engine's precision (`fallback` when not given); in bf16, says on standard error
    /// how the products run on this machine.
    func apply(default fallback: BLAS.Precision = .fp32) {
        BLAS.precision = precision ?? fallback
        if BLAS.precision == .bf16 { FileHandle.standardError.write(Data("products: \(BLAS.productsDescription)\n".utf8)) }
    }
}

/// `--threads`: the engine's and BLAS's thread budget.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for the engine and BLAS (default: VPEFT_THREADS, else all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func apply() { if let threads { Parallel.setThreadCount(threads) } }
}

extension BLAS.Precision: ExpressibleByArgument {}
extension EvaluationProtocol: ExpressibleByArgument {}
extension TableFormat: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}

/// The pixel normalisations a command can be told to use by name.
/// Pixel statistics by name; `model` = the backbone's own (`Backbone.preprocessing`).
enum NormalizationName: String, ExpressibleByArgument, CaseIterable {
    case model, imagenet, inception, clip, efficientnet, none
}
