/// An opaque 8-bit colour. Plots describe colours with it; raster and SVG output both read it.
public struct RGBColor: Equatable, Hashable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// From 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// From components in [0, 1] (clamped).
    public init(unitRed red: Double, green: Double, blue: Double) {
        func byte(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
        self.init(red: byte(red), green: byte(green), blue: byte(blue))
    }

    public static let black = RGBColor(hex: 0x000000)
    public static let white = RGBColor(hex: 0xFFFFFF)
    public static let darkGray = RGBColor(hex: 0x404040)
    public static let gray = RGBColor(hex: 0x808080)
    public static let lightGray = RGBColor(hex: 0xD9D9D9)

    /// "#rrggbb", for SVG.
    public var hexString: String {
        func two(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + two(red) + two(green) + two(blue)
    }

    /// Rec. 601 luma in [0, 255]: how bright the colour looks (tests compare overlay brightness).
    public var luma: Double { 0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue) }

    /// `self` moved `amount` ∈ [0, 1] of the way towards `other`.
    public func mixed(with other: RGBColor, amount: Double) -> RGBColor {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * amount).rounded()) }
        return RGBColor(red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }

    /// Ten distinguishable colours (Tableau 10, matplotlib's default cycle) for methods and
    /// classes; beyond ten, the cycle repeats with lighter tints so neighbours still differ.
    public static func categorical(_ index: Int) -> RGBColor {
        let base = tableau10[index % tableau10.count]
        let round = index / tableau10.count
        return round == 0 ? base : base.mixed(with: .white, amount: min(0.25 * Double(round), 0.6))
    }

    private static let tableau10: [RGBColor] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { RGBColor(hex: $0) }
}
