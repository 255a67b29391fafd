import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensor

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Google .npz or PyTorch .pth/.bin checkpoint to .safetensors with timm names.",
        discussion: """
        Wrappers (state_dict, model, module.) are removed; Google ViT names are mapped to timm's; \
        original Microsoft Swin checkpoints get timm's layout (PatchMerging at the start of a stage, \
        head.fc) and lose their checked relative_position_index / attn_mask buffers.
        """)

    @Argument(help: "The input checkpoint.") var input: String
    @Argument(help: "The output .safetensors file.") var output: String

    func validate() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("output '\(output)' must end in .safetensors") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: input)
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var tensors = checkpoint.format == .npz ? try GoogleViTNames.timmTensors(from: checkpoint.tensors, file: url.path) : checkpoint.tensors
        if tensors.keys.contains(where: { $0.hasSuffix(".attn.relative_position_bias_table") }) {
            tensors = try SwinTransformer.timmTensors(from: tensors, file: url.path)
        }
        try SafeTensors.write(tensors, metadata: ["format": "pt", "converted_from": url.lastPathComponent], to: URL(fileURLWithPath: output))
        print("wrote \(output): \(tensors.count) tensors from \(checkpoint.format.rawValue)")
    }
}
