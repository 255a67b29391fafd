import Foundation

/// torchvision's `adjust_hue` on a PIL image: convert to PIL's 8-bit HSV, add
/// `uint8(factor·255)` to the hue with wrap-around, convert back (Convert.c `rgb2hsv_row` /
/// `hsv2rgb`, single-precision as PIL computes them).
public enum PILHue {
    public static func adjust(_ image: RGB8Image, factor: Double) -> RGB8Image {
        let shift = UInt8(truncatingIfNeeded: Int(factor * 255))
        var output = image.pixels
        for i in stride(from: 0, to: output.count, by: 3) {
            let (h, s, v) = toHSV(output[i], output[i + 1], output[i + 2])
            (output[i], output[i + 1], output[i + 2]) = toRGB(h &+ shift, s, v)
        }
        return RGB8Image(width: image.width, height: image.height, pixels: output)
    }

    // C's rules, reproduced: float variables, double literals (so mixed expressions are
    // evaluated in double and rounded to float when stored).
    static func toHSV(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (UInt8, UInt8, UInt8) {
        let maxc = max(r, g, b), minc = min(r, g, b)
        guard maxc != minc else { return (0, 0, maxc) }
        let cr = Float(maxc - minc)
        let s = cr / Float(maxc)
        let rc = Float(maxc - r) / cr, gc = Float(maxc - g) / cr, bc = Float(maxc - b) / cr
        var h: Float = r == maxc ? bc - gc : g == maxc ? Float(2.0 + Double(rc) - Double(bc)) : Float(4.0 + Double(gc) - Double(rc))
        h = Float(fmod(Double(h) / 6.0 + 1.0, 1.0))
        return (clip8(Int(Double(h) * 255.0)), clip8(Int(Double(s) * 255.0)), maxc)
    }

    static func toRGB(_ h: UInt8, _ s: UInt8, _ v: UInt8) -> (UInt8, UInt8, UInt8) {
        guard s != 0 else { return (v, v, v) }
        let i = Int(floor(Double(h) * 6.0 / 255.0))
        let f = Float(Double(h) * 6.0 / 255.0 - Double(i)), fs = Float(Double(s) / 255.0)
        let (fd, fsd, vd) = (Double(f), Double(fs), Double(v))
        let p = clip8(Int((vd * (1.0 - fsd)).rounded())), q = clip8(Int((vd * (1.0 - fsd * fd)).rounded()))
        let t = clip8(Int((vd * (1.0 - fsd * (1.0 - fd))).rounded()))
        switch i % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    private static func clip8(_ x: Int) -> UInt8 { UInt8(clamping: x) }
}
