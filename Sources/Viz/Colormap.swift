/// Maps values in [0, 1] to colours for heat maps.
///
/// - `viridis` (matplotlib's default): perceptually uniform and its brightness rises steadily
///   from dark purple (0) to yellow (1), so "brighter = more attention" holds everywhere and
///   survives greyscale printing. The default for attention overlays.
/// - `jet`: the classic blue → cyan → yellow → red rainbow many attention figures use; its
///   brightness peaks in the middle, so use it for familiarity, not for reading magnitudes.
public enum Colormap: String, CaseIterable, Sendable {
    case viridis
    case jet

    public func color(at value: Double) -> RGBColor {
        let t = value.isNaN ? 0 : min(max(value, 0), 1)
        switch self {
        case .viridis:
            // matplotlib's viridis sampled at 10 evenly spaced points, linearly interpolated.
            let position = t * Double(Self.viridisStops.count - 1)
            let lower = min(Int(position), Self.viridisStops.count - 2)
            return Self.viridisStops[lower].mixed(with: Self.viridisStops[lower + 1], amount: position - Double(lower))
        case .jet:
            func channel(_ center: Double) -> Double { min(max(1.5 - abs(4 * t - center), 0), 1) }
            return RGBColor(unitRed: channel(3), green: channel(2), blue: channel(1))
        }
    }

    private static let viridisStops: [RGBColor] = [
        0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725,
    ].map { RGBColor(hex: $0) }
}
