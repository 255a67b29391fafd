/// Draws a `Plot` onto any `DrawingSurface`, in layers: grid, bars and lines (clipped to the
/// axes), markers, frame and ticks, titles, labels, legend.
public enum PlotRenderer {
    public static func draw<Surface: DrawingSurface>(_ plot: Plot, on surface: inout Surface) {
        let layout = PlotLayout(plot)
        drawGrid(layout, on: &surface)
        surface.setClip(layout.plotArea)
        drawBars(layout, on: &surface)
        for case .line(let line) in plot.series { drawLine(line, layout, on: &surface) }
        surface.setClip(nil)
        let markerBoxes = drawMarkers(layout, on: &surface)
        drawFrameAndTicks(layout, on: &surface)
        drawTitles(layout, on: &surface)
        drawLabels(layout, obstacles: markerBoxes, on: &surface)
        drawLegend(layout, on: &surface)
    }

    private static func drawGrid<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) {
        let area = layout.plotArea
        let grid = LineStyle(color: RGBColor(hex: 0xE6E6E6), width: 1)
        if layout.plot.xAxis.showsGrid, !isCategorical(layout.plot.xAxis) {
            for tick in layout.xTicks {
                let x = layout.position(x: tick.value, y: layout.yRange.lowerBound).x
                surface.stroke([CanvasPoint(x: x, y: area.minY), CanvasPoint(x: x, y: area.maxY)], style: grid)
            }
        }
        if layout.plot.yAxis.showsGrid {
            for tick in layout.yTicks {
                let y = layout.position(x: layout.xRange.lowerBound, y: tick.value).y
                surface.stroke([CanvasPoint(x: area.minX, y: y), CanvasPoint(x: area.maxX, y: y)], style: grid)
            }
        }
    }

    private static func drawLine<Surface: DrawingSurface>(_ line: LineSeries, _ layout: PlotLayout, on surface: inout Surface) {
        let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }.map { layout.position(x: $0.x, y: $0.y) }
        surface.stroke(points, style: line.style)
    }

    private static func drawBars<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) {
        var bars: [BarSeries] = []
        for case .bars(let series) in layout.plot.series { bars.append(series) }
        guard !bars.isEmpty else { return }
        let slotWidth = layout.plotArea.width / (layout.xRange.upperBound - layout.xRange.lowerBound)
        let barWidth = slotWidth * 0.8 / Double(bars.count)
        let baseValue = layout.yRange.contains(0) ? 0 : layout.yRange.lowerBound
        let baseY = layout.position(x: 0, y: baseValue).y
        for (j, series) in bars.enumerated() {
            for (category, value) in series.values.enumerated() {
                guard let value, value.isFinite else { continue }
                let center = layout.position(x: Double(category), y: value)
                let left = center.x - slotWidth * 0.4 + Double(j) * barWidth
                let top = min(center.y, baseY), height = abs(baseY - center.y)
                surface.fill(CanvasRect(x: left, y: top, width: barWidth, height: height), color: series.color)
            }
        }
    }

    /// Markers of scatter series and marked lines; returns their boxes so labels avoid them.
    private static func drawMarkers<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) -> [CanvasRect] {
        var boxes: [CanvasRect] = []
        func draw(_ points: [PlotPoint], _ shape: MarkerShape, _ size: Double, _ color: RGBColor, _ outline: RGBColor?) {
            for point in points where point.x.isFinite && point.y.isFinite && layout.isInside(x: point.x, y: point.y) {
                let center = layout.position(x: point.x, y: point.y)
                surface.marker(shape, at: center, size: size, color: color, outline: outline)
                boxes.append(CanvasRect(x: center.x - size / 2, y: center.y - size / 2, width: size, height: size))
            }
        }
        for series in layout.plot.series {
            switch series {
            case .scatter(let s): draw(s.points, s.marker, s.markerSize, s.color, s.outline)
            case .line(let s): if let marker = s.marker { draw(s.points, marker, 2 * s.style.width + 4, s.style.color, nil) }
            case .bars: continue
            }
        }
        return boxes
    }

    private static func drawFrameAndTicks<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) {
        let area = layout.plotArea
        let frame = LineStyle(color: .darkGray, width: 1)
        surface.stroke([CanvasPoint(x: area.minX, y: area.minY), CanvasPoint(x: area.maxX, y: area.minY),
                        CanvasPoint(x: area.maxX, y: area.maxY), CanvasPoint(x: area.minX, y: area.maxY),
                        CanvasPoint(x: area.minX, y: area.minY)], style: frame)
        let scale = layout.scale
        let gap = Double(2 * scale)
        for tick in layout.xTicks {
            let x = layout.position(x: tick.value, y: layout.yRange.lowerBound).x
            surface.stroke([CanvasPoint(x: x, y: area.maxY), CanvasPoint(x: x, y: area.maxY + layout.tickLength)], style: frame)
            let at = CanvasPoint(x: x, y: area.maxY + layout.tickLength + gap)
            let style = layout.verticalXLabels
                ? TextStyle(scale: scale, color: .darkGray, anchor: .end, baseline: .middle, vertical: true)
                : TextStyle(scale: scale, color: .darkGray, anchor: .middle, baseline: .top)
            surface.text(tick.label, at: at, style: style)
        }
        for tick in layout.yTicks {
            let y = layout.position(x: layout.xRange.lowerBound, y: tick.value).y
            surface.stroke([CanvasPoint(x: area.minX - layout.tickLength, y: y), CanvasPoint(x: area.minX, y: y)], style: frame)
            surface.text(tick.label, at: CanvasPoint(x: area.minX - layout.tickLength - gap, y: y),
                         style: TextStyle(scale: scale, color: .darkGray, anchor: .end, baseline: .middle))
        }
    }

    private static func drawTitles<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) {
        let plot = layout.plot, area = layout.plotArea, scale = layout.scale
        if !plot.title.isEmpty {
            surface.text(plot.title, at: CanvasPoint(x: area.center.x, y: layout.padding),
                         style: TextStyle(scale: scale + 1, anchor: .middle, baseline: .top))
        }
        if !plot.xAxis.label.isEmpty {
            surface.text(plot.xAxis.label, at: CanvasPoint(x: area.center.x, y: Double(plot.height) - layout.padding),
                         style: TextStyle(scale: scale, anchor: .middle, baseline: .bottom))
        }
        if !plot.yAxis.label.isEmpty {
            surface.text(plot.yAxis.label, at: CanvasPoint(x: layout.padding, y: area.center.y),
                         style: TextStyle(scale: scale, anchor: .middle, baseline: .top, vertical: true))
        }
    }

    /// Point labels of scatter series first (they name the data), then line labels, each
    /// placed clear of the markers and of the labels before it.
    private static func drawLabels<Surface: DrawingSurface>(_ layout: PlotLayout, obstacles: [CanvasRect], on surface: inout Surface) {
        var placer = LabelPlacer(bounds: layout.plotArea, obstacles: obstacles)
        for case .scatter(let s) in layout.plot.series {
            for point in s.points where point.label != nil && layout.isInside(x: point.x, y: point.y) {
                let (at, style) = placer.place(point.label!, near: layout.position(x: point.x, y: point.y),
                                               gap: s.markerSize / 2 + Double(2 * layout.scale), scale: layout.scale, color: .black)
                surface.text(point.label!, at: at, style: style)
            }
        }
        for case .line(let s) in layout.plot.series {
            let inside = s.points.filter { layout.isInside(x: $0.x, y: $0.y) }
            guard let label = s.label, let anchor = s.labelPosition == .start ? inside.first : inside.last else { continue }
            let (at, style) = placer.place(label, near: layout.position(x: anchor.x, y: anchor.y),
                                           gap: Double(3 * layout.scale), scale: layout.scale, color: s.style.color, above: true)
            surface.text(label, at: at, style: style)
        }
    }

    private static func drawLegend<Surface: DrawingSurface>(_ layout: PlotLayout, on surface: inout Surface) {
        let scale = layout.scale
        for (index, entry) in layout.legend.enumerated() {
            let origin = layout.legendRowOrigin(index)
            let middle = CanvasPoint(x: origin.x + layout.legendSwatchWidth / 2, y: origin.y + layout.glyphHeight / 2)
            switch entry.swatch {
            case .marker(let shape, let color, let outline):
                surface.marker(shape, at: middle, size: Double(4 * scale + 1), color: color, outline: outline)
            case .line(let style, let marker):
                surface.stroke([CanvasPoint(x: origin.x, y: middle.y), CanvasPoint(x: origin.x + layout.legendSwatchWidth, y: middle.y)], style: style)
                if let marker { surface.marker(marker, at: middle, size: 2 * style.width + 4, color: style.color, outline: nil) }
            case .box(let color):
                let side = layout.glyphHeight
                surface.fill(CanvasRect(x: middle.x - side / 2, y: origin.y, width: side, height: side), color: color)
            }
            surface.text(entry.name, at: CanvasPoint(x: origin.x + layout.legendSwatchWidth + Double(4 * scale), y: origin.y),
                         style: TextStyle(scale: scale, anchor: .start, baseline: .top))
        }
    }

    private static func isCategorical(_ axis: PlotAxis) -> Bool {
        if case .categories = axis.scale { return true }
        return false
    }
}
