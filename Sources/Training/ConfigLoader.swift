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

    public static let knownKeys = TrainingConfig.keys

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
            config = try Self.decode(merged)
        } catch {
            throw wrongValue(defaults: defaults) ?? ConfigError("the configuration does not decode: \(error)")
        }
        try config.validate()
        return config
    }

    private static func decode(_ object: [String: Any]) throws -> TrainingConfig {
        try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// The first value set by a layer that, on its own, makes the configuration undecodable —
    /// as an error naming the key, the value, its layer and what the key takes. (The decoder's
    /// own errors can name no key: a negative seed reads as "not valid JSON".)
    private func wrongValue(defaults: [String: Any]) -> ConfigError? {
        for key in values.keys.sorted() where !(values[key] is NSNull) {
            var alone = defaults
            alone[key] = values[key]
            guard (try? Self.decode(alone)) == nil else { continue }
            let value = values[key]!
            let shown = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            return ConfigError("\(key) = \(shown) (set by \(origins[key] ?? "default")): must be \(Self.expectation(key, defaults: defaults))")
        }
        return nil
    }

    /// What `key` takes, in words: the kinds of value it decodes from, found by trying one of
    /// each (the decoder's own error can name neither the key nor the type).
    static func expectation(_ key: String, defaults: [String: Any]) -> String {
        func accepts(_ probe: Any) -> Bool {
            var object = defaults
            object[key] = probe
            return (try? decode(object)) != nil
        }
        if accepts("text") { return "a string" }
        if accepts(true) { return "true or false" }
        if accepts(1.5) { return "a number" }
        if accepts(1) { return accepts(-1) ? "a whole number" : "a whole number ≥ 0" }
        if accepts([1]) { return "a list of whole numbers" }
        if accepts([String: Any]()) { return "a mapping of names to values" }
        return "a value of another kind"
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
