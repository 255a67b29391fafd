import ArgumentParser
import Foundation
import PEFT

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained adapter in another library's format: Hugging Face PEFT (LoRA, DoRA on a ViT).",
        discussion: """
            --format peft writes adapter_config.json + adapter_model.safetensors as PEFT's save_pretrained does for the \
            timm model; PeftModel.from_pretrained(timm_model, OUTPUT) gives the adapter's logits (timm model built with \
            num_classes = the adapter's classes). q/k/v targets become one LoRA on timm's fused qkv (docs/peft-interop.md).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case peft
    }

    @OptionGroup var backbone: BackboneOptions
    @OptionGroup var trained: AdapterOptions
    @Option(help: "Output format: peft (Hugging Face PEFT).") var format: Format
    @Option(help: "Output folder.") var output: String
    @Option(help: "base_model_name_or_path to record (default: --model when it names a preset rather than a path).") var baseModel: String?

    func validate() throws { _ = try backbone.requiredModel() }

    func run() throws {
        let (model, manifest) = try trained.loadOntoViT(backbone)
        let name = try backbone.requiredModel()
        let base = baseModel ?? (FileManager.default.fileExists(atPath: name) ? nil : name)
        try HuggingFacePEFT.export(model, baseModel: base, to: URL(fileURLWithPath: output))
        print("wrote \(output): \(manifest.method) as a Hugging Face PEFT adapter (\(HuggingFacePEFT.configFile), \(HuggingFacePEFT.weightsFile)), \(manifest.classes)-class head")
    }
}
