/// An 8-bit RGB raster, row-major, the canvas plots and overlays draw on before PNG encoding.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// width · height · 3 bytes, RGB interleaved.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        precondition(width > 0 && height > 0, "RGBImage: size \(width)×\(height) must be positive")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.0
            pixels[3 * i + 1] = background.1
            pixels[3 * i + 2] = background.2
        }
    }

    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get { let i = 3 * (y * width + x); return (pixels[i], pixels[i + 1], pixels[i + 2]) }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }   // drawing clips at the edges
            let i = 3 * (y * width + x)
            (pixels[i], pixels[i + 1], pixels[i + 2]) = newValue
        }
    }
}
