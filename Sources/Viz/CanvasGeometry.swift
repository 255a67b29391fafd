/// A position on a drawing surface in pixels: x to the right, y downwards, (0, 0) the top-left
/// corner. Fractional, so raster output can anti-alias and SVG output stays exact.
public struct CanvasPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle on a drawing surface (origin top-left, y downwards).
public struct CanvasRect: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var center: CanvasPoint { CanvasPoint(x: x + width / 2, y: y + height / 2) }

    public func contains(_ p: CanvasPoint) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }

    public func contains(_ other: CanvasRect) -> Bool {
        other.minX >= minX && other.maxX <= maxX && other.minY >= minY && other.maxY <= maxY
    }

    public func insetBy(_ d: Double) -> CanvasRect {
        CanvasRect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d)
    }
}
