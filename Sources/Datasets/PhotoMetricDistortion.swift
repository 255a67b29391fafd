import Tensor

/// mmseg's `PhotoMetricDistortion` (its ADE20K/VOC training recipes), on uint8 images:
///
/// 1. brightness, with probability ½: every channel + β, β ~ U(−delta, delta);
/// 2. mode ~ {0, 1}; mode 1: contrast here, with probability ½: every channel × α, α ~ U(range);
/// 3. saturation, with probability ½: to OpenCV's 8-bit HSV, S × α, α ~ U(range), back;
/// 4. hue, with probability ½: to HSV, H ← (H + d) mod 180, d an integer in [−delta, delta), back;
/// 5. mode 0: contrast here.
///
/// Every scaling is mmseg's `convert`: float32 `x · α + β`, clipped to [0, 255] and *truncated*
/// to uint8 (numpy's `astype`), so each step rounds down before the next one sees the pixel.
/// The hue shift's upper bound is exclusive because mmseg draws it with numpy's
/// `randint(-delta, delta)`. HSV is OpenCV's 8-bit one (H in [0, 180), S and V in [0, 255]),
/// which is symmetric in how mmseg's BGR and our RGB order the channels.
public struct PhotoMetricDistortion: Codable, Equatable, Sendable {
    public var brightnessDelta: Float = 32
    public var contrastRange: [Float] = [0.5, 1.5]
    public var saturationRange: [Float] = [0.5, 1.5]
    public var hueDelta = 18

    public init() {}

    public func apply(to image: RGB8Image, rng: inout SeededRandom) -> RGB8Image {
        func coin() -> Bool { rng.nextInt(2) == 1 }
        func uniform(_ low: Float, _ high: Float) -> Float { low + rng.nextUniform() * (high - low) }
        var out = image
        if coin() { out = Self.convert(out, beta: uniform(-brightnessDelta, brightnessDelta)) }
        let contrastFirst = rng.nextInt(2) == 1
        func contrast() { if coin() { out = Self.convert(out, alpha: uniform(contrastRange[0], contrastRange[1])) } }
        if contrastFirst { contrast() }
        if coin() { out = Self.scaleSaturation(out, by: uniform(saturationRange[0], saturationRange[1])) }
        if coin() { out = Self.shiftHue(out, by: rng.nextInt(2 * hueDelta) - hueDelta) }
        if !contrastFirst { contrast() }
        return out
    }

    /// mmseg's `convert`: float32 x · α + β, clipped, truncated.
    public static func convert(_ value: UInt8, alpha: Float = 1, beta: Float = 0) -> UInt8 {
        UInt8(Swift.min(Swift.max(Float(value) * alpha + beta, 0), 255))
    }

    public static func convert(_ image: RGB8Image, alpha: Float = 1, beta: Float = 0) -> RGB8Image {
        RGB8Image(width: image.width, height: image.height, pixels: image.pixels.map { convert($0, alpha: alpha, beta: beta) })
    }

    public static func scaleSaturation(_ image: RGB8Image, by alpha: Float) -> RGB8Image {
        mapHSV(image) { hsv in (hsv.h, convert(hsv.s, alpha: alpha), hsv.v) }
    }

    public static func shiftHue(_ image: RGB8Image, by delta: Int) -> RGB8Image {
        mapHSV(image) { hsv in (UInt8(((Int(hsv.h) + delta) % 180 + 180) % 180), hsv.s, hsv.v) }
    }

    static func mapHSV(_ image: RGB8Image, _ change: ((h: UInt8, s: UInt8, v: UInt8)) -> (UInt8, UInt8, UInt8)) -> RGB8Image {
        var pixels = image.pixels
        for i in stride(from: 0, to: pixels.count, by: 3) {
            let (h, s, v) = change(OpenCVHSV.fromRGB(pixels[i], pixels[i + 1], pixels[i + 2]))
            (pixels[i], pixels[i + 1], pixels[i + 2]) = OpenCVHSV.toRGB(h, s, v)
        }
        return RGB8Image(width: image.width, height: image.height, pixels: pixels)
    }
}
