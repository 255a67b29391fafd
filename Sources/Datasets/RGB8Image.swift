/// An 8-bit RGB raster, row-major and interleaved (R, G, B per pixel): what every decoder
/// produces and every transform consumes, so a pipeline never meets another pixel format.
/// Grey, palette, CMYK and alpha inputs are converted once, at decode time, the way PIL's
/// `convert("RGB")` does.
public struct RGB8Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `width · height · 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "RGB8Image: size \(width)×\(height) must be positive")
        precondition(pixels.count == width * height * 3,
                     "RGB8Image: \(pixels.count) bytes for \(width)×\(height) (need \(width * height * 3))")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = fill.0
            pixels[3 * i + 1] = fill.1
            pixels[3 * i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Memory held by the pixels (what an in-memory cache is charged for this image).
    public var byteCount: Int { pixels.count }
}
