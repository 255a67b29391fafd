import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensor

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a ViT on an input tensor and write its logits (and features): the timm interop/parity command.",
        discussion: """
        --model is a timm preset name (vit_base_patch16_224), a timm hub folder (config.json + \
        model.safetensors) or a config.json. --input holds an NCHW float32 tensor: a .safetensors \
        file (key 'input', or its only tensor) or a .npy file. The output .safetensors holds \
        'logits' (when the model has a head) and, with --features, 'features' (pooled pre-logits).
        """)

    @OptionGroup var backbone: BackboneOptions
    @Option(help: "Image size (the position embedding is resampled when it differs from the checkpoint's).") var imgSize: Int?
    @Option(help: "Override the number of classes (0 = no head).") var numClasses: Int?
    @Option(help: "Input tensor file (.safetensors or .npy).") var input: String
    @Option(help: "Output .safetensors file.") var output: String
    @Flag(help: "Also write the pooled pre-logits features.") var features = false
    @OptionGroup var arithmetic: PrecisionOptions

    func validate() throws { _ = try backbone.requiredModel() }

    func run() throws {
        arithmetic.apply()
        let vit = try VisionTransformer.load(model: try backbone.requiredModel(), weights: backbone.weightsURL, imgSize: imgSize, numClasses: numClasses)
        let x = try readInput(URL(fileURLWithPath: input))
        let c = vit.config
        guard x.shape == [x.shape.first ?? 0, c.inChans, c.imgSize, c.imgSize], x.shape[0] > 0 else {
            throw ValidationError("\(input): input shape \(x.shape) does not match [B, \(c.inChans), \(c.imgSize), \(c.imgSize)] for this model (use --img-size)")
        }
        let out = withoutGradients { vit.forward(x) }
        var tensors: [String: Tensor] = [:]
        if let logits = out.logits { tensors["logits"] = logits }
        if features || out.logits == nil { tensors["features"] = out.features }
        try SafeTensors.write(tensors, to: URL(fileURLWithPath: output))
        print("wrote \(output): " + tensors.keys.sorted().map { "\($0) \(tensors[$0]!.shape)" }.joined(separator: ", "))
    }

    private func readInput(_ url: URL) throws -> Tensor {
        if url.pathExtension == "npy" {
            guard let data = FileManager.default.contents(atPath: url.path) else { throw ValidationError("\(url.path): cannot read") }
            return try NumpyArray(parsing: data, file: url.path).tensor
        }
        let file = try SafeTensors.read(url)
        if let t = file.tensors["input"] { return t }
        guard file.tensors.count == 1, let only = file.tensors.values.first else {
            throw ValidationError("\(url.path): no tensor named 'input' and not exactly one tensor (found \(file.names))")
        }
        return only
    }
}
