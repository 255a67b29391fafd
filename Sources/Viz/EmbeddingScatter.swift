import Tensor

/// The usual picture of a t-SNE embedding: one point per sample, coloured (and, past ten
/// classes, shaped) by class, with a legend naming the classes.
public enum EmbeddingScatter {
    /// `embedding` is [n, 2]; `labels[i]` is sample i's class; `classNames[c]` names class c
    /// (default "class c"). Classes with no samples are left out of the legend, and past
    /// `legendLimit` classes (CIFAR-100, Sun397) the legend is dropped: nobody can match a
    /// hundred colours to names, and it would squeeze the embedding.
    public static func plot(embedding: Tensor, labels: [Int], classNames: [String]? = nil, title: String = "t-SNE",
                            markerSize: Double = 6, width: Int = 900, height: Int = 700, legendLimit: Int = 30) -> Plot {
        precondition(embedding.rank == 2 && embedding.shape[1] == 2 && embedding.shape[0] == labels.count,
                     "EmbeddingScatter: expected an [n, 2] embedding and n labels, got \(embedding.shape) and \(labels.count)")
        var pointsByClass: [Int: [PlotPoint]] = [:]
        for (i, label) in labels.enumerated() {
            pointsByClass[label, default: []].append(PlotPoint(x: Double(embedding.data[2 * i]), y: Double(embedding.data[2 * i + 1])))
        }
        let series = pointsByClass.keys.sorted().map { label -> PlotSeries in
            let name = classNames.flatMap { label >= 0 && label < $0.count ? $0[label] : nil } ?? "class \(label)"
            return .scatter(ScatterSeries(name: name, points: pointsByClass[label]!, color: .categorical(label),
                                          marker: .cycle(label / 10), markerSize: markerSize))
        }
        return Plot(title: title, xAxis: PlotAxis(label: "t-SNE 1", showsGrid: false),
                    yAxis: PlotAxis(label: "t-SNE 2", showsGrid: false), series: series, width: width, height: height,
                    showsLegend: series.count <= legendLimit)
    }
}
