import ArgumentParser
import Foundation
import Models
import PEFT

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a Hugging Face PEFT adapter (LoRA, DoRA) saved for a timm ViT into a vpeft adapter folder.",
        discussion: """
            --peft is a folder written by PEFT's save_pretrained (adapter_config.json + adapter_model.safetensors) for the \
            timm model given by --model/--weights; the written adapter gives the same logits (`vpeft eval`, `predict`, \
            `merge`). Options vpeft cannot represent are errors naming the field (docs/peft-interop.md).
            """)

    @Option(help: "A Hugging Face PEFT adapter folder.") var peft: String
    @OptionGroup var backbone: BackboneOptions
    @Option(help: "Output adapter folder (adapter.json + adapter.safetensors).") var output: String

    func validate() throws { _ = try backbone.requiredModel() }

    func run() throws {
        let vit = try VisionTransformer.load(model: try backbone.requiredModel(), weights: backbone.weightsURL)
        let fingerprint = Fingerprint.of(vit)
        let imported = try HuggingFacePEFT.load(URL(fileURLWithPath: peft), onto: vit)
        for note in imported.notes { print("note: \(note)") }
        try AdapterFile.save(imported.model, backboneFingerprint: fingerprint, to: URL(fileURLWithPath: output))
        let options = try MethodRegistry.options(of: imported.model.method)
        print("wrote \(output): \(type(of: imported.model.method).name) rank \(options["rank"]!), alpha \(options["alpha"]!), targets \(options["targets"]!), \(imported.model.classes)-class head")
    }
}
