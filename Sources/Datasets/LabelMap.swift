import Foundation

/// A segmentation label map: one class index per pixel, row-major, as the mask PNGs of
/// segmentation datasets store them (palette indices or grey levels — never colours).
public struct LabelMap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var labels: [UInt8]

    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(labels.count == width * height, "LabelMap: \(labels.count) labels for \(width)×\(height)")
        (self.width, self.height, self.labels) = (width, height, labels)
    }

    /// Reads a mask PNG (palette or 8-bit grey; see `PNGLabelDecoder`).
    public init(contentsOf url: URL) throws {
        self = try PNGLabelDecoder.decode(try ImageDecoder.readFile(url), source: url.path)
    }

    /// mmseg's `reduce_zero_label` (ADE20K): 0 (“other”) becomes the ignore index 255 and every
    /// other label moves down by one, so the 150 classes are 0…149.
    public func reducingZeroLabel() -> LabelMap {
        LabelMap(width: width, height: height, labels: labels.map { $0 == 0 ? 255 : ($0 == 255 ? 255 : $0 - 1) })
    }
}
