/// How a stroke looks: colour, width in pixels, and an optional dash pattern (on, off, on, …
/// lengths in pixels) for reference curves such as PPT iso-lines.
public struct LineStyle: Equatable, Sendable {
    public var color: RGBColor
    public var width: Double
    public var dash: [Double]?

    public init(color: RGBColor, width: Double = 1, dash: [Double]? = nil) {
        self.color = color
        self.width = width
        self.dash = dash
    }
}

/// Where a text's anchor point lies along the text (start = left, or bottom when vertical).
public enum TextAnchor: Sendable { case start, middle, end }

/// Where the anchor point lies across the text: the top of the capitals, their middle, or the
/// baseline (for vertical text "top" is the left side, where the glyph tops face).
public enum TextBaseline: Sendable { case top, middle, bottom }

public struct TextStyle: Equatable, Sendable {
    public var scale: Int
    public var color: RGBColor
    public var anchor: TextAnchor
    public var baseline: TextBaseline
    /// Rotated 90° anticlockwise, reading bottom to top.
    public var vertical: Bool

    public init(scale: Int = 2, color: RGBColor = .black, anchor: TextAnchor = .start,
                baseline: TextBaseline = .top, vertical: Bool = false) {
        self.scale = scale
        self.color = color
        self.anchor = anchor
        self.baseline = baseline
        self.vertical = vertical
    }

    /// The box the text occupies when drawn at `point` (cap height only; descenders may hang
    /// one font pixel below). Layout uses it for both raster and SVG output, so the two agree.
    public func bounds(of text: String, at point: CanvasPoint) -> CanvasRect {
        let along = Double(BitmapFont.width(of: text, scale: scale))
        let across = Double(BitmapFont.capHeight * scale)
        let alongStart: Double
        switch anchor {
        case .start: alongStart = 0
        case .middle: alongStart = -along / 2
        case .end: alongStart = -along
        }
        let acrossStart: Double
        switch baseline {
        case .top: acrossStart = 0
        case .middle: acrossStart = -across / 2
        case .bottom: acrossStart = -across
        }
        if vertical {
            return CanvasRect(x: point.x + acrossStart, y: point.y - alongStart - along, width: across, height: along)
        }
        return CanvasRect(x: point.x + alongStart, y: point.y + acrossStart, width: along, height: across)
    }
}

/// The few primitives a plot is made of. The plot renderer lays a plot out once and draws it
/// through this protocol, so the PNG (`RasterSurface`) and SVG (`SVGSurface`) of one plot
/// description are the same picture.
public protocol DrawingSurface {
    var width: Int { get }
    var height: Int { get }
    /// Restricts later drawing to `rect` (nil: the whole surface); plots clip data to their axes.
    mutating func setClip(_ rect: CanvasRect?)
    mutating func fill(_ rect: CanvasRect, color: RGBColor)
    mutating func stroke(_ points: [CanvasPoint], style: LineStyle)
    mutating func marker(_ shape: MarkerShape, at center: CanvasPoint, size: Double, color: RGBColor, outline: RGBColor?)
    mutating func text(_ text: String, at point: CanvasPoint, style: TextStyle)
}
