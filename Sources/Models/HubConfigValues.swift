import Foundation

/// Typed reads of the values in a timm hub `config.json` (`model_args`, `num_classes`, …), each
/// failure an error naming the file, the key and the value. Shared by every backbone's loader.
public struct HubConfigValues {
    public let file: String

    public init(file: String) { self.file = file }

    public func error(_ reason: String) -> ModelConfigError { ModelConfigError("\(file): \(reason)") }

    /// The config's `model_args`, after checking that `supported` has every key (`family` names
    /// the backbone in the error).
    func modelArguments(_ json: [String: Any], supported: Set<String>, family: String) throws -> [String: Any] {
        let args = json["model_args"] as? [String: Any] ?? [:]
        for key in args.keys.sorted() where !supported.contains(key) {
            throw error("model_args '\(key)' is not supported for \(family) (supported: \(supported.sorted().joined(separator: ", ")))")
        }
        return args
    }

    /// The side of `pretrained_cfg.input_size` ([channels, side, side]), the image size a hub
    /// folder's weights were trained at; nil when the config has none.
    func pretrainedInputSize(_ json: [String: Any]) -> Int? {
        guard let cfg = json["pretrained_cfg"] as? [String: Any], let size = cfg["input_size"] as? [NSNumber], size.count == 3 else { return nil }
        return size[2].intValue
    }

    /// An integer, or a square [n, n] pair (timm writes sizes either way).
    public func int(_ key: String, _ value: Any) throws -> Int {
        if let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded() { return n.intValue }
        if let pair = value as? [NSNumber], pair.count == 2, pair[0] == pair[1] { return pair[0].intValue }
        throw error("'\(key)' = \(value) is not an integer (or a square size)")
    }

    /// A non-empty list of integers (each may be a square pair).
    public func ints(_ key: String, _ value: Any) throws -> [Int] {
        guard let list = value as? [Any], !list.isEmpty else { throw error("'\(key)' = \(value) is not a list of integers") }
        return try list.map { try int(key, $0) }
    }

    public func float(_ key: String, _ value: Any) throws -> Float {
        guard let n = value as? NSNumber else { throw error("'\(key)' = \(value) is not a number") }
        return n.floatValue
    }

    public func bool(_ key: String, _ value: Any) throws -> Bool {
        guard let n = value as? NSNumber else { throw error("'\(key)' = \(value) is not a boolean") }
        return n.boolValue
    }

    public func string(_ key: String, _ value: Any) throws -> String {
        guard let s = value as? String else { throw error("'\(key)' = \(value) is not a string") }
        return s
    }
}
