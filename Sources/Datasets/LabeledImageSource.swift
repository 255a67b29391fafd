/// Labelled images addressed by index: what the loader, `inspect`, `verify` and the importer
/// read. File-backed lists and in-memory IDX arrays both conform.
public protocol LabeledImageSource: Sendable {
    var count: Int { get }
    var classCount: Int { get }
    /// Class names in label order, when the source knows them.
    var classNames: [String]? { get }
    func label(at index: Int) -> Int
    /// Decodes sample `index`; a `DatasetError` names its file (and list line).
    func loadImage(at index: Int) throws -> RGB8Image
    /// A stable name for sample `index` (its relative path, or `file#index`): the same on
    /// every run and machine, so it can key caches of images or frozen features.
    func identity(at index: Int) -> String
}
