import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift ViT against timm, on small models written by scripts/reference/make_vit_fixtures.py
/// (random init, every parameter perturbed) in several configurations and checkpoint formats.
final class VisionTransformerParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vit")
    static let configurations = ["cls_token", "avg_fc_norm", "clip_quick_gelu", "layer_scale_no_cls", "features_only", "patch14_like"]

    /// Loads a hub folder the way `vpeft forward --model FOLDER` does.
    private func model(_ name: String, weights: String? = nil, imgSize: Int? = nil) throws -> VisionTransformer {
        let folder = Self.folder.appendingPathComponent(name)
        return try VisionTransformer.load(model: folder.path, weights: weights.map { folder.appendingPathComponent($0) }, imgSize: imgSize)
    }

    private func reference(_ name: String, _ file: String = "reference.safetensors") throws -> SafeTensors.File {
        try SafeTensors.read(Self.folder.appendingPathComponent(name).appendingPathComponent(file))
    }

    func testEveryConfigurationMatchesTimm() throws {
        for name in Self.configurations {
            let vit = try model(name)
            let ref = try reference(name)
            let depth = vit.blocks.count
            let out = withoutGradients {
                vit.forward(ref.tensors["input"]!, options: ForwardOptions(keepBlockOutputs: true, attentionBlocks: Set(0..<depth)))
            }
            assertClose(out.tokens, ref.tensors["tokens"]!, "\(name) tokens")
            for i in 0..<depth {
                assertClose(out.blockOutputs[i], ref.tensors["block.\(i)"]!, "\(name) block \(i)")
                assertClose(out.attention[i]!, ref.tensors["attn.\(i)"]!, "\(name) attention \(i)")
            }
            assertClose(out.final, ref.tensors["final"]!, "\(name) final")
            assertClose(out.features, ref.tensors["features"]!, "\(name) features")
            if let logits = ref.tensors["logits"] {
                assertClose(try XCTUnwrap(out.logits, name), logits, "\(name) logits")
            } else {
                XCTAssertNil(out.logits, "\(name) has no head")
            }
        }
    }

    func testEveryCheckpointFormatGivesTheSameModel() throws {
        let ref = try reference("cls_token")
        for weights in ["model.safetensors", "model.npz", "model.pth", "model_legacy.pth"] {
            let vit = try model("cls_token", weights: weights)
            let logits = withoutGradients { vit(ref.tensors["input"]!) }
            assertClose(logits, ref.tensors["logits"]!, "cls_token from \(weights)")
        }
    }

    func testPositionEmbeddingResamplingMatchesTimm() throws {
        for name in ["cls_token", "avg_fc_norm"] {
            let ref = try reference(name, "reference_resampled.safetensors")
            let size = try XCTUnwrap(Int(ref.metadata["img_size"] ?? ""), "\(name): img_size metadata")
            let vit = try model(name, imgSize: size)
            let out = withoutGradients { vit.forward(ref.tensors["input"]!) }
            assertClose(out.features, ref.tensors["features"]!, "\(name) resampled features")
            assertClose(try XCTUnwrap(out.logits), ref.tensors["logits"]!, "\(name) resampled logits")
        }
    }

    func testMismatchedWeightsAreReportedByKey() throws {
        let folder = Self.folder.appendingPathComponent("cls_token")
        // The avg/fc_norm model's weights lack `norm.*` and carry `fc_norm.*`.
        let other = Self.folder.appendingPathComponent("avg_fc_norm/model.safetensors")
        XCTAssertThrowsError(try VisionTransformer.load(model: folder.path, weights: other)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("norm.weight") || text.contains("fc_norm"), text)
        }
    }

    /// The full-size check runs when `make fixtures-full` has written a ViT-B/16 reference.
    func testFullSizeViTB16WhenReferenceIsPresent() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("assets/vit_base_patch16_224")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("reference.safetensors").path) else {
            print("skipping full-size ViT-B/16 parity: no \(folder.path)/reference.safetensors (run `make fixtures-full`)")
            return
        }
        let vit = try VisionTransformer.load(model: folder.path)
        let ref = try SafeTensors.read(folder.appendingPathComponent("reference.safetensors"))
        let out = withoutGradients { vit.forward(ref.tensors["input"]!) }
        assertClose(out.features, ref.tensors["features"]!, atol: 1e-4, "ViT-B/16 features")
        assertClose(try XCTUnwrap(out.logits), ref.tensors["logits"]!, atol: 1e-4, "ViT-B/16 logits")
    }
}

/// max |a − b| ≤ atol (the models' parity bar is 1e-4 max abs in fp32: docs/architecture.md, "Testing").
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(what): shape \(actual.shape) != \(expected.shape)", file: file, line: line)
        return
    }
    var worst: Float = 0, at = 0
    for i in 0..<actual.count {
        let d = Swift.abs(actual.data[i] - expected.data[i])
        if !(d <= worst) { worst = d; at = i }
    }
    XCTAssertLessThanOrEqual(worst, atol, "\(what): max |Δ| \(worst) at \(at) (\(actual.data[at]) vs \(expected.data[at]))", file: file, line: line)
}
