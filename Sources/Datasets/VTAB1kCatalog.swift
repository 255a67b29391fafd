import Foundation

/// The 19 VTAB-1k tasks as data (configs/datasets/vtab1k.json, embedded): folder names, class
/// counts, groups, split sizes and the per-task training defaults of the V-PETL protocol.
public struct VTAB1kCatalog: Codable, Sendable {
    public struct Task: Codable, Sendable, Equatable {
        public let name: String
        /// Folder names the task is found under (`cifar` and `cifar100` name the same task).
        public let folders: [String]
        public let classes: Int
        public let group: String
        public let testSize: Int
        /// Whether training uses flip + RandAugment (V-PETL's `train_aug`).
        public let trainAugmentation: Bool
        public let labelSmoothing: Double
        public let learningRate: Double
        public let weightDecay: Double
        /// Whether a class may legitimately be absent from the 1,000 training images.
        public let trainingMayMissClasses: Bool
    }

    public struct Hyperparameters: Codable, Sendable, Equatable {
        public let learningRate: Double
        public let weightDecay: Double
    }

    public let benchmark: String
    public let about: String
    public let splitSizes: [String: Int]
    public let groups: [String]
    public let datasets: [Task]
    /// Method name → task name → learning rate / weight decay that replace the defaults.
    public let methodOverrides: [String: [String: Hyperparameters]]

    /// The JSON text the binary carries (configs/datasets/vtab1k.json at build time).
    public static var embeddedJSON: String { EmbeddedCatalogs.vtab1k }

    /// The catalog shipped with the binary.
    public static let standard: VTAB1kCatalog = {
        do {
            return try JSONDecoder().decode(VTAB1kCatalog.self, from: Data(EmbeddedCatalogs.vtab1k.utf8))
        } catch {
            fatalError("the embedded VTAB-1k catalog does not decode: \(error)")   // caught by the catalog test
        }
    }()

    /// The task named `name` or stored under folder `name`.
    public func task(named name: String) -> Task? {
        datasets.first { $0.name == name || $0.folders.contains(name) }
    }

    /// Learning rate and weight decay for `method` on `task` (the method exceptions of
    /// docs/protocols.md, "Per-dataset learning rate and weight decay", first).
    public func hyperparameters(task: Task, method: String?) -> Hyperparameters {
        if let method, let override = methodOverrides[method]?[task.name] { return override }
        return Hyperparameters(learningRate: task.learningRate, weightDecay: task.weightDecay)
    }

    /// Tasks of `group`, in catalog (paper table) order.
    public func tasks(in group: String) -> [Task] { datasets.filter { $0.group == group } }
}
