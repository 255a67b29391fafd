import Foundation

/// The five FGVC datasets as data (configs/datasets/fgvc.json, embedded): class counts, image
/// folders and training defaults.
public struct FGVCCatalog: Codable, Sendable {
    public struct Task: Codable, Sendable, Equatable {
        public let name: String
        public let classes: Int
        /// Where images live, relative to `<root>/<name>` (empty: the dataset folder itself).
        public let imageFolder: String
        public let labelSmoothing: Double
        public let learningRate: Double
        public let weightDecay: Double
        /// Images per split (train / val / test) in VPT's splits, when known.
        public let splitSizes: [String: Int]?
    }

    public let benchmark: String
    public let about: String
    public let datasets: [Task]

    /// The JSON text the binary carries (configs/datasets/fgvc.json at build time).
    public static var embeddedJSON: String { EmbeddedCatalogs.fgvc }

    public static let standard: FGVCCatalog = {
        do {
            return try JSONDecoder().decode(FGVCCatalog.self, from: Data(EmbeddedCatalogs.fgvc.utf8))
        } catch {
            fatalError("the embedded FGVC catalog does not decode: \(error)")   // caught by the catalog test
        }
    }()

    public func task(named name: String) -> Task? { datasets.first { $0.name == name } }
}
