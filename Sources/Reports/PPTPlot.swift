import Foundation
import Viz

/// The PPT plot: accuracy (y) against trainable parameters (log x), one labelled point per
/// method, with dashed curves of constant PPT. A point above a curve has a better trade-off
/// than that curve's value; the curves bend up because PPT charges for every added parameter.
public enum PPTPlot {
    public struct Point: Sendable {
        public var label: String
        /// Without the head; 0 (linear probing) is drawn at the axis's left end, labelled "(0)".
        public var trainableParameters: Int
        public var accuracy: Double
        /// Full fine-tuning has no PPT; it is drawn as a grey square for reference.
        public var isFullFineTuning: Bool

        public init(label: String, trainableParameters: Int, accuracy: Double, isFullFineTuning: Bool = false) {
            self.label = label
            self.trainableParameters = trainableParameters
            self.accuracy = accuracy
            self.isFullFineTuning = isFullFineTuning
        }
    }

    /// `isoValues`: the PPT values to draw curves for; default: multiples of 0.05 spanning the
    /// points' PPTs.
    public static func make(points: [Point], isoValues: [Double]? = nil,
                            title: String = "Accuracy vs. trainable parameters",
                            yLabel: String = "Accuracy (%)") -> Plot {
        let positive = points.map(\.trainableParameters).filter { $0 > 0 }.map(Double.init)
        let xRange = AxisScale.log10.niceRange(covering: (positive.min() ?? 1e4)...(positive.max() ?? 1e7))
        let accuracies = points.map(\.accuracy)
        let yRange = AxisScale.linear.niceRange(covering: ((accuracies.min() ?? 0) - 1)...((accuracies.max() ?? 100) + 1))

        var series: [PlotSeries] = []
        let values = isoValues ?? defaultIsoValues(points)
        for ppt in values {
            let curve = (0...120).map { step -> PlotPoint in
                let p = xRange.lowerBound * pow(xRange.upperBound / xRange.lowerBound, Double(step) / 120)
                return PlotPoint(x: p, y: PPT.accuracy(forPPT: ppt, trainableParameters: p))
            }
            series.append(.line(LineSeries(points: curve, style: LineStyle(color: RGBColor(hex: 0xA0A0A0), width: 1, dash: [6, 4]),
                                           label: "PPT " + String(format: "%.2f", ppt), labelPosition: .start)))
        }
        for (index, point) in points.enumerated() {
            let x = point.trainableParameters > 0 ? Double(point.trainableParameters) : xRange.lowerBound
            let label = point.trainableParameters > 0 ? point.label : point.label + " (0)"
            series.append(.scatter(ScatterSeries(
                points: [PlotPoint(x: x, y: point.accuracy, label: label)],
                color: point.isFullFineTuning ? .gray : .categorical(index),
                marker: point.isFullFineTuning ? .square : .circle, markerSize: 10, outline: .darkGray)))
        }
        return Plot(title: title,
                    xAxis: PlotAxis(label: "Trainable parameters without head (log scale)", scale: .log10, range: xRange),
                    yAxis: PlotAxis(label: yLabel, range: yRange), series: series, showsLegend: false)
    }

    private static func defaultIsoValues(_ points: [Point]) -> [Double] {
        let ppts = points.filter { !$0.isFullFineTuning }.map { PPT.value(accuracy: $0.accuracy, trainableParameters: $0.trainableParameters) }
        guard let low = ppts.min(), let high = ppts.max() else { return [] }
        let first = max(1, Int((low * 20).rounded(.down))), last = min(20, Int((high * 20).rounded(.up)))
        return first <= last ? (first...last).map { Double($0) / 20 } : []
    }
}
