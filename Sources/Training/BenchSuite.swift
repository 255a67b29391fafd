import Foundation

/// A benchmark grid: methods × datasets × seeds over one backbone, from a YAML suite file.
///
///     name: mini-vtab
///     model: efficientnet_lite0
///     weights: assets/efficientnet/efficientnet-lite0-57934424.pth
///     data_root: data/minivtab
///     protocol: honest
///     methods: [linear, full, bitfit]
///     datasets: [vtab1k:fashion_mnist, vtab1k:textile]
///     seeds: [42]
///     settings: {img_size: 64, epochs: 3}          # every cell (training config keys)
///     method_settings: {full: {lr: 1.0e-3}}        # per method
public struct BenchSuite: Equatable {
    public var name: String
    public var methods: [String]
    public var datasets: [String]
    public var seeds: [UInt64]
    /// Config values for every cell (model, weights, data_root, protocol and `settings`).
    public var settings: [String: JSONValue]
    public var methodSettings: [String: [String: JSONValue]]

    /// One cell of the grid.
    public struct Cell: Equatable {
        public var method: String
        public var dataset: String
        public var seed: UInt64
        /// The folder of this cell under the bench output (stable across runs and machines).
        public var folderName: String { "\(method)/\(dataset.replacingOccurrences(of: ":", with: "_"))/seed-\(seed)" }
    }

    public var cells: [Cell] {
        methods.flatMap { m in datasets.flatMap { d in seeds.map { Cell(method: m, dataset: d, seed: $0) } } }
    }

    /// The config layer of a cell: suite settings, the method's settings, then the cell's keys.
    public func flags(for cell: Cell) -> [String: Any] {
        var flags = settings.mapValues(\.foundationValue)
        for (k, v) in methodSettings[cell.method] ?? [:] { flags[k] = v.foundationValue }
        flags["method"] = cell.method
        flags["dataset"] = cell.dataset
        flags["seed"] = Int(cell.seed)
        return flags
    }

    public static func load(_ url: URL) throws -> BenchSuite {
        let map = try ConfigLoader.readMapping(url)
        func fail(_ reason: String) -> ConfigError { ConfigError("\(url.path): \(reason)") }
        let known: Set<String> = ["name", "methods", "datasets", "seeds", "settings", "method_settings", "model", "weights", "data_root", "protocol"]
        for key in map.keys where !known.contains(key) { throw fail("unknown key '\(key)'; valid keys: \(known.sorted().joined(separator: ", "))") }
        guard let methods = map["methods"] as? [String], !methods.isEmpty else { throw fail("'methods' must be a non-empty list of method names") }
        guard let datasets = map["datasets"] as? [String], !datasets.isEmpty else { throw fail("'datasets' must be a non-empty list like [vtab1k:cifar100]") }
        for d in datasets { _ = try DatasetReference.parse(d) }
        let seeds = try (map["seeds"] as? [Any] ?? [42]).map { value -> UInt64 in
            guard let n = value as? Int, n >= 0 else { throw fail("'seeds' must be non-negative integers, got \(value)") }
            return UInt64(n)
        }
        func json(_ value: Any, _ key: String) throws -> JSONValue {
            do { return try JSONDecoder().decode(JSONValue.self, from: JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed)) } catch {
                throw fail("'\(key)' holds a value that is not plain data")
            }
        }
        var settings: [String: JSONValue] = [:]
        for key in ["model", "weights", "data_root", "protocol"] { if let v = map[key] { settings[key] = try json(v, key) } }
        if let extra = map["settings"] {
            guard let extra = extra as? [String: Any] else { throw fail("'settings' must be a mapping of config keys") }
            for (k, v) in extra { settings[k] = try json(v, "settings.\(k)") }
        }
        var methodSettings: [String: [String: JSONValue]] = [:]
        if let per = map["method_settings"] {
            guard let per = per as? [String: Any] else { throw fail("'method_settings' must map method names to config keys") }
            for (method, values) in per {
                guard methods.contains(method) else { throw fail("method_settings names '\(method)', which is not in 'methods'") }
                guard let values = values as? [String: Any] else { throw fail("method_settings.\(method) must be a mapping") }
                methodSettings[method] = try values.mapValues { try json($0, "method_settings.\(method)") }
            }
        }
        let suite = BenchSuite(name: map["name"] as? String ?? url.deletingPathExtension().lastPathComponent, methods: methods,
                               datasets: datasets, seeds: seeds, settings: settings, methodSettings: methodSettings)
        // Every cell's configuration must resolve before anything runs (typos fail here).
        for cell in suite.cells {
            var loader = ConfigLoader()
            do { try loader.apply(suite.flags(for: cell), from: "\(url.path) (\(cell.method), \(cell.dataset))") } catch { throw error }
        }
        return suite
    }
}
