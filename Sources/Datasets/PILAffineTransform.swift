import Foundation

/// PIL's `Image.transform(size, AFFINE, matrix, resample, fillcolor=…)` and `Image.rotate` for
/// RGB images (Geometry.c's generic transform): each output pixel centre is mapped through the
/// inverse matrix and sampled with PIL's own bilinear or bicubic (a = −1) filter; samples whose
/// centre falls outside the input keep the fill colour.
enum PILAffineTransform {
    /// Output → input map `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`, in PIL's order.
    typealias Matrix = (a: Double, b: Double, c: Double, d: Double, e: Double, f: Double)

    static func transform(_ image: RGB8Image, matrix m: Matrix, interpolation: Interpolation,
                          fill: (UInt8, UInt8, UInt8)) -> RGB8Image {
        var output = RGB8Image(width: image.width, height: image.height, fill: fill)
        let w = image.width, h = image.height
        image.pixels.withUnsafeBufferPointer { input in
            output.pixels.withUnsafeMutableBufferPointer { out in
                for y in 0..<h {
                    let yc = Double(y) + 0.5
                    for x in 0..<w {
                        let xc = Double(x) + 0.5
                        let xin = m.a * xc + m.b * yc + m.c
                        let yin = m.d * xc + m.e * yc + m.f
                        guard xin >= 0, xin < Double(w), yin >= 0, yin < Double(h) else { continue }
                        let target = (y * w + x) * 3
                        switch interpolation {
                        case .bilinear: bilinear(input, w, h, xin - 0.5, yin - 0.5, out, target)
                        case .bicubic: bicubic(input, w, h, xin - 0.5, yin - 0.5, out, target)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Geometry.c's FLOOR: C truncation for non-negative values, `floor` below zero.
    @inline(__always) private static func floorInt(_ v: Double) -> Int { v < 0 ? Int(v.rounded(.down)) : Int(v) }

    private static func bilinear(_ p: UnsafeBufferPointer<UInt8>, _ w: Int, _ h: Int, _ xin: Double, _ yin: Double,
                                 _ out: UnsafeMutableBufferPointer<UInt8>, _ target: Int) {
        let x = floorInt(xin), y = floorInt(yin)
        let dx = xin - Double(x), dy = yin - Double(y)
        let x0 = Swift.min(Swift.max(x, 0), w - 1) * 3, x1 = Swift.min(Swift.max(x + 1, 0), w - 1) * 3
        let row0 = Swift.min(Swift.max(y, 0), h - 1) * w * 3
        let hasRow1 = y + 1 >= 0 && y + 1 < h
        for c in 0..<3 {
            let a = Int(p[row0 + x0 + c]), b = Int(p[row0 + x1 + c])
            var v1 = Double(a) + Double(b - a) * dx
            var v2 = v1
            if hasRow1 {
                let row1 = (y + 1) * w * 3
                let a1 = Int(p[row1 + x0 + c]), b1 = Int(p[row1 + x1 + c])
                v2 = Double(a1) + Double(b1 - a1) * dx
            }
            v1 = v1 + (v2 - v1) * dy
            out[target + c] = UInt8(clamping: Int(v1))
        }
    }

    /// Geometry.c's BICUBIC macro (a = −1), operation order kept for identical rounding.
    @inline(__always) private static func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
        let p1 = v2
        let p2 = -v1 + v3
        let p3 = 2 * (v1 - v2) + v3 - v4
        let p4 = -v1 + v2 - v3 + v4
        return p1 + d * (p2 + d * (p3 + d * p4))
    }

    private static func bicubic(_ p: UnsafeBufferPointer<UInt8>, _ w: Int, _ h: Int, _ xin: Double, _ yin: Double,
                                _ out: UnsafeMutableBufferPointer<UInt8>, _ target: Int) {
        let x = floorInt(xin) - 1, y = floorInt(yin) - 1
        let dx = xin - Double(x + 1), dy = yin - Double(y + 1)
        let columns = (0..<4).map { Swift.min(Swift.max(x + $0, 0), w - 1) * 3 }
        for c in 0..<3 {
            func rowValue(_ row: Int) -> Double {
                let base = row * w * 3 + c
                return cubic(Double(p[base + columns[0]]), Double(p[base + columns[1]]),
                             Double(p[base + columns[2]]), Double(p[base + columns[3]]), dx)
            }
            let v1 = rowValue(Swift.min(Swift.max(y, 0), h - 1))
            let v2 = y + 1 >= 0 && y + 1 < h ? rowValue(y + 1) : v1
            let v3 = y + 2 >= 0 && y + 2 < h ? rowValue(y + 2) : v2
            let v4 = y + 3 >= 0 && y + 3 < h ? rowValue(y + 3) : v3
            let v = cubic(v1, v2, v3, v4, dy)
            out[target + c] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
        }
    }

    /// `Image.rotate(degrees, resample, fillcolor=…)` without expand: counter-clockwise about
    /// the centre, with PIL's matrix (cos/sin rounded to 15 decimals, as Python's `round`).
    static func rotate(_ image: RGB8Image, degrees: Double, interpolation: Interpolation,
                       fill: (UInt8, UInt8, UInt8)) -> RGB8Image {
        var angle = fmod(degrees, 360)        // Python's float %: result takes the divisor's sign
        if angle < 0 { angle += 360 }
        if angle == 0 { return image }
        let radians = -(angle * (Double.pi / 180))
        let cosine = roundToDecimals(Foundation.cos(radians)), sine = roundToDecimals(Foundation.sin(radians))
        let minusSine = roundToDecimals(-Foundation.sin(radians))
        let cx = Double(image.width) / 2, cy = Double(image.height) / 2
        var m: Matrix = (cosine, sine, 0, minusSine, cosine, 0)
        let c = m.a * -cx + m.b * -cy + m.c
        let f = m.d * -cx + m.e * -cy + m.f
        m.c = c + cx
        m.f = f + cy
        return transform(image, matrix: m, interpolation: interpolation, fill: fill)
    }

    /// Python's `round(x, 15)`: the nearest 15-decimal value, read back as a double (glibc's
    /// correctly rounded `%.15f`, as CPython's dtoa).
    static func roundToDecimals(_ x: Double) -> Double {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.15f", $0) }
        return strtod(buffer, nil)
    }
}
