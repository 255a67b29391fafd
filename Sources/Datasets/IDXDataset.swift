import Foundation

/// Images and labels from a pair of IDX files (e.g. Fashion-MNIST's `train-images-idx3-ubyte.gz`
/// and `train-labels-idx1-ubyte.gz`), held in memory. Images are [N, H, W] (grey, replicated
/// to RGB as PIL's `convert("RGB")`) or [N, H, W, 3].
public struct IDXDataset: LabeledImageSource {
    public let images: IDXFile
    public let labels: [Int]
    public let classCount: Int
    public let classNames: [String]? = nil
    private let name: String

    public init(images imagesURL: URL, labels labelsURL: URL) throws {
        let images = try IDXFile(contentsOf: imagesURL)
        let labelFile = try IDXFile(contentsOf: labelsURL)
        let d = images.dimensions
        guard d.count == 3 || (d.count == 4 && d[3] == 3), d.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw DatasetError(file: imagesURL.path, "IDX images must be [N, H, W] or [N, H, W, 3], got \(d)")
        }
        guard labelFile.dimensions.count == 1 else {
            throw DatasetError(file: labelsURL.path, "IDX labels must be one-dimensional, got \(labelFile.dimensions)")
        }
        guard labelFile.dimensions[0] == d[0] else {
            throw DatasetError(file: labelsURL.path, "\(labelFile.dimensions[0]) labels for \(d[0]) images in \(imagesURL.lastPathComponent)")
        }
        guard d[0] > 0 else { throw DatasetError(file: imagesURL.path, "IDX file holds no images") }
        self.images = images
        self.labels = labelFile.bytes.map(Int.init)
        self.classCount = (labels.max() ?? 0) + 1
        self.name = imagesURL.lastPathComponent
    }

    public var count: Int { labels.count }
    public var imageSize: (width: Int, height: Int) { (images.dimensions[2], images.dimensions[1]) }
    public func label(at index: Int) -> Int { labels[index] }
    public func identity(at index: Int) -> String { "\(name)#\(index)" }

    /// The raw grey pixels of image `index` ([H, W]); nil for RGB files.
    public func grayPixels(at index: Int) -> ArraySlice<UInt8>? {
        guard images.dimensions.count == 3 else { return nil }
        let size = images.dimensions[1] * images.dimensions[2]
        return images.bytes[(index * size)..<((index + 1) * size)]
    }

    public func loadImage(at index: Int) throws -> RGB8Image {
        let (w, h) = imageSize
        if let gray = grayPixels(at: index) {
            return RGB8Image(width: w, height: h, pixels: gray.flatMap { [$0, $0, $0] })
        }
        let size = w * h * 3
        return RGB8Image(width: w, height: h, pixels: Array(images.bytes[(index * size)..<((index + 1) * size)]))
    }
}
