import Foundation
import Heads
import Models
import NN
import Tensor
import XCTest

/// UPerNet on Swin against Hugging Face transformers' `UperNetForSemanticSegmentation`, on the
/// tiny saved folders `scripts/reference/make_upernet_fixtures.py` writes: stage features,
/// logits and auxiliary logits in evaluation mode; loss, gradients and BatchNorm running
/// statistics after one training-mode step.
final class UperNetParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/upernet")
    static let configurations = ["swin_w2_s32", "swin_w4_s36"]

    private func load(_ name: String) throws -> (model: UperNetSegmenter, reference: [String: Tensor]) {
        let dir = Self.folder.appendingPathComponent(name)
        let reference = try SafeTensors.read(dir.appendingPathComponent("reference.safetensors")).tensors
        let size = try XCTUnwrap(reference["input"]).shape[2]
        return (try UperNetSegmenter.loadHuggingFace(dir.path, imgSize: size), reference)
    }

    func testEvaluationMatchesHuggingFace() throws {
        for name in Self.configurations {
            let (model, reference) = try load(name)
            let input = try XCTUnwrap(reference["input"])
            let maps = withoutGradients { model.features(input) }
            for (i, map) in maps.enumerated() {
                assertClose(map, try XCTUnwrap(reference["stage.\(i)"]), atol: 1e-4, "\(name) stage \(i)")
            }
            let out = withoutGradients { model.forward(input) }
            assertClose(out.logits, try XCTUnwrap(reference["logits"]), atol: 1e-5, "\(name) logits")
            assertClose(try XCTUnwrap(out.auxiliaryLogits), try XCTUnwrap(reference["auxiliary_logits"]), atol: 1e-5, "\(name) auxiliary logits")
        }
    }

    /// A non-square input whose sides are not whole patches (27×38, patch 2): the dense Swin pads
    /// to whole patches and, per block, to whole windows of each map's own height and width, with
    /// the shift mask of that size — as HF's `SwinBackbone`. One model serves every size.
    func testNonSquareInputMatchesHuggingFace() throws {
        for name in Self.configurations {
            let (model, reference) = try load(name)
            let input = try XCTUnwrap(reference["input_rect"])
            let out = withoutGradients { model.forward(input) }
            XCTAssertEqual(out.logits.shape, [1, model.classes, 27, 38])
            assertClose(out.logits, try XCTUnwrap(reference["logits_rect"]), atol: 1e-4, "\(name) non-square logits")
            // The square size still gives HF's logits after the other size ran (masks cached per size).
            assertClose(withoutGradients { model.forward(try! XCTUnwrap(reference["input"])).logits }, try XCTUnwrap(reference["logits"]), atol: 1e-5, "\(name) logits after")
        }
    }

    /// HF's loss: main + auxiliary_loss_weight · auxiliary, each the mean cross-entropy over
    /// pixels not labelled 255, BatchNorm on batch statistics.
    func testTrainingStepMatchesHuggingFace() throws {
        let ourName = [
            "backbone.embeddings.patch_embeddings.projection.weight": "backbone.patch_embed.proj.weight",
        ]
        for name in Self.configurations {
            let (model, reference) = try load(name)
            let input = try XCTUnwrap(reference["input"])
            let labels = try XCTUnwrap(reference["labels"]).scalars.map { Int($0) }
            model.setTrainable(true)
            model.setTraining(true)
            let out = model.forward(input, options: ForwardOptions(training: true))
            let loss = model.loss(out, labels: labels)
            XCTAssertEqual(loss.item, try XCTUnwrap(reference["loss"]).item, accuracy: 1e-5, "\(name) loss")
            loss.backward()
            let parameters = model.stateDict
            for (key, expected) in reference where key.hasPrefix("grad.") {
                let hfName = String(key.dropFirst("grad.".count))
                let tensor = try XCTUnwrap(parameters[ourName[hfName] ?? hfName], "\(name): no parameter for \(hfName)")
                let grad = try XCTUnwrap(tensor.grad, "\(name): no gradient for \(hfName)")
                let scale = expected.scalars.map(abs).max() ?? 1
                assertClose(grad, expected, atol: 1e-4 * Swift.max(scale, 1), "\(name) gradient of \(hfName)")
            }
            let buffers = Dictionary(uniqueKeysWithValues: model.namedBuffers.map { ($0.name, $0.tensor) })
            assertClose(try XCTUnwrap(buffers["decode_head.bottleneck.batch_norm.running_mean"]), try XCTUnwrap(reference["running_mean"]),
                        atol: 1e-5, "\(name) running mean")
            assertClose(try XCTUnwrap(buffers["decode_head.bottleneck.batch_norm.running_var"]), try XCTUnwrap(reference["running_var"]),
                        atol: 1e-5, "\(name) running variance")
        }
    }

    func testRefusesWhatItCannotReproduce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("upernet-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Self.folder.appendingPathComponent("swin_w2_s32/config.json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var backbone = try XCTUnwrap(json["backbone_config"] as? [String: Any])
        backbone["hidden_act"] = "relu"
        json["backbone_config"] = backbone
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try UperNetSegmenter.loadHuggingFace(dir.path, imgSize: 32)) { error in
            XCTAssertTrue("\(error)".contains("hidden_act"), "\(error)")
        }
        backbone["hidden_act"] = "gelu"
        backbone["add_cross_attention"] = false  // a generic key older transformers versions write: ignored
        json["backbone_config"] = backbone
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try UperNetSegmenter.loadHuggingFace(dir.path, imgSize: 32)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
    }
}

func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    var worst: Float = 0
    for i in 0..<actual.count { worst = Swift.max(worst, Swift.abs(actual.data[i] - expected.data[i])) }
    XCTAssertLessThanOrEqual(worst, atol, "\(what): max abs difference \(worst)", file: file, line: line)
}
