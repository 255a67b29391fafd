import Foundation
import Reports
import XCTest

final class TaskTableTests: XCTestCase {
    /// A segmentation record: mIoU as the reported score, the ADE20K suite, a Swin backbone.
    private func segmentation(_ method: String, miou: Double, seed: Int = 42, parameters: Int, memory: Double, backbone: String = "swin_large_patch4_window7_224") -> [String: Any] {
        var record = RecordFixtures.record(method: method, dataset: "ade20k", group: "segmentation", accuracy: miou, seed: seed, parameters: parameters,
                                           cost: ["peak_memory_mb": memory])
        var accuracy = record["accuracy"] as! [String: Any]
        accuracy["metric"] = "miou"
        record["accuracy"] = accuracy
        var dataset = record["dataset"] as! [String: Any]
        dataset["suite"] = "ade20k"
        record["dataset"] = dataset
        record["backbone"] = ["architecture": backbone]
        record["run_id"] = "\(method)-\(backbone)-\(seed)"
        return record
    }

    func testTableVILayoutWithPerDatasetPPTAndMemory() throws {
        let fixtures = try RecordFixtures(for: self)
        // Table VI's ADE20K column: full 52.1, frozen 46.8 (0 params), LoRA 50.3 (4.57M), Mona 51.3 (5.08M).
        try fixtures.write(segmentation("full", miou: 52.1, parameters: 198_580_000, memory: 15679))
        try fixtures.write(segmentation("linear", miou: 46.8, parameters: 0, memory: 3967))
        try fixtures.write(segmentation("lora", miou: 50.0, seed: 1, parameters: 4_570_000, memory: 10000))
        try fixtures.write(segmentation("lora", miou: 50.6, seed: 2, parameters: 4_570_000, memory: 10254))
        try fixtures.write(segmentation("mona", miou: 51.3, parameters: 5_080_000, memory: 11958))
        let records = try RunRecordLoader.load(from: fixtures.folder)
        XCTAssertTrue(TaskTable.applies(to: records))
        let table = TaskTable.make(records: records)
        XCTAssertEqual(table.columns.map(\.title), ["Method", "Backbone", "# Params (M)", "Peak memory (MB)", "ADE20K mIoU", "ADE20K PPT"])
        let byMethod = Dictionary(uniqueKeysWithValues: table.rows.map { ($0[0].text, $0.map(\.text)) })
        XCTAssertEqual(byMethod["Full fine-tuning"]?[2...], ["198.58", "15679", "52.10", "–"])
        // The paper's PPT: frozen 0.47, LoRA 0.43, Mona 0.43.
        XCTAssertEqual(byMethod["Linear probing"]?[5], "0.47")
        XCTAssertEqual(byMethod["LoRA"]?[2...], ["4.57", "10127", "50.30 ± 0.42", "0.43"])
        XCTAssertEqual(byMethod["Mona"]?[5], "0.43")
        XCTAssertTrue(table.caption.hasPrefix("mIoU (%) on ADE20K"))
        // Full fine-tuning has the best mIoU; frozen the best PPT.
        let full = table.rows.first { $0[0].text == "Full fine-tuning" }!, frozen = table.rows.first { $0[0].text == "Linear probing" }!
        XCTAssertEqual(full[4].emphasis, .best)
        XCTAssertEqual(frozen[5].emphasis, .best)
    }

    func testRowsOfDifferentBackbonesStayApart() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(segmentation("bitfit", miou: 48.3, parameters: 300_000, memory: 10861, backbone: "swin_large_patch4_window7_224"))
        try fixtures.write(segmentation("bitfit", miou: 47.0, parameters: 200_000, memory: 9000, backbone: "swin_base_patch4_window7_224"))
        let table = try TaskTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.rows.map { $0.prefix(5).map(\.text) }, [
            ["BitFit", "swin_base_patch4_window7_224", "0.20", "9000", "47.00"],
            ["BitFit", "swin_large_patch4_window7_224", "0.30", "10861", "48.30"],
        ])
        XCTAssertFalse(table.warnings.contains { $0.contains("mix backbones") })
    }

    func testClassificationRecordsKeepTableIV() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70, parameters: 294_912))
        XCTAssertFalse(TaskTable.applies(to: try RunRecordLoader.load(from: fixtures.folder)))
    }
}
