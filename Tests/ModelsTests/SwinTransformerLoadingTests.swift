import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// Damaged and mismatched Swin checkpoints and configs are errors that name the key or field at
/// fault, never a crash or a silently different model.
final class SwinTransformerLoadingTests: XCTestCase {
    static let folder = SwinTransformerParityTests.folder.appendingPathComponent("shifted_padded")

    /// The Microsoft-layout fixture's tensors, unwrapped from {"model": …}.
    private func microsoftTensors() throws -> [String: Tensor] {
        try Checkpoint.read(Self.folder.appendingPathComponent("model_microsoft.pth")).unwrapped().tensors
    }

    private func timmTensors() throws -> [String: Tensor] {
        try Checkpoint.read(Self.folder.appendingPathComponent("model.safetensors")).tensors
    }

    private func freshModel() throws -> SwinTransformer {
        try SwinTransformer(try XCTUnwrap(try SwinSource.resolve(Self.folder.path)).config)
    }

    private func assertFails(_ tensors: [String: Tensor], mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SwinTransformer.timmTensors(from: tensors, file: "ms.pth"), file: file, line: line) { error in
            let text = "\(error)"
            for part in parts { XCTAssertTrue(text.contains(part), "'\(part)' not in: \(text)", file: file, line: line) }
        }
    }

    func testMicrosoftLayoutIsRenamedAndBuffersDropped() throws {
        let ms = try microsoftTensors()
        XCTAssertNotNil(ms["layers.0.downsample.reduction.weight"])
        XCTAssertNotNil(ms["layers.0.blocks.1.attn_mask"])
        let converted = try SwinTransformer.timmTensors(from: ms, file: "ms.pth")
        XCTAssertEqual(Set(converted.keys), Set(try timmTensors().keys))
        XCTAssertFalse(converted.keys.contains { $0.hasSuffix("relative_position_index") || $0.hasSuffix("attn_mask") })
    }

    func testWrongRelativePositionIndexIsRefused() throws {
        var ms = try microsoftTensors()
        let key = "layers.1.blocks.0.attn.relative_position_index"
        let index = try XCTUnwrap(ms[key]).copy()
        index.data[5] += 1
        ms[key] = index
        assertFails(ms, mentioning: [key, "entry 5"])
    }

    func testRelativePositionIndexOfAnotherShapeIsRefused() throws {
        var ms = try microsoftTensors()
        let key = "layers.0.blocks.0.attn.relative_position_index"
        ms[key] = Tensor.zeros([16, 15])
        assertFails(ms, mentioning: [key, "[16, 15]"])
        // A valid index for 3×3 windows beside a table for 4×4 ones.
        ms[key] = Tensor(shape: [9, 9], WindowAttention.relativePositionIndex(window: 3).map(Float.init))
        assertFails(ms, mentioning: [key, "layers.0.blocks.0.attn.relative_position_bias_table", "[49, 2]"])
    }

    func testDamagedAttentionMaskIsRefused() throws {
        var ms = try microsoftTensors()
        let key = "layers.0.blocks.1.attn_mask"
        let mask = try XCTUnwrap(ms[key]).copy()
        mask.data[3] = 5
        ms[key] = mask
        assertFails(ms, mentioning: [key, "0 and -100"])
        ms[key] = Tensor.zeros([9, 9, 9])
        assertFails(ms, mentioning: [key, "4×4 window"])
        ms[key] = Tensor.zeros([9, 16])
        assertFails(ms, mentioning: [key, "[nW, N, N]"])
    }

    func testNamesThatCollideAfterRenamingAreRefused() throws {
        var ms = try microsoftTensors()
        ms["head.fc.weight"] = try XCTUnwrap(ms["head.weight"])
        assertFails(ms, mentioning: ["head.fc.weight"])
    }

    func testMissingUnexpectedAndMisShapedKeysAreNamed() throws {
        let model = try freshModel()
        var missing = try timmTensors()
        missing["layers.1.downsample.norm.weight"] = nil
        XCTAssertThrowsError(try model.loadPretrained(&missing)) { XCTAssertTrue("\($0)".contains("missing keys: layers.1.downsample.norm.weight"), "\($0)") }
        var unexpected = try timmTensors()
        unexpected["layers.0.downsample.norm.weight"] = Tensor.zeros([32])
        XCTAssertThrowsError(try model.loadPretrained(&unexpected)) { XCTAssertTrue("\($0)".contains("unexpected keys: layers.0.downsample.norm.weight"), "\($0)") }
        var misShaped = try timmTensors()
        misShaped["layers.2.blocks.0.mlp.fc1.weight"] = Tensor.zeros([64, 31])
        XCTAssertThrowsError(try model.loadPretrained(&misShaped)) { error in
            XCTAssertTrue("\(error)".contains("'layers.2.blocks.0.mlp.fc1.weight': checkpoint shape [64, 31], model expects [64, 32]"), "\(error)")
        }
        // A bias table whose rows are no (2w−1)² grid cannot be resized: a shape error, by key.
        var oddTable = try timmTensors()
        oddTable["layers.0.blocks.0.attn.relative_position_bias_table"] = Tensor.zeros([10, 2])
        XCTAssertThrowsError(try model.loadPretrained(&oddTable)) { XCTAssertTrue("\($0)".contains("layers.0.blocks.0.attn.relative_position_bias_table"), "\($0)") }
    }

    func testCheckpointErrorsNameTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swin-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var tensors = try timmTensors()
        tensors["norm.bias"] = nil
        let url = folder.appendingPathComponent("damaged.safetensors")
        try SafeTensors.write(tensors, to: url)
        XCTAssertThrowsError(try freshModel().loadCheckpoint(url)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("norm.bias"), "\(error)")
        }
    }

    func testHubConfigErrorsNameTheField() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swin-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func config(_ modelArgs: String) throws -> String {
            let url = folder.appendingPathComponent("config.json")
            try Data("{\"architecture\": \"swin_tiny_patch4_window7_224\", \"num_classes\": 10, \"model_args\": {\(modelArgs)}}".utf8).write(to: url)
            return url.path
        }
        XCTAssertThrowsError(try SwinSource.resolve(try config("\"always_partition\": true"))) { XCTAssertTrue("\($0)".contains("always_partition"), "\($0)") }
        XCTAssertThrowsError(try SwinSource.resolve(try config("\"window_size\": [7, 7, 7]"))) { XCTAssertTrue("\($0)".contains("window_size"), "\($0)") }
        XCTAssertThrowsError(try SwinSource.resolve(try config("\"num_heads\": [3, 5, 12, 24]"))) { XCTAssertTrue("\($0)".contains("num_heads"), "\($0)") }
        // An (h, w) pair is one window for every stage, as in timm.
        let pair = try XCTUnwrap(try SwinSource.resolve(try config("\"window_size\": [12, 12], \"img_size\": 384")))
        XCTAssertEqual(pair.config.windowSize, [12, 12, 12, 12])
        XCTAssertEqual(pair.config.numClasses, 10)
        XCTAssertEqual(pair.config.imgSize, 384)
    }
}
