import Foundation

/// A `DrawingSurface` that writes SVG elements: vector shapes and real, selectable text. Text
/// is set in a monospace font sized so one character advances as far as a bitmap glyph, so the
/// layout computed with bitmap metrics fits the SVG too.
public struct SVGSurface: DrawingSurface {
    public let width: Int
    public let height: Int
    /// Starts every element id (clip paths), so several SVGs inlined in one HTML page, which
    /// share one id namespace, never refer to each other's clips.
    public let idPrefix: String
    private var elements: [String] = []
    private var clipDefinitions: [String] = []
    private var currentClipID: String?

    public init(width: Int, height: Int, background: RGBColor = .white, idPrefix: String = "") {
        self.width = width
        self.height = height
        self.idPrefix = idPrefix
        elements.append("<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"\(background.hexString)\"/>")
    }

    /// The finished document (an .svg file).
    public var document: String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svgElement(attributes: "xmlns=\"http://www.w3.org/2000/svg\" ")
    }

    /// The `<svg>` element for inlining in HTML: no XML declaration and no namespace attribute
    /// (the HTML parser puts `<svg>` in the SVG namespace itself). Sized by its view box, so CSS
    /// can scale it.
    public var inlineElement: String {
        svgElement(attributes: "")
    }

    private func svgElement(attributes: String) -> String {
        var lines = ["<svg \(attributes)width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"]
        if !clipDefinitions.isEmpty { lines.append("<defs>" + clipDefinitions.joined() + "</defs>") }
        lines += elements
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    public mutating func setClip(_ rect: CanvasRect?) {
        guard let rect else { currentClipID = nil; return }
        let id = "\(idPrefix)clip\(clipDefinitions.count)"
        clipDefinitions.append("<clipPath id=\"\(id)\"><rect x=\"\(n(rect.x))\" y=\"\(n(rect.y))\" width=\"\(n(rect.width))\" height=\"\(n(rect.height))\"/></clipPath>")
        currentClipID = id
    }

    public mutating func fill(_ rect: CanvasRect, color: RGBColor) {
        add("<rect x=\"\(n(rect.x))\" y=\"\(n(rect.y))\" width=\"\(n(rect.width))\" height=\"\(n(rect.height))\" fill=\"\(color.hexString)\"")
    }

    public mutating func stroke(_ points: [CanvasPoint], style: LineStyle) {
        guard points.count >= 2 else { return }
        let coordinates = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
        var element = "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(style.color.hexString)\" stroke-width=\"\(n(style.width))\" stroke-linecap=\"round\" stroke-linejoin=\"round\""
        if let dash = style.dash, !dash.isEmpty { element += " stroke-dasharray=\"\(dash.map(n).joined(separator: ","))\"" }
        add(element)
    }

    public mutating func marker(_ shape: MarkerShape, at center: CanvasPoint, size: Double, color: RGBColor, outline: RGBColor?) {
        let outlineAttributes = outline.map { " stroke=\"\($0.hexString)\" stroke-width=\"1\"" } ?? ""
        if let polygon = shape.polygon(center: center, size: size) {
            let coordinates = polygon.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
            add("<polygon points=\"\(coordinates)\" fill=\"\(color.hexString)\"\(outlineAttributes)")
        } else {
            add("<circle cx=\"\(n(center.x))\" cy=\"\(n(center.y))\" r=\"\(n(size / 2))\" fill=\"\(color.hexString)\"\(outlineAttributes)")
        }
    }

    public mutating func text(_ text: String, at point: CanvasPoint, style: TextStyle) {
        let box = style.bounds(of: text, at: point)
        let fontSize = Double(10 * style.scale)   // monospace advance ≈ 0.6 em = 6 · scale pixels
        var element = "<text font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"\(n(fontSize))\" fill=\"\(style.color.hexString)\""
        if style.vertical {
            // Baseline sits on the box's right side after rotating the text anticlockwise.
            let x = box.maxX, y = box.maxY
            element += " x=\"\(n(x))\" y=\"\(n(y))\" transform=\"rotate(-90 \(n(x)) \(n(y)))\""
        } else {
            element += " x=\"\(n(box.minX))\" y=\"\(n(box.maxY))\""
        }
        add(element + ">\(Markup.escaped(text))</text>", selfClosing: false)
    }

    private mutating func add(_ element: String, selfClosing: Bool = true) {
        var element = element
        if let currentClipID {
            // Clip attribute goes into the opening tag, before its end.
            let insertAt = element.firstIndex(of: ">") ?? element.endIndex
            element.insert(contentsOf: " clip-path=\"url(#\(currentClipID))\"", at: selfClosing ? element.endIndex : insertAt)
        }
        elements.append(selfClosing ? element + "/>" : element)
    }

    /// Coordinates with at most two decimals: sub-pixel exact, compact files.
    private func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
