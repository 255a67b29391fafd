import Foundation
import Models
import NN
import Tensor

/// Hugging Face PEFT's adapter folder (`adapter_config.json` + `adapter_model.safetensors`, as
/// `PeftModel.save_pretrained` writes it for a timm model), read and written for the methods
/// PEFT defines as vpeft does: LoRA, and DoRA (PEFT's LoRA with `use_dora`). The mapping between
/// vpeft's q/k/v slices and timm's fused `qkv` linear is in docs/peft-interop.md.
public enum HuggingFacePEFT {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    /// PEFT saves every tensor under the wrapped model's path (`PeftModel.base_model.model`), with
    /// the adapter's name ("default") left out.
    static let keyPrefix = "base_model.model."

    /// The vpeft methods a PEFT folder can hold.
    public static let methods = [LoRA.name, DoRA.name]

    /// The PEFT key of a tensor of `module` in block `l` (`base_model.model.blocks.0.attn.qkv.lora_A.weight`).
    static func key(_ l: Int, _ module: PEFTModule, _ part: String) -> String {
        "\(keyPrefix)\(module.path(l)).\(part)"
    }
}

/// A linear of a timm ViT block that PEFT's LoRA targets by module, and the vpeft targets it
/// holds: `attn.qkv` holds three (the q, k and v row slices), the others one each.
enum PEFTModule: String, CaseIterable {
    case qkv = "attn.qkv"
    case proj = "attn.proj"
    case fc1 = "mlp.fc1"
    case fc2 = "mlp.fc2"

    var targets: [LinearTarget] {
        switch self {
        case .qkv: [.q, .k, .v]
        case .proj: [.proj]
        case .fc1: [.fc1]
        case .fc2: [.fc2]
        }
    }

    init(holding target: LinearTarget) {
        self = Self.allCases.first { $0.targets.contains(target) }!
    }

    /// The module's path in the timm model (`blocks.3.attn.qkv`).
    func path(_ l: Int) -> String { "blocks.\(l).\(rawValue)" }

    func layer(in block: Block) -> Linear { targets[0].layer(in: block) }
}

/// DoRA's magnitude for rows of `layer` that no low-rank update touches: their own row norms,
/// so that m / ‖W‖ is exactly 1. Export writes it for the untargeted q/k/v slices and import
/// recognises it, so both sides compute it the same way (as DoRA's hook does with B = 0).
func unchangedMagnitude(_ layer: Linear, rows: Range<Int>) -> Tensor {
    withoutGradients { rowNorms(layer.weight.narrowed(0, start: rows.lowerBound, length: rows.count).detached() + Tensor.zeros([rows.count, layer.inFeatures])) }
}
