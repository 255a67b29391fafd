import Foundation

/// The symbol drawn at a data point. Shapes as well as colours tell series apart, so plots
/// stay readable in greyscale print and for colour-blind readers.
public enum MarkerShape: String, CaseIterable, Sendable {
    case circle, square, diamond, triangle, invertedTriangle, hexagon

    /// The shape for the `index`-th series, cycling through all shapes.
    public static func cycle(_ index: Int) -> MarkerShape { allCases[index % allCases.count] }

    /// Corner points of the shape centred at `center` and fitting a `size`-pixel square, or nil
    /// for the circle (drawn as a true circle of diameter `size`). Sizes are tuned so each shape
    /// looks about as heavy as the circle.
    public func polygon(center: CanvasPoint, size: Double) -> [CanvasPoint]? {
        let r = size / 2
        func at(_ dx: Double, _ dy: Double) -> CanvasPoint { CanvasPoint(x: center.x + dx, y: center.y + dy) }
        switch self {
        case .circle:
            return nil
        case .square:
            let h = r * 0.9
            return [at(-h, -h), at(h, -h), at(h, h), at(-h, h)]
        case .diamond:
            let h = r * 1.2
            return [at(0, -h), at(h, 0), at(0, h), at(-h, 0)]
        case .triangle:
            let h = r * 1.15
            return [at(0, -h), at(h, h * 0.75), at(-h, h * 0.75)]
        case .invertedTriangle:
            let h = r * 1.15
            return [at(0, h), at(-h, -h * 0.75), at(h, -h * 0.75)]
        case .hexagon:
            return (0..<6).map { k in
                let angle = Double(k) * .pi / 3
                return at(r * 1.05 * cos(angle), r * 1.05 * sin(angle))
            }
        }
    }
}
