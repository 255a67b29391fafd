import Foundation

/// The fields of PEFT's `LoraConfig` (peft 0.21, `adapter_config.json`) that decide a LoRA or
/// DoRA adapter's function, read with every option vpeft cannot represent refused by name.
struct PEFTLoRAConfig {
    var rank: Int
    var alpha: Double
    var rankPattern: [String: Int] = [:]
    var alphaPattern: [String: Double] = [:]
    var useRSLoRA = false
    var useDoRA = false
    var dropout: Double = 0
    var targetModules: [String]
    var modulesToSave: [String]?
    var baseModel: String?

    /// Options that change the base model or the forward in ways vpeft's LoRA has no form for,
    /// with the value that leaves them off.
    private static let mustBeOff: [(field: String, isOff: (Any) -> Bool)] = [
        ("lora_bias", isFalse), ("fan_in_fan_out", isFalse), ("use_qalora", isFalse), ("use_bdlora", isFalse),
        ("layer_replication", isNull), ("target_parameters", isNullOrEmpty), ("trainable_token_indices", isNull),
        ("alora_invocation_tokens", isNull), ("arrow_config", isNull), ("kasa_config", isNull), ("monteclora_config", isNull),
        ("velora_config", isNull), ("megatron_config", isNull), ("loftq_config", isNullOrEmpty),
    ]

    /// `init_lora_weights` values whose adapters are relative to a modified base model (the
    /// principal or quantised part is subtracted from W), so W₀ + ΔW needs weights vpeft does not have.
    private static let baseChangingInits = ["pissa", "olora", "corda", "loftq"]

    static func read(_ url: URL) throws -> PEFTLoRAConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw AdapterError("\(url.path): cannot read (is \(url.deletingLastPathComponent().path) a PEFT adapter folder?)") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw AdapterError("\(url.path): not a JSON object") }
        func fail(_ field: String, _ why: String) -> AdapterError {
            AdapterError("\(url.path): '\(field)' = \(json[field].map { "\($0)" } ?? "absent"): \(why)")
        }
        let type = json["peft_type"] as? String
        guard type == "LORA" else {
            throw fail("peft_type", "vpeft imports PEFT's LORA (with use_dora for DoRA) only; other PEFT methods have no vpeft method with the same definition (docs/peft-interop.md)")
        }
        guard let rank = json["r"] as? Int, rank > 0 else { throw fail("r", "must be a positive integer") }
        guard let alpha = json["lora_alpha"] as? Double else { throw fail("lora_alpha", "must be a number") }
        if (json["bias"] as? String ?? "none") != "none" {
            throw fail("bias", "PEFT then trains the biases of the adapted layers (or all of them); vpeft's LoRA leaves biases frozen, so only \"none\" is importable")
        }
        for (field, isOff) in mustBeOff where !isOff(json[field] ?? NSNull()) {
            throw fail(field, "not supported by vpeft's LoRA (it changes the base model or the layer's forward)")
        }
        if let initStyle = json["init_lora_weights"] as? String, baseChangingInits.contains(where: { initStyle.lowercased().hasPrefix($0) }) {
            throw fail("init_lora_weights", "such adapters are relative to a base model PEFT modified at init; convert them to plain LoRA in PEFT first (save_pretrained with path_initial_model_for_weight_conversion)")
        }
        var config = PEFTLoRAConfig(rank: rank, alpha: alpha, targetModules: [])
        if let patterns = json["rank_pattern"] as? [String: Any] {
            for (key, value) in patterns {
                guard let r = value as? Int, r > 0 else { throw fail("rank_pattern", "entry '\(key)' must be a positive integer") }
                config.rankPattern[key] = r
            }
        }
        if let patterns = json["alpha_pattern"] as? [String: Any] {
            for (key, value) in patterns {
                guard let a = value as? Double else { throw fail("alpha_pattern", "entry '\(key)' must be a number") }
                config.alphaPattern[key] = a
            }
        }
        config.useRSLoRA = json["use_rslora"] as? Bool ?? false
        config.useDoRA = json["use_dora"] as? Bool ?? false
        config.dropout = json["lora_dropout"] as? Double ?? 0
        config.targetModules = (json["target_modules"] as? [String]) ?? (json["target_modules"] as? String).map { [$0] } ?? []
        config.baseModel = json["base_model_name_or_path"] as? String
        if let modules = json["modules_to_save"], !(modules is NSNull) {
            guard let list = modules as? [String], list.allSatisfy({ $0 == "head" }) else {
                throw fail("modules_to_save", "vpeft's LoRA trains only the classifier head besides its factors, so only [\"head\"] is importable")
            }
            config.modulesToSave = list
        }
        return config
    }

    /// The rank and scale PEFT gives the module at `path` (`blocks.0.attn.qkv`): `r` and
    /// `lora_alpha` unless a `rank_pattern` / `alpha_pattern` key matches it as PEFT's
    /// `get_pattern_key` does (the key as a regular expression for the path's end after a dot);
    /// scale α/r, or α/√r with rsLoRA.
    func rankAndScale(_ path: String) throws -> (rank: Int, scale: Double) {
        let r = try Self.match(rankPattern, path, field: "rank_pattern") ?? rank
        let a = try Self.match(alphaPattern, path, field: "alpha_pattern") ?? alpha
        return (r, useRSLoRA ? a / Double(r).squareRoot() : a / Double(r))
    }

    private static func match<V: Equatable>(_ patterns: [String: V], _ path: String, field: String) throws -> V? {
        var found: [(String, V)] = []
        for (key, value) in patterns {
            guard let regex = try? NSRegularExpression(pattern: "^(.*\\.)?(\(key))$") else { throw AdapterError("\(field): key '\(key)' is not a regular expression") }
            if regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil { found.append((key, value)) }
        }
        // PEFT takes the first matching key in the file's order, which JSON objects do not keep
        // here: matches that disagree would make the choice arbitrary.
        if let first = found.first, found.contains(where: { $0.1 != first.1 }) {
            throw AdapterError("\(field): keys \(found.map(\.0).sorted()) all match \(path) with different values")
        }
        return found.first?.1
    }

    /// `adapter_config.json` as PEFT 0.21 writes it for such an adapter (the fields vpeft sets;
    /// PEFT gives every other field its default when loading).
    func json() throws -> Data {
        func number(_ x: Double) -> Any { x == x.rounded() && abs(x) < 1e15 ? Int(x) as Any : x as Any }
        let object: [String: Any] = [
            "peft_type": "LORA", "task_type": NSNull(), "base_model_name_or_path": baseModel ?? NSNull(), "revision": NSNull(),
            "auto_mapping": ["base_model_class": "VisionTransformer", "parent_library": "timm.models.vision_transformer"],
            "inference_mode": true, "r": rank, "lora_alpha": number(alpha), "lora_dropout": dropout,
            "target_modules": targetModules, "exclude_modules": NSNull(), "modules_to_save": modulesToSave ?? NSNull(),
            "rank_pattern": rankPattern, "alpha_pattern": alphaPattern.mapValues(number),
            "bias": "none", "lora_bias": false, "use_rslora": useRSLoRA, "use_dora": useDoRA, "fan_in_fan_out": false,
            "init_lora_weights": true, "layers_to_transform": NSNull(), "layers_pattern": NSNull(), "layer_replication": NSNull(),
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}

private func isNull(_ v: Any) -> Bool { v is NSNull }
private func isFalse(_ v: Any) -> Bool { v is NSNull || (v as? Bool) == false }
private func isNullOrEmpty(_ v: Any) -> Bool {
    v is NSNull || (v as? [Any])?.isEmpty == true || (v as? [String: Any])?.isEmpty == true
}
