import Foundation
import Models
import Tensor

extension HuggingFacePEFT {
    /// Writes `model` (LoRA or DoRA on a ViT) as a PEFT adapter folder that
    /// `PeftModel.from_pretrained(timm_model, folder)` loads with the same logits.
    ///
    /// PEFT adapts whole modules, and timm's q, k, v are one `qkv` linear: the n targeted slices
    /// of rank r become one rank-n·r LoRA on `qkv`, A = [A_q; A_v] (stacked in q, k, v order)
    /// and B holding B_t in slice t's rows and its own columns (zeros elsewhere), so
    /// B A = Σ_t (B_t A_t placed in slice t's rows). PEFT's scale lora_alpha / rank keeps α/r
    /// exactly with lora_alpha = n·α. When other linears are targeted too (rank r), `qkv` gets
    /// its n·r and n·α through `rank_pattern` / `alpha_pattern`. DoRA's magnitude covers all of
    /// `qkv`: untargeted slices get their own row norms, a factor m / ‖W‖ of exactly 1.
    public static func export(_ model: PEFTModel, baseModel: String?, to folder: URL) throws {
        guard let vit = model.backbone as? VisionTransformer else {
            throw AdapterError("PEFT export: PEFT's timm layout is written for ViT backbones; this adapter's backbone is \(model.backbone.architecture)")
        }
        let (rank, alpha, targets, dropout, dora): (Int, Float, [LinearTarget], Float, Bool)
        switch model.method {
        case let lora as LoRA: (rank, alpha, targets, dropout, dora) = (lora.rank, lora.alpha, lora.targets, lora.dropout, false)
        case let method as DoRA: (rank, alpha, targets, dropout, dora) = (method.rank, method.alpha, method.targets, 0, true)
        default:
            throw AdapterError("PEFT export: method \(type(of: model.method).name) has no Hugging Face PEFT form with the same definition; exportable: \(methods.joined(separator: ", ")) (docs/peft-interop.md)")
        }
        if targets.contains(.qkv) {
            throw AdapterError("PEFT export: target attn.qkv (one low-rank update of the whole fused projection) is not exported yet; the export writes the q, k, v slice targets")
        }
        let factors = Dictionary(uniqueKeysWithValues: model.methodTensors.map { ($0.name, $0.tensor) })
        let modules = PEFTModule.allCases.filter { !$0.targets.filter(targets.contains).isEmpty }
        var tensors: [String: Tensor] = [:]
        for (l, block) in vit.blocks.enumerated() {
            for module in modules {
                let owned = module.targets.filter(targets.contains), layer = module.layer(in: block)
                let a = Tensor.zeros([owned.count * rank, layer.inFeatures]), b = Tensor.zeros([layer.outFeatures, owned.count * rank])
                for (i, target) in owned.enumerated() {
                    let at = factors[target.tensorName(in: block, "lora_A")]!, bt = factors[target.tensorName(in: block, "lora_B")]!
                    (a.data + i * rank * layer.inFeatures).update(from: at.data, count: at.count)
                    for (row, layerRow) in target.rows(in: block).enumerated() {
                        (b.data + layerRow * b.shape[1] + i * rank).update(from: bt.data + row * rank, count: rank)
                    }
                }
                tensors[key(l, module, "lora_A.weight")] = a
                tensors[key(l, module, "lora_B.weight")] = b
                if dora {
                    let m = Tensor.zeros([layer.outFeatures])
                    for target in module.targets {
                        let rows = target.rows(in: block)
                        let part = owned.contains(target) ? factors[target.tensorName(in: block, "dora_m")]! : unchangedMagnitude(layer, rows: rows)
                        (m.data + rows.lowerBound).update(from: part.data, count: rows.count)
                    }
                    tensors[key(l, module, "lora_magnitude_vector")] = m
                }
            }
        }
        guard let head = vit.head else { throw AdapterError("PEFT export: the model has no classifier head") }
        tensors["\(keyPrefix)head.weight"] = head.weight
        if let bias = head.bias { tensors["\(keyPrefix)head.bias"] = bias }

        let slices = PEFTModule.qkv.targets.filter(targets.contains).count
        var config = PEFTLoRAConfig(rank: rank, alpha: Double(alpha), targetModules: modules.map(\.rawValue), modulesToSave: ["head"], baseModel: baseModel)
        config.useDoRA = dora
        config.dropout = Double(dropout)
        if slices > 1 {
            if modules == [.qkv] {
                (config.rank, config.alpha) = (slices * rank, Double(slices) * Double(alpha))
            } else {
                config.rankPattern = [PEFTModule.qkv.rawValue: slices * rank]
                config.alphaPattern = [PEFTModule.qkv.rawValue: Double(slices) * Double(alpha)]
            }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent(weightsFile))
        try AtomicFile.write(config.json(), to: folder.appendingPathComponent(configFile))
    }
}
