import ArgumentParser
import Foundation
import Models
import PEFT
import Tensor

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold a trained adapter into its backbone and write a plain ViT checkpoint (timm names, new head).",
        discussion: "Only mergeable methods (see `vpeft methods`) can be folded; the result loads in timm with num_classes = the adapter's classes.")

    @Option(help: "Backbone preset, hub folder or config.json (the one the adapter was trained on).") var model: String
    @Option(help: "Backbone weights, if not the hub folder's.") var weights: String?
    @Option(help: "The adapter folder (adapter.json + adapter.safetensors).") var adapter: String
    @Option(help: "Output .safetensors file.") var output: String

    func validate() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output '\(output)' must end in .safetensors") }
    }

    func run() throws {
        let manifest = try AdapterFile.readManifest(URL(fileURLWithPath: adapter))
        // The adapter's backbone identity fixes the image size it was trained at.
        let trained = try? JSONDecoder().decode(VisionTransformerConfig.self, from: Data(manifest.backbone.architecture.utf8))
        let backbone = try VisionTransformer.load(model: model, weights: weights.map { URL(fileURLWithPath: $0) }, imgSize: trained?.imgSize,
                                                  numClasses: manifest.classes)
        let peft = try AdapterFile.load(URL(fileURLWithPath: adapter), onto: backbone)
        try peft.merge()
        try SafeTensors.write(peft.backbone.stateDict, metadata: ["format": "pt", "merged_method": manifest.method],
                              to: URL(fileURLWithPath: output))
        print("wrote \(output): \(manifest.method) merged into the backbone, \(manifest.classes)-class head")
    }
}
