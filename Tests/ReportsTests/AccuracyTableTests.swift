import Foundation
import Reports
import XCTest

final class AccuracyTableTests: XCTestCase {
    private func column(_ table: ReportTable, _ title: String) -> Int {
        table.columns.firstIndex { $0.title == title }!
    }

    private func row(_ table: ReportTable, _ label: String) -> [ReportTable.Cell] {
        table.rows.first { $0[0].text == label }!
    }

    /// Table IV's full fine-tuning row: mean of 19 = 65.57, mean of the three group means = 68.97.
    func testBothMeansOfTableIVFullFineTuning() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.writeTableIVRow(method: "full", accuracies: RecordFixtures.fullFineTuning, parameters: 85_800_000)
        try fixtures.writeTableIVRow(method: "linear", accuracies: RecordFixtures.linearProbing, parameters: 0)
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.columns.map(\.title).prefix(4), ["Method", "C100", "Cal", "DTD"])
        XCTAssertEqual(table.columns.map(\.title).suffix(8),
                       ["Natural", "Specialized", "Structured", "Mean of 19", "Mean of 3 group means", "# Params (M)", "# Params", "PPT"])
        let full = row(table, "Full fine-tuning"), linear = row(table, "Linear probing")
        XCTAssertEqual(full[column(table, "Mean of 19")].text, "65.57")
        XCTAssertEqual(full[column(table, "Mean of 3 group means")].text, "68.97")
        XCTAssertEqual(full[column(table, "Natural")].text, "75.89")
        XCTAssertEqual(full[column(table, "Specialized")].value!, 83.375, accuracy: 1e-9)
        XCTAssertEqual(full[column(table, "Structured")].text, "47.64")
        XCTAssertEqual(full[column(table, "# Params (M)")].text, "85.80")
        XCTAssertEqual(full[column(table, "# Params")].text, "85800000")
        XCTAssertEqual(full[column(table, "PPT")].text, "–")
        XCTAssertEqual(linear[column(table, "Mean of 19")].text, "52.94")
        XCTAssertEqual(linear[column(table, "PPT")].text, "0.53")
        XCTAssertEqual(table.rows.map { $0[0].text }, ["Full fine-tuning", "Linear probing"])
        XCTAssertTrue(table.warnings.isEmpty, "\(table.warnings)")
    }

    func testBestAndSecondBestAreMarkedAsDisplayedWithTiesSharingTheMark() {
        let values: [(String, Double)] = [("adapter", 80.0), ("bitfit", 79.04), ("lora", 78.96), ("ssf", 78.0), ("sct", 80.04)]
        let records = values.map { method, accuracy in
            try! RunRecord.decode(JSONSerialization.data(withJSONObject: RecordFixtures.record(method: method, dataset: "dtd", accuracy: accuracy)),
                                  file: URL(fileURLWithPath: "/\(method).json"))!
        }
        let table = AccuracyTable.make(records: records)
        XCTAssertEqual(table.columns.map(\.title), ["Method", "DTD", "# Params (M)", "# Params", "PPT"])
        let marks = Dictionary(uniqueKeysWithValues: table.rows.map { ($0[0].text, $0[1].emphasis) })
        XCTAssertEqual(marks["Adapter"], .best)       // 80.0
        XCTAssertEqual(marks["SCT"], .best)           // 80.04 prints as 80.0 too
        XCTAssertEqual(marks["BitFit"], .secondBest)  // 79.0
        XCTAssertEqual(marks["LoRA"], .secondBest)    // 78.96 → 79.0
        XCTAssertEqual(marks["SSF"], .some(nil))
    }

    /// Two seeds per cell for LoRA (mean ± sample std), one for the others; a ranked column of
    /// three so one cell stays unmarked.
    private func smallTableRecords() throws -> RecordFixtures {
        let fixtures = try RecordFixtures(for: self)
        let entries: [(String, String, Double, Int, Int)] = [
            ("lora", "dtd", 70.0, 1, 294_912), ("lora", "dtd", 72.0, 2, 294_912),
            ("lora", "eurosat", 90.0, 1, 294_912), ("lora", "eurosat", 94.0, 2, 294_912),
            ("ssf", "dtd", 75.0, 1, 205_824), ("ssf", "eurosat", 91.5, 1, 205_824),
            ("linear", "dtd", 60.0, 1, 0), ("linear", "eurosat", 85.2, 1, 0),
        ]
        for (method, dataset, accuracy, seed, parameters) in entries {
            try fixtures.write(RecordFixtures.record(method: method, dataset: dataset, accuracy: accuracy, seed: seed, parameters: parameters))
        }
        return fixtures
    }

    func testSeedsGiveMeanAndSampleStd() throws {
        let table = try AccuracyTable.make(fromRecordsIn: smallTableRecords().folder)
        let lora = row(table, "LoRA")
        XCTAssertEqual(lora[1].text, "71.0 ± 1.4")
        XCTAssertEqual(lora[1].value!, 71, accuracy: 1e-12)
        XCTAssertEqual(lora[1].standardDeviation!, 2.0.squareRoot(), accuracy: 1e-12)   // n − 1, not n (which gives 1.0)
        // Both datasets share seeds 1 and 2: the mean's spread is over per-seed means (80, 83).
        XCTAssertEqual(lora[column(table, "Mean of 2")].text, "81.50 ± 2.12")
        XCTAssertEqual(row(table, "SSF")[1].text, "75.0")
    }

    private let smallTableHeader = "| Method | DTD | Euro | Natural | Specialized | Mean of 2 | Mean of 2 group means | # Params (M) | # Params | PPT |"

    func testMarkdownSnapshot() throws {
        let markdown = try AccuracyTable.make(fromRecordsIn: smallTableRecords().folder).markdown()
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("**Table.** Top-1 accuracy (%) on VTAB-1k, backbone vit_base_patch16_224, protocol vpetl (reported: best (test-set selection))"))
        XCTAssertTrue(lines[0].contains("over seeds (1–2 per cell)"))
        XCTAssertEqual(Array(lines[1...]), [
            "",
            smallTableHeader,
            "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            "| Linear probing | 60.0 | 85.2 | 60.00 | 85.20 | 72.60 | 72.60 | 0.00 | 0 | 0.73 |",
            "| LoRA | <u>71.0 ± 1.4</u> | **92.0 ± 2.8** | <u>71.00 ± 1.41</u> | **92.00 ± 2.83** | <u>81.50 ± 2.12</u> | <u>81.50 ± 2.12</u> | 0.29 | 294912 | <u>0.80</u> |",
            "| SSF | **75.0** | <u>91.5</u> | **75.00** | <u>91.50</u> | **83.25** | **83.25** | 0.21 | 205824 | **0.83** |",
            "",
        ])
    }

    func testCSVSnapshot() throws {
        let csv = try AccuracyTable.make(fromRecordsIn: smallTableRecords().folder).csv()
        XCTAssertEqual(csv, """
            Method,DTD,Euro,Natural,Specialized,Mean of 2,Mean of 2 group means,# Params (M),# Params,PPT\r
            Linear probing,60.0,85.2,60.00,85.20,72.60,72.60,0.00,0,0.73\r
            LoRA,71.0 ± 1.4,92.0 ± 2.8,71.00 ± 1.41,92.00 ± 2.83,81.50 ± 2.12,81.50 ± 2.12,0.29,294912,0.80\r
            SSF,75.0,91.5,75.00,91.50,83.25,83.25,0.21,205824,0.83\r

            """)
    }

    func testLaTeXSnapshot() throws {
        let latex = try AccuracyTable.make(fromRecordsIn: smallTableRecords().folder).latex()
        let lines = latex.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(lines[0...1]), ["\\begin{table}[t]", "\\centering"])
        XCTAssertTrue(lines[2].hasPrefix("\\caption{Top-1 accuracy (\\%) on VTAB-1k, backbone vit\\_base\\_patch16\\_224,"), lines[2])
        XCTAssertTrue(lines[2].contains("mean $\\pm$ sample std over seeds (1--2 per cell)"), lines[2])
        XCTAssertTrue(lines[2].contains("(M/100)$\\cdot$exp($-$log10(P/10\\textasciicircum{}7 + 1))"), lines[2])
        XCTAssertEqual(Array(lines[3...]), [
            "\\begin{tabular}{lrrrrrrrrr}",
            "\\toprule",
            "Method & DTD & Euro & Natural & Specialized & Mean of 2 & Mean of 2 group means & \\# Params (M) & \\# Params & PPT \\\\",
            "\\midrule",
            "Linear probing & 60.0 & 85.2 & 60.00 & 85.20 & 72.60 & 72.60 & 0.00 & 0 & 0.73 \\\\",
            "LoRA & \\underline{71.0 $\\pm$ 1.4} & \\textbf{92.0 $\\pm$ 2.8} & \\underline{71.00 $\\pm$ 1.41} & \\textbf{92.00 $\\pm$ 2.83} & \\underline{81.50 $\\pm$ 2.12} & \\underline{81.50 $\\pm$ 2.12} & 0.29 & 294912 & \\underline{0.80} \\\\",
            "SSF & \\textbf{75.0} & \\underline{91.5} & \\textbf{75.00} & \\underline{91.50} & \\textbf{83.25} & \\textbf{83.25} & 0.21 & 205824 & \\textbf{0.83} \\\\",
            "\\bottomrule",
            "\\end{tabular}",
            "\\end{table}",
            "",
        ])
    }

    func testJSONKeepsUnroundedValuesAndMarks() throws {
        let json = try AccuracyTable.make(fromRecordsIn: smallTableRecords().folder).json()
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let rows = document["rows"] as! [[[String: Any]]]
        let loraDTD = rows[1][1]
        XCTAssertEqual(loraDTD["text"] as? String, "71.0 ± 1.4")
        XCTAssertEqual((loraDTD["std"] as! NSNumber).doubleValue, 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(loraDTD["emphasis"] as? String, "second_best")
        XCTAssertEqual((document["columns"] as! [[String: Any]]).count, 10)
    }

    func testMixedProtocolsAreWarnedAboutInEveryFormatButCSV() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70, protocolName: "vpetl"))
        try fixtures.write(RecordFixtures.record(method: "ssf", dataset: "dtd", accuracy: 68, protocolName: "honest"))
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.warnings.count, 1)
        XCTAssertTrue(table.warnings[0].contains("mix evaluation protocols: honest (1 records), vpetl (1 records)"))
        XCTAssertTrue(table.caption.contains("protocol honest (reported: final epoch) + vpetl (reported: best (test-set selection))"))
        XCTAssertTrue(table.markdown().contains("> **Warning:** records mix evaluation protocols"))
        XCTAssertTrue(table.latex().hasPrefix("% Warning: records mix evaluation protocols"))
        XCTAssertTrue(table.json().contains("mix evaluation protocols"))
    }

    func testIncompleteRowsHaveNoOverallMeanAndAreNamed() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70))
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "eurosat", accuracy: 90))
        try fixtures.write(RecordFixtures.record(method: "ssf", dataset: "dtd", accuracy: 72))
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        let ssf = row(table, "SSF")
        XCTAssertEqual(ssf[column(table, "Mean of 2")].text, "–")
        XCTAssertEqual(ssf[column(table, "Natural")].text, "72.00")   // its one complete group still has a mean
        XCTAssertEqual(ssf[column(table, "PPT")].text, "–")
        XCTAssertEqual(table.warnings, ["SSF has no result on eurosat; its overall means and PPT are left empty"])
    }

    func testConfigurationsOfOneMethodBecomeSeparateRows() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70, options: ["rank": 4, "alpha": 8]), as: "a.json")
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 72, options: ["rank": 8, "alpha": 8]), as: "b.json")
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.rows.map { $0[0].text }, ["LoRA (rank=4)", "LoRA (rank=8)"])
        XCTAssertTrue(table.warnings.isEmpty)
    }

    func testRepeatedSeedIsWarnedAbout() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70), as: "first.json")
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 72), as: "rerun.json")
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.warnings, ["lora on dtd, seed 42, has 2 records (first.json, rerun.json); all are averaged"])
    }

    func testWriteChoosesFormatByExtension() throws {
        let fixtures = try smallTableRecords()
        let table = try AccuracyTable.make(fromRecordsIn: fixtures.folder)
        let out = fixtures.folder.appendingPathComponent("out")
        for name in ["t.md", "t.csv", "t.tex", "t.json"] { try table.write(to: out.appendingPathComponent(name)) }
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("t.csv"), encoding: .utf8), table.csv())
        XCTAssertThrowsError(try table.write(to: out.appendingPathComponent("t.xlsx")))
    }
}
