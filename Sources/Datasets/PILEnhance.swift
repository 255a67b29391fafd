/// PIL's `ImageEnhance` (Color, Contrast, Brightness, Sharpness): each blends the image with a
/// "degenerate" version of itself using `Image.blend`'s float arithmetic and truncation.
enum PILEnhance {
    /// `Image.blend(a, b, alpha)` (Blend.c): `a + alpha·(b − a)` in single precision,
    /// truncated; clipped to [0, 255] when extrapolating (alpha outside [0, 1]).
    static func blend(_ a: RGB8Image, _ b: RGB8Image, alpha: Double) -> RGB8Image {
        let alpha = Float(alpha)   // ImagingBlend takes a C float
        guard alpha.isFinite else { return b }   // PIL's result is undefined there; keep the image
        if alpha == 0 { return a }
        if alpha == 1 { return b }
        var output = [UInt8](repeating: 0, count: a.pixels.count)
        let interpolating = alpha >= 0 && alpha <= 1
        a.pixels.withUnsafeBufferPointer { p in
            b.pixels.withUnsafeBufferPointer { q in
                output.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        let value = Float(Int(p[i])) + alpha * Float(Int(q[i]) - Int(p[i]))
                        if interpolating {
                            out[i] = UInt8(value)
                        } else {
                            out[i] = value <= 0 || value.isNaN ? 0 : value >= 255 ? 255 : UInt8(value)
                        }
                    }
                }
            }
        }
        return RGB8Image(width: a.width, height: a.height, pixels: output)
    }

    /// PIL's RGB → L: ITU-R 601-2 luma in 16-bit fixed point, rounded (Convert.c `L24`).
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let weighted: Int = Int(r) * 19595 + Int(g) * 38470 + Int(b) * 7471
        return UInt8((weighted + 0x8000) >> 16)
    }

    static func grayscale(_ image: RGB8Image) -> RGB8Image {
        var output = image.pixels
        for i in stride(from: 0, to: output.count, by: 3) {
            let l = luma(output[i], output[i + 1], output[i + 2])
            output[i] = l; output[i + 1] = l; output[i + 2] = l
        }
        return RGB8Image(width: image.width, height: image.height, pixels: output)
    }

    static func color(_ image: RGB8Image, factor: Double) -> RGB8Image {
        blend(grayscale(image), image, alpha: factor)
    }

    /// Blends towards a flat grey at the mean luma, `int(mean + 0.5)`.
    static func contrast(_ image: RGB8Image, factor: Double) -> RGB8Image {
        var sum = 0
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            sum += Int(luma(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]))
        }
        let mean = UInt8(clamping: Int(Double(sum) / Double(image.width * image.height) + 0.5))
        return blend(RGB8Image(width: image.width, height: image.height, fill: (mean, mean, mean)), image, alpha: factor)
    }

    static func brightness(_ image: RGB8Image, factor: Double) -> RGB8Image {
        blend(RGB8Image(width: image.width, height: image.height, fill: (0, 0, 0)), image, alpha: factor)
    }

    static func sharpness(_ image: RGB8Image, factor: Double) -> RGB8Image {
        blend(smooth(image), image, alpha: factor)
    }

    /// `ImageFilter.SMOOTH` (kernel 1 1 1 / 1 5 1 / 1 1 1, divisor 13) as Filter.c's 3×3 path:
    /// float taps `k / 13`, a float sum started at 0.5, truncation; the one-pixel border is
    /// copied unchanged, and images smaller than 3×3 come back as they are.
    static func smooth(_ image: RGB8Image) -> RGB8Image {
        let w = image.width, h = image.height
        guard w >= 3, h >= 3 else { return image }
        let side = Float(1) / Float(13), centre = Float(5) / Float(13)
        var output = image.pixels
        image.pixels.withUnsafeBufferPointer { p in
            output.withUnsafeMutableBufferPointer { out in
                @inline(__always) func row(_ base: Int, _ middle: Float) -> Float {
                    Float(p[base - 3]) * side + Float(p[base]) * middle + Float(p[base + 3]) * side
                }
                for y in 1..<(h - 1) {
                    for x in 1..<(w - 1) {
                        for c in 0..<3 {
                            let i = (y * w + x) * 3 + c
                            var sum: Float = 0.5
                            sum += row(i + w * 3, side)
                            sum += row(i, centre)
                            sum += row(i - w * 3, side)
                            out[i] = sum <= 0 ? 0 : sum >= 255 ? 255 : UInt8(sum)
                        }
                    }
                }
            }
        }
        return RGB8Image(width: w, height: h, pixels: output)
    }
}
