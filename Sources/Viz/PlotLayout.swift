import Foundation

/// Where everything of a plot goes, computed once from the description and the bitmap-font
/// metrics: the axis ranges and ticks, the margins that fit the tick labels, axis labels, title
/// and legend, and the data → pixel mapping.
struct PlotLayout {
    let plot: Plot
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>
    let xTicks: [AxisTick]
    let yTicks: [AxisTick]
    /// The axes' frame: data are drawn inside it.
    let plotArea: CanvasRect
    /// Category labels under a bar chart turn vertical when they do not fit side by side.
    let verticalXLabels: Bool
    let legend: [LegendEntry]
    let legendOrigin: CanvasPoint
    let legendRows: Int
    let legendColumnWidth: Double

    var scale: Int { plot.textScale }
    var glyphHeight: Double { Double(BitmapFont.capHeight * scale) }
    var padding: Double { Double(6 * scale) }
    var tickLength: Double { Double(3 * scale) }
    var legendRowHeight: Double { Double(12 * scale) }
    var legendSwatchWidth: Double { Double(14 * scale) }

    struct LegendEntry {
        enum Swatch { case marker(MarkerShape, RGBColor, RGBColor?), line(LineStyle, MarkerShape?), box(RGBColor) }
        let name: String
        let swatch: Swatch
    }

    init(_ plot: Plot) {
        self.plot = plot
        let scale = plot.textScale
        let glyphHeight = Double(BitmapFont.capHeight * scale)
        let padding = Double(6 * scale), tickLength = Double(3 * scale)
        let (xExtent, yExtent) = Self.dataExtents(plot)
        xRange = plot.xAxis.range ?? plot.xAxis.scale.niceRange(covering: xExtent)
        yRange = plot.yAxis.range ?? plot.yAxis.scale.niceRange(covering: yExtent)
        xTicks = AxisTicks.ticks(for: plot.xAxis.scale, range: xRange)
        yTicks = AxisTicks.ticks(for: plot.yAxis.scale, range: yRange)

        let titleHeight = plot.title.isEmpty ? 0 : Double(BitmapFont.capHeight * (scale + 1)) + padding
        let top = padding + titleHeight + glyphHeight / 2
        let yTickWidth = Double(yTicks.map { BitmapFont.width(of: $0.label, scale: scale) }.max() ?? 0)
        let yLabelWidth = plot.yAxis.label.isEmpty ? 0 : glyphHeight + padding
        let left = padding + yLabelWidth + yTickWidth + tickLength + Double(2 * scale)

        legend = plot.showsLegend ? Self.legendEntries(plot) : []
        let legendTextWidth = Double(legend.map { BitmapFont.width(of: $0.name, scale: scale) }.max() ?? 0)
        legendColumnWidth = Double(14 * scale) + Double(4 * scale) + legendTextWidth + padding
        let rowHeight = Double(12 * scale)
        legendRows = max(1, Int((Double(plot.height) - top - padding) / rowHeight))
        let legendColumns = legend.isEmpty ? 0 : (legend.count + legendRows - 1) / legendRows
        // A numeric axis's last tick label is centred on the frame's right edge: leave room for
        // its half (category labels sit inside their slots).
        var lastXLabelHalf = Double(BitmapFont.width(of: xTicks.last?.label ?? "", scale: scale)) / 2
        if case .categories = plot.xAxis.scale { lastXLabelHalf = 0 }
        let right = max(padding + Double(legendColumns) * legendColumnWidth + (legendColumns > 0 ? padding : 0), lastXLabelHalf + padding)

        let areaWidth = max(Double(plot.width) - left - right, 1)
        var vertical = false
        var xTickExtent = glyphHeight
        if case .categories(let names) = plot.xAxis.scale {
            let widest = Double(names.map { BitmapFont.width(of: $0, scale: scale) }.max() ?? 0)
            vertical = widest > areaWidth / Double(max(names.count, 1)) - Double(2 * scale)
            if vertical { xTickExtent = widest }
        }
        verticalXLabels = vertical
        let xLabelHeight = plot.xAxis.label.isEmpty ? 0 : glyphHeight + padding
        let bottom = tickLength + Double(2 * scale) + xTickExtent + Double(scale) + padding + xLabelHeight
        plotArea = CanvasRect(x: left, y: top, width: areaWidth, height: max(Double(plot.height) - top - bottom, 1))
        legendOrigin = CanvasPoint(x: plotArea.maxX + padding, y: top)
    }

    /// Data → pixel position (y grows downwards on the surface).
    func position(x: Double, y: Double) -> CanvasPoint {
        CanvasPoint(x: plotArea.minX + plot.xAxis.scale.fraction(of: x, in: xRange) * plotArea.width,
                    y: plotArea.maxY - plot.yAxis.scale.fraction(of: y, in: yRange) * plotArea.height)
    }

    func isInside(x: Double, y: Double) -> Bool {
        let xInside: Bool
        if case .log10 = plot.xAxis.scale, x <= 0 { xInside = true } else { xInside = xRange.contains(x) }
        return xInside && yRange.contains(y)
    }

    /// Where the `index`-th legend entry starts (top-left of its row).
    func legendRowOrigin(_ index: Int) -> CanvasPoint {
        CanvasPoint(x: legendOrigin.x + Double(index / legendRows) * legendColumnWidth,
                    y: legendOrigin.y + Double(index % legendRows) * legendRowHeight)
    }

    private static func dataExtents(_ plot: Plot) -> (ClosedRange<Double>, ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        var hasBars = false
        for series in plot.series {
            switch series {
            case .scatter(let s): xs += s.points.map(\.x); ys += s.points.map(\.y)
            case .line(let s): xs += s.points.map(\.x); ys += s.points.map(\.y)
            case .bars(let s): hasBars = true; ys += s.values.compactMap { $0 }
            }
        }
        if hasBars { ys.append(0) }   // bars grow from zero
        if case .log10 = plot.xAxis.scale { xs = xs.filter { $0 > 0 } }
        if case .log10 = plot.yAxis.scale { ys = ys.filter { $0 > 0 } }
        xs = xs.filter(\.isFinite)
        ys = ys.filter(\.isFinite)
        let fallback = 0.0...1.0
        return (xs.isEmpty ? fallback : xs.min()!...xs.max()!, ys.isEmpty ? fallback : ys.min()!...ys.max()!)
    }

    private static func legendEntries(_ plot: Plot) -> [LegendEntry] {
        plot.series.compactMap { series in
            switch series {
            case .scatter(let s): return s.name.map { LegendEntry(name: $0, swatch: .marker(s.marker, s.color, s.outline)) }
            case .line(let s): return s.name.map { LegendEntry(name: $0, swatch: .line(s.style, s.marker)) }
            case .bars(let s): return LegendEntry(name: s.name, swatch: .box(s.color))
            }
        }
    }
}
