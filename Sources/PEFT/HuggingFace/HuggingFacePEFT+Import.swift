import Foundation
import Models
import Tensor

extension HuggingFacePEFT {
    /// A PEFT folder read onto a backbone: the vpeft model with the same function, and what
    /// the reading had to leave out (never anything that changes inference).
    public struct Imported {
        public let model: PEFTModel
        public let notes: [String]
    }

    /// Reads the PEFT LoRA (or DoRA) adapter in `folder`, saved for a timm ViT, onto `backbone`
    /// (the base model it was trained on): vpeft's LoRA / DoRA with the same logits.
    ///
    /// PEFT's A on `qkv` is shared by the q, k and v rows. When B is block-shaped — the
    /// non-zero columns of each slice's rows disjoint and equally many, as `export` writes —
    /// each slice becomes its own target with those columns (export's layout comes back
    /// tensor for tensor). Otherwise every slice becomes a target with a copy of the whole A
    /// and its rows of B. vpeft has one rank and one α for all targets: smaller ranks are padded
    /// with zero rows of A and zero columns of B, a module whose PEFT scale differs from the
    /// adapter's has the ratio folded into B, and a target missing in some block gets zero
    /// factors (DoRA: its own row norms as magnitude) — each exact.
    public static func load(_ folder: URL, onto backbone: any Backbone) throws -> Imported {
        let configURL = folder.appendingPathComponent(configFile), weightsURL = folder.appendingPathComponent(weightsFile)
        let config = try PEFTLoRAConfig.read(configURL)
        guard let vit = backbone as? VisionTransformer else {
            throw AdapterError("\(folder.path): PEFT adapters are read onto ViT backbones (timm's layout); this backbone is \(backbone.architecture)")
        }
        let file = try SafeTensors.read(weightsURL)
        func fail(_ what: String) -> AdapterError { AdapterError("\(weightsURL.path): \(what)") }

        var factors: [String: [String: Tensor]] = [:]      // module path → part → tensor
        var head: [String: Tensor] = [:]
        let parts = config.useDoRA ? ["lora_A.weight", "lora_B.weight", "lora_magnitude_vector"] : ["lora_A.weight", "lora_B.weight"]
        for name in file.names {
            guard name.hasPrefix(keyPrefix) else { throw fail("tensor '\(name)' is not under PEFT's '\(keyPrefix)'") }
            let key = String(name.dropFirst(keyPrefix.count))
            if key == "head.weight" || key == "head.bias" {
                guard config.modulesToSave != nil else { throw fail("tensor '\(name)' but adapter_config.json's 'modules_to_save' does not list head") }
                head[key] = file.tensors[name]!
                continue
            }
            guard let (path, part) = splitModulePart(key, parts: parts), module(path, depth: vit.blocks.count) != nil else {
                throw fail("tensor '\(name)': vpeft's \(config.useDoRA ? "DoRA" : "LoRA") takes PEFT factors (\(parts.joined(separator: ", "))) on \(PEFTModule.allCases.map(\.rawValue).joined(separator: ", ")) of blocks 0…\(vit.blocks.count - 1), and the classifier head through modules_to_save")
            }
            factors[path, default: [:]][part] = file.tensors[name]!
        }
        guard !factors.isEmpty else { throw fail("no LoRA factors") }

        var pieces: [PieceKey: LowRankPiece] = [:]
        for (path, tensors) in factors {
            let (l, module) = module(path, depth: vit.blocks.count)!
            let block = vit.blocks[l], layer = module.layer(in: block)
            for part in parts where tensors[part] == nil { throw fail("\(path) has no \(part)") }
            let (rank, scale) = try config.rankAndScale(path)
            let a = tensors["lora_A.weight"]!, b = tensors["lora_B.weight"]!
            guard a.shape == [rank, layer.inFeatures], b.shape == [layer.outFeatures, rank] else {
                throw fail("\(path): lora_A \(a.shape), lora_B \(b.shape); the config's rank \(rank) on this layer [\(layer.outFeatures), \(layer.inFeatures)] needs [\(rank), \(layer.inFeatures)] and [\(layer.outFeatures), \(rank)]")
            }
            let magnitude = tensors["lora_magnitude_vector"]
            if let magnitude, magnitude.shape != [layer.outFeatures] { throw fail("\(path): lora_magnitude_vector \(magnitude.shape), expected [\(layer.outFeatures)]") }
            for piece in LowRankPiece.split(a: a, b: b, magnitude: magnitude, scale: scale, module: module, block: block) {
                pieces[PieceKey(block: l, target: piece.target)] = piece
            }
        }

        let targets = LinearTarget.blockTargets.filter { t in pieces.keys.contains { $0.target == t } }
        let rank = pieces.values.map(\.rank).max()!
        // The adapter's own scale (r, lora_alpha) unless padding moved the rank: then α' with α'/rank = that scale.
        let (baseRank, baseScale) = (config.rank, config.useRSLoRA ? config.alpha / Double(config.rank).squareRoot() : config.alpha / Double(config.rank))
        let alpha = !config.useRSLoRA && rank == baseRank ? config.alpha : baseScale * Double(rank)
        var notes: [String] = []
        var options: [String: Any] = ["rank": rank, "alpha": alpha, "targets": targets.map(\.rawValue)]
        if config.useDoRA {
            if config.dropout > 0 { notes.append("lora_dropout \(config.dropout) left out: vpeft's DoRA has no dropout (inference is unaffected)") }
        } else {
            options["dropout"] = config.dropout
        }
        let method = try MethodRegistry.method(named: config.useDoRA ? DoRA.name : LoRA.name, options: options)

        let originalHead = vit.head.map { ($0.weight.scalars, $0.bias?.scalars) }
        guard let classes = head["head.weight"]?.shape[0] ?? vit.head?.outFeatures else {
            throw fail("no classifier head (modules_to_save) and the backbone has none")
        }
        let model = try PEFTModel(backbone: vit, method: method, classes: classes)
        let newHead = vit.head!
        if let weight = head["head.weight"] {
            guard weight.shape == newHead.weight.shape else { throw fail("head.weight \(weight.shape), expected \(newHead.weight.shape)") }
            newHead.weight.data.update(from: weight.data, count: weight.count)
            if let bias = newHead.bias {
                guard let stored = head["head.bias"], stored.shape == bias.shape else { throw fail("head.bias missing or not [\(classes)]") }
                bias.data.update(from: stored.data, count: bias.count)
            }
        } else if let (weight, bias) = originalHead {
            // PEFT leaves a head it does not save as the base model's.
            newHead.weight.data.update(from: weight, count: weight.count)
            if let bias, let target = newHead.bias { target.data.update(from: bias, count: bias.count) }
        }

        let named = Dictionary(uniqueKeysWithValues: model.methodTensors.map { ($0.name, $0.tensor) })
        let vpeftScale = Double(Float(alpha) / Float(rank))
        for (l, block) in vit.blocks.enumerated() {
            for target in targets {
                let a = named[target.tensorName(in: block, "lora_A")]!, b = named[target.tensorName(in: block, "lora_B")]!
                a.data.update(repeating: 0, count: a.count)
                b.data.update(repeating: 0, count: b.count)
                let piece = pieces[PieceKey(block: l, target: target)]
                if let piece {
                    piece.write(a: a, b: b, rank: rank, ratio: piece.scale == baseScale ? 1 : Float(piece.scale / vpeftScale))
                }
                if config.useDoRA {
                    let m = named[target.tensorName(in: block, "dora_m")]!
                    let value = piece?.magnitude ?? unchangedMagnitude(target.layer(in: block), rows: target.rows(in: block))
                    m.data.update(from: value.data, count: m.count)
                }
            }
        }
        return Imported(model: model, notes: notes)
    }

    /// `blocks.3.attn.qkv.lora_A.weight` → (`blocks.3.attn.qkv`, `lora_A.weight`) for a known part.
    private static func splitModulePart(_ key: String, parts: [String]) -> (String, String)? {
        for part in parts where key.hasSuffix(".\(part)") { return (String(key.dropLast(part.count + 1)), part) }
        return nil
    }

    /// `blocks.3.attn.qkv` → (3, .qkv) when the block exists.
    private static func module(_ path: String, depth: Int) -> (Int, PEFTModule)? {
        let components = path.split(separator: ".", maxSplits: 2).map(String.init)
        guard components.count == 3, components[0] == "blocks", let l = Int(components[1]), (0..<depth).contains(l),
              let module = PEFTModule(rawValue: components[2]) else { return nil }
        return (l, module)
    }
}

private struct PieceKey: Hashable {
    let block: Int
    let target: LinearTarget
}
