import Foundation

/// A benchmark grid: methods × datasets × seeds over one backbone, from a YAML suite file.
///
///     name: mini-vtab
///     model: efficientnet_lite0
///     weights: assets/efficientnet/efficientnet-lite0-57934424.pth
///     data_root: data/minivtab
///     protocol: honest
///     recipe: vpetl                                # or official (configs/methods/*.yaml)
///     methods: [linear, full, bitfit]
///     datasets: [vtab1k:fashion_mnist, vtab1k:textile]
///     seeds: [42]
///     settings: {img_size: 64, epochs: 3}          # every cell (training config keys)
///     method_settings: {full: {lr: 1.0e-3}}        # per method
///     search: {lr: [1.0e-3, 5.0e-3], weight_decay: [1.0e-4, 1.0e-2]}   # optional, see below
///
/// With `search`, the grid follows the honest protocol: every combination of the listed values
/// is first trained on train800 and scored on val200 at its final epoch (selection cells, first
/// seed); then, per method and dataset, the best combination is trained on train800val200 and
/// reported on test at the final epoch for every seed (final cells).
public struct BenchSuite: Equatable {
    public var name: String
    public var methods: [String]
    public var datasets: [String]
    public var seeds: [UInt64]
    /// Config values for every cell (model, weights, data_root, protocol, recipe and `settings`).
    public var settings: [String: JSONValue]
    public var methodSettings: [String: [String: JSONValue]]
    /// Hyper-parameter values to select from (config keys, `method_options.<name>` allowed).
    public var search: [String: [JSONValue]] = [:]

    /// One cell of the grid.
    public struct Cell: Equatable {
        public var method: String
        public var dataset: String
        public var seed: UInt64
        /// A selection cell's hyper-parameters (nil for a final or plain cell).
        public var combination: [String: JSONValue]?

        /// The folder of this cell under the bench output (stable across runs and machines).
        public var folderName: String {
            let base = "\(method)/\(dataset.replacingOccurrences(of: ":", with: "_"))"
            guard let combination else { return "\(base)/seed-\(seed)" }
            let tag = combination.keys.sorted().map { "\($0)=\(BenchSuite.text(combination[$0]!))" }.joined(separator: ",")
            return "select/\(base)/\(tag)"
        }
    }

    /// Every combination of the searched values, in a fixed order.
    public var combinations: [[String: JSONValue]] {
        search.keys.sorted().reduce([[:]]) { partial, key in
            partial.flatMap { c in search[key]!.map { c.merging([key: $0]) { _, n in n } } }
        }
    }

    /// The selection cells (empty without `search`).
    public var selectionCells: [Cell] {
        guard !search.isEmpty else { return [] }
        return methods.flatMap { m in datasets.flatMap { d in combinations.map { Cell(method: m, dataset: d, seed: seeds[0], combination: $0) } } }
    }

    /// The cells that report results.
    public var finalCells: [Cell] {
        methods.flatMap { m in datasets.flatMap { d in seeds.map { Cell(method: m, dataset: d, seed: $0) } } }
    }

    public var cells: [Cell] { selectionCells + finalCells }

    /// The config layer of a cell: suite settings, the method's settings, the cell's keys, and —
    /// with a search — the cell's combination (selection) or the `chosen` one (final).
    public func flags(for cell: Cell, chosen: [String: JSONValue]? = nil) -> [String: Any] {
        var flags = settings.mapValues(\.foundationValue)
        for (k, v) in methodSettings[cell.method] ?? [:] { flags[k] = v.foundationValue }
        flags["method"] = cell.method
        flags["dataset"] = cell.dataset
        flags["seed"] = Int(cell.seed)
        if !search.isEmpty {
            flags["protocol"] = cell.combination == nil ? "honest" : "honest-select"
            for (key, value) in cell.combination ?? chosen ?? [:] {
                if key.hasPrefix("method_options.") {
                    var options = flags["method_options"] as? [String: Any] ?? [:]
                    options[String(key.dropFirst("method_options.".count))] = value.foundationValue
                    flags["method_options"] = options
                } else {
                    flags[key] = value.foundationValue
                }
            }
        }
        return flags
    }

    /// A value as short text for folder names and messages.
    public static func text(_ value: JSONValue) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"", with: "")
    }

    public static func load(_ url: URL) throws -> BenchSuite {
        let map = try ConfigLoader.readMapping(url)
        func fail(_ reason: String) -> ConfigError { ConfigError("\(url.path): \(reason)") }
        let known: Set<String> = ["name", "methods", "datasets", "seeds", "settings", "method_settings", "search", "model", "weights", "data_root", "protocol", "recipe"]
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
        for key in ["model", "weights", "data_root", "protocol", "recipe"] { if let v = map[key] { settings[key] = try json(v, key) } }
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
        var search: [String: [JSONValue]] = [:]
        if let raw = map["search"] {
            guard let raw = raw as? [String: Any] else { throw fail("'search' must map config keys to lists of values") }
            for (key, values) in raw {
                guard let list = values as? [Any], !list.isEmpty else { throw fail("search.\(key) must be a non-empty list") }
                let base = key.hasPrefix("method_options.") ? "method_options" : key
                guard ConfigLoader.knownKeys.contains(base) else { throw fail("search.\(key) is not a training config key") }
                search[key] = try list.map { try json($0, "search.\(key)") }
            }
        }
        let suite = BenchSuite(name: map["name"] as? String ?? url.deletingPathExtension().lastPathComponent, methods: methods,
                               datasets: datasets, seeds: seeds, settings: settings, methodSettings: methodSettings, search: search)
        // Every cell's configuration must resolve before anything runs (typos fail here).
        for cell in suite.cells {
            var loader = ConfigLoader()
            do { try loader.apply(suite.flags(for: cell), from: "\(url.path) (\(cell.method), \(cell.dataset))") } catch { throw error }
        }
        return suite
    }
}
