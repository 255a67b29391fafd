import Tensor

/// What went wrong when loading a state dict into a module, by key.
public struct StateDictMismatch: Error, CustomStringConvertible, Equatable {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var wrongShape: [(key: String, expected: [Int], found: [Int])] = []

    public init() {}

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && wrongShape.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
        for w in wrongShape { parts.append("'\(w.key)': checkpoint shape \(w.found), model expects \(w.expected)") }
        return "state dict does not match the model: " + parts.joined(separator: "; ")
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.missing == b.missing && a.unexpected == b.unexpected && a.wrongShape.map(\.key) == b.wrongShape.map(\.key)
    }
}

extension Module {
    /// Copies checkpoint values into this module's parameters by name. Shape mismatches are
    /// always errors; with `strict`, so are missing and unexpected keys. Parameters for which
    /// `keepOwn` says true are neither loaded nor reported missing (e.g. a new head).
    /// Returns what was tolerated (non-strict) so callers can report it.
    @discardableResult
    public func load(_ state: [String: Tensor], strict: Bool = true, keepOwn: (String) -> Bool = { _ in false }) throws -> StateDictMismatch {
        var report = StateDictMismatch()
        let own = namedParameters.filter { !keepOwn($0.name) }
        let ownNames = Set(namedParameters.map(\.name))
        for (name, tensor) in own {
            guard let value = state[name] else { report.missing.append(name); continue }
            guard value.shape == tensor.shape else {
                report.wrongShape.append((name, tensor.shape, value.shape))
                continue
            }
            tensor.data.update(from: value.data, count: tensor.count)
        }
        report.unexpected = state.keys.filter { !ownNames.contains($0) }.sorted()
        if !report.wrongShape.isEmpty || (strict && !report.isEmpty) { throw report }
        return report
    }

    /// The parameters as a state dict (shared tensors, not copies).
    public var stateDict: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.tensor) })
    }
}
