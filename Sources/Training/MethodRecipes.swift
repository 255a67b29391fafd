import Foundation

/// A method's training recipes, as `configs/methods/<method>.yaml` holds them:
///
///     method: ssf
///     vpetl:                      # the settings of the V-PETL paper's tables …
///       fallback: official        # … or, where the V-PETL code never ran the method, a pointer
///       reason: "…"               #     to another recipe and why
///     official:                   # the method's own released recipe
///       defaults: {…}             # every dataset
///       vtab1k: {cifar100: {…}, …}
///       fgvc: {cub: {…}, …}
///
/// Resolving a recipe for a dataset gives the config layers in order (the recipe's `defaults`,
/// then the dataset's entry), each with the file and place it came from, and the recipe that
/// actually supplied them.
public struct MethodRecipes {
    public let file: URL
    let recipes: [String: [String: Any]]

    public init(file: URL) throws {
        self.file = file
        let all = try ConfigLoader.readMapping(file)
        var recipes: [String: [String: Any]] = [:]
        for name in TrainingConfig.recipes {
            guard let recipe = all[name] as? [String: Any] else {
                throw ConfigError("\(file.path): no '\(name)' recipe (expected top-level keys method, \(TrainingConfig.recipes.joined(separator: ", ")))")
            }
            recipes[name] = recipe
        }
        self.recipes = recipes
    }

    /// What a recipe contributes for `suite:name`.
    public struct Resolution {
        /// The recipe whose values are used (differs from the one asked for after a fallback).
        public var recipe: String
        /// "vpetl falls back to official: <reason>", when it did.
        public var fallbackNote: String?
        /// Config layers, earliest first, each with its origin.
        public var layers: [(values: [String: Any], source: String)]
    }

    public func resolve(recipe asked: String, suite: String, name: String) throws -> Resolution {
        var recipe = asked, note: String?
        guard var body = recipes[recipe] else { throw ConfigError("recipe '\(asked)': must be \(TrainingConfig.recipes.joined(separator: " or "))") }
        if let target = body["fallback"] as? String {
            guard let targetBody = recipes[target], targetBody["fallback"] == nil else {
                throw ConfigError("\(file.path): recipe '\(asked)' falls back to '\(target)', which is not a recipe with values")
            }
            note = "\(asked) falls back to \(target): " + (body["reason"] as? String ?? "no reason given")
            (recipe, body) = (target, targetBody)
        }
        var layers: [(values: [String: Any], source: String)] = []
        if let defaults = body["defaults"] as? [String: Any] { layers.append((defaults, "\(file.path) (\(recipe) defaults)")) }
        if let entries = body[suite] as? [String: Any], let entry = entries[name] as? [String: Any] {
            layers.append((entry, "\(file.path) (\(recipe) \(suite).\(name))"))
        }
        return Resolution(recipe: recipe, fallbackNote: note, layers: layers)
    }
}
