import Foundation
import Reports
import Viz
import XCTest

final class RecordPlotsTests: XCTestCase {
    private func tableIVRecords() throws -> (RecordFixtures, [RunRecord]) {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.writeTableIVRow(method: "full", accuracies: RecordFixtures.fullFineTuning, parameters: 85_800_000)
        try fixtures.writeTableIVRow(method: "linear", accuracies: RecordFixtures.linearProbing, parameters: 0)
        try fixtures.writeTableIVRow(method: "lora", accuracies: RecordFixtures.linearProbing.map { $0 + 10 }, parameters: 294_912)
        return (fixtures, try RunRecordLoader.load(from: fixtures.folder))
    }

    func testPPTPlotHasLabelledMethodsIsoCurvesAndWritesBothFormats() throws {
        let (fixtures, records) = try tableIVRecords()
        let plot = RecordPlots.ppt(records: records)
        let labels = plot.series.compactMap { series -> String? in
            if case .scatter(let s) = series { return s.points.first?.label } else { return nil }
        }
        XCTAssertEqual(labels, ["Full fine-tuning", "Linear probing (0)", "LoRA"])
        let isoLabels = plot.series.compactMap { series -> String? in
            if case .line(let s) = series { return s.label } else { return nil }
        }
        XCTAssertTrue(isoLabels.contains("PPT 0.55") && isoLabels.contains("PPT 0.60"), "\(isoLabels)")
        guard case .log10 = plot.xAxis.scale else { return XCTFail("x must be log10") }

        let png = fixtures.folder.appendingPathComponent("plots/ppt.png"), svg = fixtures.folder.appendingPathComponent("plots/ppt.svg")
        try plot.write(to: png)
        try plot.write(to: svg)
        let decoded = try PNG.read(png)
        XCTAssertEqual([decoded.width, decoded.height], [plot.width, plot.height])
        let text = try String(contentsOf: svg, encoding: .utf8)
        XCTAssertTrue(text.contains(">LoRA</text>") && text.contains(">PPT 0.60</text>"))
    }

    func testDatasetBarsFollowThePaperOrder() throws {
        let (_, records) = try tableIVRecords()
        let plot = RecordPlots.datasetBars(records: records)
        guard case .categories(let names) = plot.xAxis.scale else { return XCTFail("x must be categorical") }
        XCTAssertEqual(names.prefix(3), ["C100", "Cal", "DTD"])
        XCTAssertEqual(names.last, "Ele")
        guard case .bars(let full) = plot.series[0] else { return XCTFail("bars expected") }
        XCTAssertEqual(full.name, "Full fine-tuning")
        XCTAssertEqual(full.values.first!!, 68.9, accuracy: 1e-9)
        XCTAssertEqual(plot.rasterImage().width, plot.width)
    }

    func testTrainingCurvesAverageSeedsPerEpoch() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 60, seed: 1, perEpoch: [(1, 40), (2, 60)]))
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 62, seed: 2, perEpoch: [(1, 44), (2, 62)]))
        try fixtures.write(RecordFixtures.record(method: "ssf", dataset: "eurosat", accuracy: 90, perEpoch: [(1, 80)]))
        let records = try RunRecordLoader.load(from: fixtures.folder)
        XCTAssertEqual(RecordPlots.datasetsWithTrainingCurves(records), ["dtd", "eurosat"])
        let plot = try RecordPlots.trainingCurves(records: records, dataset: "dtd")
        guard plot.series.count == 1, case .line(let line) = plot.series[0] else { return XCTFail("one line expected") }
        XCTAssertEqual(line.name, "LoRA")
        XCTAssertEqual(line.points.map(\.x), [1, 2])
        XCTAssertEqual(line.points.map(\.y), [42, 61])
        XCTAssertThrowsError(try RecordPlots.trainingCurves(records: records, dataset: "svhn")) { error in
            XCTAssertTrue("\(error)".contains("dtd, eurosat"))
        }
    }

    func testWriteAllWritesEveryFigureInEveryFormat() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 60, parameters: 294_912, perEpoch: [(1, 40), (2, 60)]))
        try fixtures.write(RecordFixtures.record(method: "ssf", dataset: "dtd", accuracy: 62, parameters: 205_824))
        let out = fixtures.folder.appendingPathComponent("figures")
        let written = try RecordPlots.writeAll(records: try RunRecordLoader.load(from: fixtures.folder), to: out)
        XCTAssertEqual(written.map(\.lastPathComponent), ["ppt.png", "ppt.svg", "datasets.png", "datasets.svg", "curves-dtd.png", "curves-dtd.svg"])
        XCTAssertEqual(try PNG.read(out.appendingPathComponent("curves-dtd.png")).width, 960)
    }
}
