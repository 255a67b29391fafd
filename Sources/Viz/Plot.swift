/// A plot described as data: axes, series, labels. One description renders to a PNG raster or
/// to an SVG document (`Plot+Output.swift`) through the same layout, so the two files match.
///
/// Scatter plots (labelled points, e.g. methods at their parameter count), line plots (training
/// curves, reference curves) and grouped bar charts (methods × datasets) are all a `Plot` with
/// different series; series of different kinds can be mixed.
public struct Plot: Sendable {
    public var title: String
    public var xAxis: PlotAxis
    public var yAxis: PlotAxis
    public var series: [PlotSeries]
    public var width: Int
    public var height: Int
    /// Bitmap-font scale of tick labels, axis labels and the legend; the title is one larger.
    public var textScale: Int
    /// Shows named series in a legend to the right of the axes.
    public var showsLegend: Bool

    public init(title: String, xAxis: PlotAxis, yAxis: PlotAxis, series: [PlotSeries] = [],
                width: Int = 960, height: Int = 640, textScale: Int = 2, showsLegend: Bool = true) {
        self.title = title
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.width = width
        self.height = height
        self.textScale = textScale
        self.showsLegend = showsLegend
    }
}

public struct PlotAxis: Sendable {
    public var label: String
    public var scale: AxisScale
    /// Fixed limits; nil fits the data and rounds out to nice ticks.
    public var range: ClosedRange<Double>?
    public var showsGrid: Bool

    public init(label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil, showsGrid: Bool = true) {
        self.label = label
        self.scale = scale
        self.range = range
        self.showsGrid = showsGrid
    }
}

/// A data point, optionally labelled (the label is drawn next to the marker).
public struct PlotPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var label: String?

    public init(x: Double, y: Double, label: String? = nil) {
        self.x = x
        self.y = y
        self.label = label
    }
}

public enum PlotSeries: Sendable {
    case scatter(ScatterSeries)
    case line(LineSeries)
    case bars(BarSeries)
}

public struct ScatterSeries: Sendable {
    /// Legend entry; nil keeps the series out of the legend.
    public var name: String?
    public var points: [PlotPoint]
    public var color: RGBColor
    public var marker: MarkerShape
    public var markerSize: Double
    public var outline: RGBColor?

    public init(name: String? = nil, points: [PlotPoint], color: RGBColor, marker: MarkerShape = .circle,
                markerSize: Double = 9, outline: RGBColor? = nil) {
        self.name = name
        self.points = points
        self.color = color
        self.marker = marker
        self.markerSize = markerSize
        self.outline = outline
    }
}

public struct LineSeries: Sendable {
    public var name: String?
    /// Joined in order; point labels are ignored (use a scatter series for labelled points).
    public var points: [PlotPoint]
    public var style: LineStyle
    /// Drawn at every point when set.
    public var marker: MarkerShape?
    /// Written on the line itself (names reference curves such as "PPT 0.70"), beside its
    /// first or last point inside the axes.
    public var label: String?
    public var labelPosition: LabelPosition

    public enum LabelPosition: Sendable { case start, end }

    public init(name: String? = nil, points: [PlotPoint], style: LineStyle, marker: MarkerShape? = nil,
                label: String? = nil, labelPosition: LabelPosition = .end) {
        self.name = name
        self.points = points
        self.style = style
        self.marker = marker
        self.label = label
        self.labelPosition = labelPosition
    }
}

/// One bar per x category (the x axis must use `.categories`); several bar series are drawn
/// side by side within each category. A nil value leaves a gap (a missing result).
public struct BarSeries: Sendable {
    public var name: String
    public var values: [Double?]
    public var color: RGBColor

    public init(name: String, values: [Double?], color: RGBColor) {
        self.name = name
        self.values = values
        self.color = color
    }
}
