/// A `DrawingSurface` that paints into an `RGBImage` with the anti-aliased primitives and the
/// bitmap font.
public struct RasterSurface: DrawingSurface {
    public private(set) var image: RGBImage
    private var clip: CanvasRect?

    public init(width: Int, height: Int, background: RGBColor = .white) {
        image = RGBImage(width: width, height: height, color: background)
    }

    public var width: Int { image.width }
    public var height: Int { image.height }

    public mutating func setClip(_ rect: CanvasRect?) { clip = rect }

    public mutating func fill(_ rect: CanvasRect, color: RGBColor) {
        image.fillRectangle(rect, color: color, clip: clip)
    }

    public mutating func stroke(_ points: [CanvasPoint], style: LineStyle) {
        image.strokeSegments(DashPattern.segments(of: points, dash: style.dash), width: style.width,
                             color: style.color, clip: clip)
    }

    public mutating func marker(_ shape: MarkerShape, at center: CanvasPoint, size: Double, color: RGBColor, outline: RGBColor?) {
        if let polygon = shape.polygon(center: center, size: size) {
            image.fillPolygon(polygon, color: color, clip: clip)
            if let outline { stroke(polygon + [polygon[0]], style: LineStyle(color: outline, width: 1)) }
        } else {
            if let outline { image.fillCircle(center: center, radius: size / 2 + 0.5, color: outline, clip: clip) }
            image.fillCircle(center: center, radius: outline == nil ? size / 2 : size / 2 - 0.5, color: color, clip: clip)
        }
    }

    public mutating func text(_ text: String, at point: CanvasPoint, style: TextStyle) {
        let box = style.bounds(of: text, at: point)
        if style.vertical {
            BitmapFont.draw(text, on: &image, x: Int(box.minX.rounded()), y: Int(box.maxY.rounded()),
                            scale: style.scale, color: style.color, vertical: true)
        } else {
            BitmapFont.draw(text, on: &image, x: Int(box.minX.rounded()), y: Int(box.minY.rounded()),
                            scale: style.scale, color: style.color)
        }
    }
}
