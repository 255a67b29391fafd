import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Tensor
import Viz
import XCTest

final class PlotTests: XCTestCase {
    private func scatterPlot() -> Plot {
        Plot(title: "Accuracy vs parameters",
             xAxis: PlotAxis(label: "Trainable parameters", scale: .log10),
             yAxis: PlotAxis(label: "Accuracy (%)"),
             series: [
                .scatter(ScatterSeries(name: "methods", points: [PlotPoint(x: 40_000, y: 74.58, label: "DTL"),
                                                                 PlotPoint(x: 2_380_000, y: 71.70, label: "LST")],
                                       color: RGBColor(hex: 0xD62728), marker: .square, markerSize: 12)),
                .line(LineSeries(name: "reference", points: [PlotPoint(x: 1e4, y: 70), PlotPoint(x: 1e7, y: 76)],
                                 style: LineStyle(color: .gray, width: 1, dash: [6, 4]), label: "PPT 0.70")),
             ])
    }

    func testRasterHasTheRequestedSizeAndMarkersWhereTheDataAre() throws {
        let plot = scatterPlot()
        let image = plot.rasterImage()
        XCTAssertEqual(image.width, 960)
        XCTAssertEqual(image.height, 640)
        // Find the DTL marker: the red square must be the only red blob, left of LST's.
        let red = RGBColor(hex: 0xD62728)
        var redXs: [Int] = []
        for y in 0..<image.height { for x in 0..<image.width where image.color(x: x, y: y) == red { redXs.append(x) } }
        XCTAssertGreaterThan(redXs.count, 2 * 64, "two 12-px markers expected")
        let split = (redXs.min()! + redXs.max()!) / 2
        XCTAssertGreaterThan(redXs.max()! - redXs.min()!, 200, "log x should spread 40k and 2.4M apart")
        XCTAssertTrue(redXs.contains { $0 < split } && redXs.contains { $0 > split })
    }

    func testPNGAndSVGOutputsByExtension() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("viz-plot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let plot = scatterPlot()
        try plot.write(to: folder.appendingPathComponent("ppt.png"))
        try plot.write(to: folder.appendingPathComponent("ppt.svg"))
        let png = try PNG.read(folder.appendingPathComponent("ppt.png"))
        XCTAssertEqual(png.rgbImage, plot.rasterImage())
        let svg = try String(contentsOf: folder.appendingPathComponent("ppt.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains(">DTL</text>"))
        XCTAssertTrue(svg.contains(">Trainable parameters</text>"))
        XCTAssertTrue(svg.contains(">1M</text>"))
        XCTAssertTrue(svg.contains("stroke-dasharray=\"6,4\""))
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "SVG must be well-formed XML")
        XCTAssertThrowsError(try plot.write(to: folder.appendingPathComponent("ppt.gif")))
    }

    func testGroupedBarsStandSideBySideFromZero() {
        let blue = RGBColor(hex: 0x1F77B4), orange = RGBColor(hex: 0xFF7F0E)
        let plot = Plot(title: "", xAxis: PlotAxis(label: "", scale: .categories(["a", "b"])),
                        yAxis: PlotAxis(label: "", range: 0...100),
                        series: [.bars(BarSeries(name: "m1", values: [50, 100], color: blue)),
                                 .bars(BarSeries(name: "m2", values: [25, nil], color: orange))],
                        width: 400, height: 300, showsLegend: false)
        let image = plot.rasterImage()
        func columnsWith(_ color: RGBColor) -> [Int] {
            (0..<image.width).filter { x in (0..<image.height).contains { image.color(x: x, y: $0) == color } }
        }
        func heightOf(_ color: RGBColor, inColumns range: ClosedRange<Int>) -> Int {
            range.map { x in (0..<image.height).filter { image.color(x: x, y: $0) == color }.count }.max() ?? 0
        }
        let blueColumns = columnsWith(blue), orangeColumns = columnsWith(orange)
        // Blue has a bar in each category: two runs of columns with a gap between them.
        let gap = zip(blueColumns, blueColumns.dropFirst()).first { $1 - $0 > 1 }
        let (blueAEnd, blueBStart) = (gap!.0, gap!.1)
        // m2's bar follows m1's within category "a"; m2 has no bar in "b".
        XCTAssertFalse(orangeColumns.isEmpty)
        XCTAssertGreaterThanOrEqual(orangeColumns.min()!, blueAEnd)
        XCTAssertLessThan(orangeColumns.max()!, blueBStart)
        let blueA = heightOf(blue, inColumns: blueColumns.min()!...blueAEnd)
        let orangeA = heightOf(orange, inColumns: orangeColumns.min()!...orangeColumns.max()!)
        let blueB = heightOf(blue, inColumns: blueBStart...blueColumns.max()!)
        XCTAssertEqual(Double(blueA) / Double(orangeA), 2, accuracy: 0.1, "bar heights proportional to values")
        XCTAssertEqual(Double(blueB) / Double(blueA), 2, accuracy: 0.1)
    }

    func testCategoryLabelsTurnVerticalWhenCrowded() {
        let names = (0..<19).map { "dataset_number_\($0)" }
        let plot = Plot(title: "", xAxis: PlotAxis(label: "", scale: .categories(names)), yAxis: PlotAxis(label: ""),
                        series: [.bars(BarSeries(name: "m", values: names.map { _ in 50 }, color: .black))])
        let svg = plot.svgDocument()
        XCTAssertTrue(svg.contains("rotate(-90"))
    }

    /// Inlined in HTML: no XML declaration or namespace, text escaped, and clip ids prefixed so
    /// two plots on one page never share an id.
    func testInlineSVGElementPrefixesIdsAndEscapesText() {
        let plot = Plot(title: "a <b> & \"c\"", xAxis: PlotAxis(label: "x"), yAxis: PlotAxis(label: "y"),
                        series: [.line(LineSeries(name: "m", points: [PlotPoint(x: 0, y: 0), PlotPoint(x: 1, y: 1)], style: LineStyle(color: .black)))])
        let inline = plot.svgElement(idPrefix: "p1-")
        XCTAssertTrue(inline.hasPrefix("<svg width=\"960\" height=\"640\" viewBox=\"0 0 960 640\">"), String(inline.prefix(80)))
        XCTAssertFalse(inline.contains("<?xml") || inline.contains("xmlns"))
        XCTAssertTrue(inline.contains("<clipPath id=\"p1-clip0\">") && inline.contains("clip-path=\"url(#p1-clip0)\""))
        XCTAssertTrue(inline.contains(">a &lt;b&gt; &amp; &quot;c&quot;</text>"))
        XCTAssertEqual(plot.svgDocument(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       + plot.svgElement(idPrefix: "").replacingOccurrences(of: "<svg ", with: "<svg xmlns=\"http://www.w3.org/2000/svg\" "))
    }

    func testEmbeddingScatterColoursByClassAndDropsHugeLegends() {
        let embedding = Tensor(shape: [4, 2], [0, 0, 1, 1, 5, 5, 6, 6])
        let plot = EmbeddingScatter.plot(embedding: embedding, labels: [1, 1, 0, 0], classNames: ["cat", "dog"])
        let names = plot.series.compactMap { series -> String? in
            if case .scatter(let s) = series { return s.name } else { return nil }
        }
        XCTAssertEqual(names, ["cat", "dog"])
        XCTAssertTrue(plot.showsLegend)
        let many = EmbeddingScatter.plot(embedding: Tensor.zeros([40, 2]), labels: Array(0..<40))
        XCTAssertFalse(many.showsLegend)
    }
}
