import Foundation
import Training
import XCTest

final class ConfigLoaderTests: XCTestCase {
    func testLayersOverrideInOrderAndRecordOrigins() throws {
        var loader = ConfigLoader()
        try loader.apply(["lr": 0.01, "label_smoothing": 0.1], from: "dataset defaults")
        try loader.apply(["lr": 0.005, "method": "lora", "method_options": ["rank": 4]], from: "configs/methods/lora.yaml")
        try loader.apply(overrides: ["lr=2e-3", "method_options.alpha=16", "epochs=5", "warmup_epochs=1"])
        let config = try loader.resolve()
        XCTAssertEqual(config.lr, 2e-3)
        XCTAssertEqual(config.labelSmoothing, 0.1)
        XCTAssertEqual(config.epochs, 5)
        XCTAssertEqual(config.methodOptions, ["rank": .number(4), "alpha": .number(16)])
        XCTAssertEqual(loader.origins["lr"], "--set")
        XCTAssertEqual(loader.origins["label_smoothing"], "dataset defaults")
    }

    func testTyposAndWrongTypesAreClearErrors() throws {
        var loader = ConfigLoader()
        XCTAssertThrowsError(try loader.apply(["learning_rate": 0.1], from: "my.yaml")) { error in
            XCTAssertTrue("\(error)".contains("my.yaml: unknown key 'learning_rate'"), "\(error)")
        }
        XCTAssertThrowsError(try loader.apply(overrides: ["epoch=3"])) { XCTAssertTrue("\($0)".contains("did you mean 'epochs'"), "\($0)") }
        try loader.apply(overrides: ["epochs=many"])
        XCTAssertThrowsError(try loader.resolve()) { XCTAssertTrue("\($0)".contains("epochs = \"many\" (set by --set): must be a whole number"), "\($0)") }
        // A wrongly typed value names its key, value, layer and what the key takes.
        for (setting, message) in [("seed=-5", "seed = -5 (set by --set): must be a whole number ≥ 0"),
                                   ("lr=fast", "lr = \"fast\" (set by --set): must be a number"),
                                   ("recompute_mlp=3", "recompute_mlp = 3 (set by --set): must be true or false"),
                                   ("eval_epochs=5", "eval_epochs = 5 (set by --set): must be a list of whole numbers")] {
            var wrong = ConfigLoader()
            try wrong.apply(overrides: ["epochs=10", setting])
            XCTAssertThrowsError(try wrong.resolve()) { XCTAssertTrue("\($0)".contains(message), "\(setting): \($0)") }
        }
        var negative = ConfigLoader()
        try negative.apply(overrides: ["batch_size=0"])
        XCTAssertThrowsError(try negative.resolve()) { XCTAssertTrue("\($0)".contains("batch_size = 0"), "\($0)") }
        var precision = ConfigLoader()
        try precision.apply(overrides: ["precision=fp16"])
        XCTAssertThrowsError(try precision.resolve()) { XCTAssertTrue("\($0)".contains("precision = fp16: must be fp32 or bf16"), "\($0)") }
    }

    func testYAMLFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try "method: adapter\nmethod_options:\n  dim: 8\nlr: 1.0e-3\ntrain_augmentation: true\n".write(to: url, atomically: true, encoding: .utf8)
        var loader = ConfigLoader()
        try loader.apply(file: url)
        let config = try loader.resolve()
        XCTAssertEqual(config.method, "adapter")
        XCTAssertEqual(config.methodOptions["dim"], .number(8))
        XCTAssertTrue(config.trainAugmentation)
        try "- just\n- a list\n".write(to: url, atomically: true, encoding: .utf8)
        var second = ConfigLoader()
        XCTAssertThrowsError(try second.apply(file: url)) { XCTAssertTrue("\($0)".contains("mapping"), "\($0)") }
    }

    /// An adapter's run_config.json written before a key existed still reads (the key takes
    /// its default), and a broken one is an error naming the file.
    func testOlderRunConfigsReadWithDefaults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-runconfig-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = TrainingConfig()
        config.method = "sct"
        var saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        saved["cache_frozen_mb"] = nil
        let url = folder.appendingPathComponent(TrainingSession.runConfigFile)
        try JSONSerialization.data(withJSONObject: saved).write(to: url)
        let read = try TrainingSession.runConfig(ofAdapter: folder)
        XCTAssertEqual(read.method, "sct")
        XCTAssertEqual(read.cacheFrozenMB, TrainingConfig().cacheFrozenMB)
        try Data("[1]".utf8).write(to: url)
        XCTAssertThrowsError(try TrainingSession.runConfig(ofAdapter: folder)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
    }
}
