import ArgumentParser
import Foundation
import Models
import PEFT
import Tensor

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold a trained adapter into its backbone and write a plain ViT checkpoint (timm names, new head).",
        discussion: "Only mergeable methods (see `vpeft methods`) can be folded; the result loads in timm with num_classes = the adapter's classes.")

    @OptionGroup var backbone: BackboneOptions
    @OptionGroup var trained: AdapterOptions
    @Option(help: "Output .safetensors file.") var output: String

    func validate() throws {
        _ = try backbone.requiredModel()
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output '\(output)' must end in .safetensors") }
    }

    func run() throws {
        let (peft, manifest) = try trained.loadOntoViT(backbone)
        try peft.merge()
        try SafeTensors.write(peft.backbone.stateDict, metadata: ["format": "pt", "merged_method": manifest.method],
                              to: URL(fileURLWithPath: output))
        print("wrote \(output): \(manifest.method) merged into the backbone, \(manifest.classes)-class head")
    }
}
