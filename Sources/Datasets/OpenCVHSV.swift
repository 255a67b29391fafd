/// OpenCV's `COLOR_RGB2HSV` / `COLOR_HSV2RGB` on 8-bit pixels (what mmcv's `bgr2hsv` /
/// `hsv2bgr` call). To HSV OpenCV works in 12-bit fixed point with rounded reciprocal tables;
/// back it works in float with H scaled by 6/180 and rounds half to even.
public enum OpenCVHSV {
    static let shift = 12
    static let saturationTable: [Int] = (0..<256).map { $0 == 0 ? 0 : Int((Double(255 << shift) / Double($0)).rounded(.toNearestOrEven)) }
    static let hueTable: [Int] = (0..<256).map { $0 == 0 ? 0 : Int((Double(180 << shift) / (6 * Double($0))).rounded(.toNearestOrEven)) }

    public static func fromRGB(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (h: UInt8, s: UInt8, v: UInt8) {
        let (r, g, b) = (Int(r), Int(g), Int(b))
        let v = max(r, g, b), diff = v - min(r, g, b)
        let half = 1 << (shift - 1)
        let s = (diff * saturationTable[v] + half) >> shift
        // The sector follows which channel is the maximum, red first, then green (OpenCV's order).
        let sector = v == r ? g - b : v == g ? b - r + 2 * diff : r - g + 4 * diff
        var h = (sector * hueTable[diff] + half) >> shift
        if h < 0 { h += 180 }
        return (UInt8(h), UInt8(s), UInt8(v))
    }

    public static func toRGB(_ h: UInt8, _ s: UInt8, _ v: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let s = Float(s) * (1 / Float(255)), v = Float(v) * (1 / Float(255))
        func byte(_ x: Float) -> UInt8 { UInt8(Swift.min(Swift.max((x * 255).rounded(.toNearestOrEven), 0), 255)) }
        guard s != 0 else { return (byte(v), byte(v), byte(v)) }
        var hue = Float(h) * (6 / Float(180))
        var sector = Int(hue.rounded(.down))
        hue -= Float(sector)
        if !(0..<6).contains(sector) { (sector, hue) = (0, 0) }
        let (p, q, t) = (v * (1 - s), v * (1 - s * hue), v * (1 - s * (1 - hue)))
        func tab(_ i: Int) -> Float { i == 0 ? v : i == 1 ? p : i == 2 ? q : t }
        let (b, g, r) = Self.sectorOrder[sector]
        return (byte(tab(r)), byte(tab(g)), byte(tab(b)))
    }

    /// (b, g, r) indices into (v, p, q, t) per hue sector, as OpenCV indexes its table (a constant,
    /// not rebuilt per pixel).
    private static let sectorOrder: [(Int, Int, Int)] = [(1, 3, 0), (1, 0, 2), (3, 0, 1), (0, 2, 1), (0, 1, 3), (2, 1, 0)]
}
