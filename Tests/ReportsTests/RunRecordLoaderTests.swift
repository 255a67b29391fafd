import Foundation
import Reports
import XCTest

final class RunRecordLoaderTests: XCTestCase {
    func testLoadsRecordsRecursivelyAndSkipsOtherJSON() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70, parameters: 294_912,
                                                 options: ["rank": 8, "targets": ["q", "v"]]), in: "grid/cell-a")
        try fixtures.write(RecordFixtures.record(method: "ssf", dataset: "dtd", accuracy: 71), in: "grid/cell-b")
        try fixtures.writeRaw("{\"method\": \"lora\", \"rank\": 8}", as: "adapter.json")   // not a run record
        try fixtures.writeRaw("not json either, but not .json", as: "notes.txt")
        let records = try RunRecordLoader.load(from: fixtures.folder)
        XCTAssertEqual(records.map(\.method), ["lora", "ssf"])
        let lora = records[0]
        XCTAssertEqual(lora.dataset, "dtd")
        XCTAssertEqual(lora.datasetGroup, "natural")
        XCTAssertEqual(lora.evaluationProtocol, "vpetl")
        XCTAssertEqual(lora.trainableParameters, 294_912)
        XCTAssertEqual(lora.methodOptions, ["rank": "8", "targets": "[\"q\",\"v\"]"])
        XCTAssertEqual(lora.backbone, "vit_base_patch16_224")
        XCTAssertEqual(lora.file.lastPathComponent, "lora-dtd-42.json")
    }

    private func loadError(_ fixtures: RecordFixtures) -> String {
        do {
            _ = try RunRecordLoader.load(from: fixtures.folder)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testMissingFieldNamesFileAndField() throws {
        let fixtures = try RecordFixtures(for: self)
        var record = RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70)
        var accuracy = record["accuracy"] as! [String: Any]
        accuracy["reported"] = nil
        record["accuracy"] = accuracy
        try fixtures.write(record, as: "broken.json")
        let message = loadError(fixtures)
        XCTAssertTrue(message.contains("broken.json"), message)
        XCTAssertTrue(message.contains("missing field accuracy.reported"), message)
    }

    func testWrongTypeNamesTheField() throws {
        let fixtures = try RecordFixtures(for: self)
        var record = RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70)
        record["seed"] = "forty-two"
        try fixtures.write(record, as: "typed.json")
        let message = loadError(fixtures)
        XCTAssertTrue(message.contains("typed.json") && message.contains("field seed has the wrong type"), message)
    }

    func testTruncatedFileIsAnErrorNotASkip() throws {
        let fixtures = try RecordFixtures(for: self)
        try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70))
        try fixtures.writeRaw("{\"schema\": \"vpeft-run/1\", \"method\": \"lo", as: "killed.json")
        let message = loadError(fixtures)
        XCTAssertTrue(message.contains("killed.json") && message.contains("not valid JSON"), message)
    }

    func testUnknownSchemaVersionIsRejected() throws {
        let fixtures = try RecordFixtures(for: self)
        var record = RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70)
        record["schema"] = "vpeft-run/2"
        try fixtures.write(record, as: "future.json")
        let message = loadError(fixtures)
        XCTAssertTrue(message.contains("future.json") && message.contains("vpeft-run/2"), message)
    }

    func testEmptyOrMissingFolderIsAnError() throws {
        let fixtures = try RecordFixtures(for: self)
        XCTAssertTrue(loadError(fixtures).contains("no run records"))
        XCTAssertThrowsError(try RunRecordLoader.load(from: fixtures.folder.appendingPathComponent("nope")))
    }
}
