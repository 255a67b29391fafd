import Foundation
import Yams

/// Resolves a `TrainingConfig` from layers, later layers winning: built-in defaults → the
/// dataset's protocol defaults → the method's recipe (configs/methods/*.yaml: `vpetl` or `official`) →
/// the user's `--config` file → `--set key=value` overrides. Each layer is checked against the
/// known keys, so a typo is an error naming the key, the file, and the closest valid key.
public struct ConfigLoader {
    public private(set) var values: [String: Any] = [:]
    /// Which layer set each key (printed with the resolved config).
    public private(set) var origins: [String: String] = [:]

    public static let knownKeys: [String] = {
        let encoder = JSONEncoder()
        let object = (try? JSONSerialization.jsonObject(with: encoder.encode(TrainingConfig()))) as? [String: Any] ?? [:]
        // Optional keys are absent from the defaults' encoding: add them explicitly.
        return Array(Set(object.keys).union(["weights", "img_size", "data_root", "threads"])).sorted()
    }()

    public init() {}

    /// Adds a layer of values from `source` (a file path or a description).
    public mutating func apply(_ layer: [String: Any], from source: String) throws {
        for (key, value) in layer {
            guard Self.knownKeys.contains(key) else {
                let hint = Self.closest(to: key).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError("\(source): unknown key '\(key)'\(hint); valid keys: \(Self.knownKeys.joined(separator: ", "))")
            }
            if key == "method_options", let new = value as? [String: Any], let old = values[key] as? [String: Any] {
                values[key] = old.merging(new) { _, n in n }
            } else {
                values[key] = value
            }
            origins[key] = source
        }
    }

    /// Adds a YAML or JSON file (a mapping at the top level).
    public mutating func apply(file url: URL) throws {
        try apply(try Self.readMapping(url), from: url.path)
    }

    /// Adds `key=value` overrides; values are parsed as YAML scalars (numbers, booleans, lists).
    public mutating func apply(overrides: [String]) throws {
        for item in overrides {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ConfigError("--set \(item): expected key=value")
            }
            let key = String(item[..<eq]), text = String(item[item.index(after: eq)...])
            let value = ((try? Yams.load(yaml: text)).flatMap { $0 }).map(Self.plain) ?? text
            if key.hasPrefix("method_options.") {
                try apply(["method_options": [String(key.dropFirst("method_options.".count)): value]], from: "--set")
            } else {
                try apply([key: value], from: "--set")
            }
        }
    }

    /// The resolved, validated configuration.
    public func resolve() throws -> TrainingConfig {
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfig())) as! [String: Any]
        let merged = defaults.merging(values.filter { !($0.value is NSNull) }) { _, n in n }
        let config: TrainingConfig
        do {
            config = try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError("'\(key)' (set by \(origins[key] ?? "default")) has the wrong type: \(context.debugDescription)")
        }
        try config.validate()
        return config
    }

    static func readMapping(_ url: URL) throws -> [String: Any] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw ConfigError("\(url.path): cannot read") }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch { throw ConfigError("\(url.path): not valid YAML/JSON: \(error)") }
        guard let mapping = plain(parsed ?? NSNull()) as? [String: Any] else {
            throw ConfigError("\(url.path): the top level must be a mapping of keys to values")
        }
        return mapping
    }

    /// YAML mappings come back keyed by AnyHashable: turn them into JSON-compatible values.
    static func plain(_ value: Any) -> Any {
        switch value {
        case let map as [AnyHashable: Any]:
            return Dictionary(uniqueKeysWithValues: map.map { ("\($0.key)", plain($0.value)) })
        case let list as [Any]:
            return list.map(plain)
        default:
            return value
        }
    }

    /// The known key with the smallest edit distance, if it is close.
    static func closest(to key: String) -> String? {
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    let old = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = old
                }
            }
            return row[b.count]
        }
        let best = knownKeys.map { ($0, distance(key, $0)) }.min { $0.1 < $1.1 }
        return best.flatMap { $0.1 <= max(2, key.count / 3) ? $0.0 : nil }
    }
}
