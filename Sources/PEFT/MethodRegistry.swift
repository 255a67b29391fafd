import Foundation
import Models

/// Every method by name, and options → method values.
public enum MethodRegistry {
    public static let all: [any PEFTMethod.Type] = [
        FullFineTuning.self, LinearProbing.self, PartialFineTuning.self, BitFit.self, LayerNormTuning.self,
        Adapter.self, AdaptFormer.self, LoRA.self, DoRA.self, VPTShallow.self, VPTDeep.self, PrefixTuning.self,
        SSF.self, FacTTT.self, FacTTK.self, RepAdapter.self, Convpass.self, VisualPrompt.self, DiffFit.self, VeRA.self, Hydra.self, PATT.self, BAPAT.self, SNF.self, LoRand.self, UTuning.self, Mona.self, DTL.self,
        KAdaptation.self, NOAH.self, LST.self, LAST.self, SCT.self, GPS.self, HST.self, E3VA.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    /// Other names a method answers to (the registry name is what adapter files record).
    /// `norm_tune`: on a CNN LN-tune tunes BatchNorms, so "norm tuning" is the general name.
    public static let aliases: [String: String] = ["norm_tune": LayerNormTuning.name]

    public static func type(named name: String) throws -> any PEFTMethod.Type {
        let name = aliases[name] ?? name
        guard let type = all.first(where: { $0.name == name }) else {
            throw MethodOptionError("unknown method '\(name)'; known methods: \(names.joined(separator: ", "))")
        }
        return type
    }

    /// A method from its name and options (JSON-like values, snake_case keys). Options not given
    /// keep the method's defaults; an unknown option or a value of the wrong type is an error
    /// naming it and listing the valid options.
    public static func method(named name: String, options: [String: Any] = [:]) throws -> any PEFTMethod {
        try decode(type(named: name), options: options)
    }

    private static func decode<M: PEFTMethod>(_ type: M.Type, options: [String: Any]) throws -> any PEFTMethod {
        let defaults = try self.options(of: M())
        for key in options.keys where defaults[key] == nil {
            let valid = defaults.keys.sorted()
            throw MethodOptionError("\(M.name): unknown option '\(key)'" + (valid.isEmpty ? " (it takes none)" : "; valid options: \(valid.joined(separator: ", "))"))
        }
        let merged = defaults.merging(options) { _, new in new }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: JSONSerialization.data(withJSONObject: merged))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map { $0.stringValue }.joined(separator: ".")
            throw MethodOptionError("\(M.name): option '\(snakeCase(key))' has the wrong type or value (\(context.debugDescription))")
        }
    }

    /// A method's options as JSON-like values with snake_case keys (for adapter.json, listings).
    public static func options(of method: any PEFTMethod) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try JSONSerialization.jsonObject(with: encoder.encode(method)) as? [String: Any] ?? [:]
    }

    private static func snakeCase(_ s: String) -> String {
        s.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }
}
