import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift VideoMAE against Hugging Face transformers' `VideoMAEForVideoClassification`, on the
/// tiny model of scripts/reference/make_videomae_fixtures.py (every parameter perturbed): the HF
/// folder in transformers 5 and 4 names, the released code's fine-tuned and pre-training files.
final class VideoMAEParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/videomae")
    static let tolerance: Float = 1e-4

    private func reference() throws -> SafeTensors.File {
        try SafeTensors.read(Self.folder.appendingPathComponent("reference.safetensors"))
    }

    /// Loads a folder (and weights) the way `vpeft forward --model FOLDER` does.
    private func model(_ name: String, weights: String? = nil, numClasses: Int? = nil) throws -> VideoMAE {
        let loaded = try BackboneLoader.load(model: Self.folder.appendingPathComponent(name).path,
                                             weights: weights.map { Self.folder.appendingPathComponent($0) }, numClasses: numClasses)
        return try XCTUnwrap(loaded as? VideoMAE, "\(name): BackboneLoader did not pick VideoMAE")
    }

    private func assertMatches(_ actual: Tensor, _ expected: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(what): max |Δ| \(worst)", file: file, line: line)
    }

    func testHuggingFaceFolderMatchesTransformers() throws {
        let ref = try reference()
        for name in ["hf", "hf_v4"] {
            let videoMAE = try model(name)
            XCTAssertEqual(videoMAE.config.layerNormEps, 1e-12, "\(name): HF's default epsilon from config.json")
            let out = withoutGradients { videoMAE.forward(ref.tensors["input"]!) }
            assertMatches(try XCTUnwrap(out.logits), ref.tensors["logits"]!, "\(name) logits")
            assertMatches(out.final, ref.tensors["hidden"]!, "\(name) last_hidden_state")
        }
    }

    func testReleasedCodeCheckpoints() throws {
        let ref = try reference()
        let fineTuned = try model("hf", weights: "original_finetune.pth")
        let out = withoutGradients { fineTuned.forward(ref.tensors["input"]!) }
        assertMatches(try XCTUnwrap(out.logits), ref.tensors["logits"]!, "original fine-tuned logits")

        // A pre-training file: encoder only (its `norm` and decoder dropped), a fresh fc_norm and head.
        let pretrained = try model("hf", weights: "original_pretrain.pth", numClasses: 3)
        XCTAssertEqual(pretrained.head?.weight.shape, [3, 32])
        XCTAssertEqual(pretrained.fcNorm?.weight.scalars, [Float](repeating: 1, count: 32), "fc_norm starts fresh")
        let encoded = withoutGradients { pretrained.forward(ref.tensors["input"]!) }
        assertMatches(encoded.final, ref.tensors["hidden"]!, "pre-trained encoder output")
    }

    func testSinusoidTableAndOtherFrameCounts() throws {
        let ref = try reference()
        let videoMAE = try model("hf")
        assertMatches(videoMAE.positionTable(tokens: 24).reshaped([24, 32]), ref.tensors["sinusoid"]!, "sinusoid table")
        // Twice the frames: twice the tokens, the table rebuilt for them.
        var rng = SeededRandom(seed: 3)
        let long = withoutGradients { videoMAE.forward(Tensor.normal([1, 8, 3, 16, 16], using: &rng)) }
        XCTAssertEqual(long.final.shape, [1, 16, 32])
        XCTAssertEqual(long.tokens.shape, [1, 16, 32])
    }

    func testTokenOrderIsTimeThenRowThenColumn() throws {
        // One tubelet lit at (t = 1, h = 0, w = 1): only token 1·4 + 0·2 + 1 = 5 differs from the rest.
        let videoMAE = try model("hf")
        var values = [Float](repeating: 0, count: 4 * 3 * 16 * 16)
        for frame in 2..<4 { for c in 0..<3 { for y in 0..<8 { for x in 8..<16 { values[((frame * 3 + c) * 16 + y) * 16 + x] = 1 } } } }
        let tokens = withoutGradients { videoMAE.patchEmbed(Tensor(shape: [1, 8, 384], Self.tubeletRows(values))) }
        let embedded = withoutGradients { videoMAE.forward(Tensor(shape: [1, 4, 3, 16, 16], values)).tokens - videoMAE.positionTable(tokens: 8) }
        assertMatches(embedded, tokens, "tubelet embedding")
        let bias = try XCTUnwrap(videoMAE.patchEmbed.bias).scalars
        for token in 0..<8 {
            let row = Array(embedded.scalars[(token * 32)..<((token + 1) * 32)])
            XCTAssertEqual(zip(row, bias).allSatisfy { abs($0 - $1) < 1e-6 }, token != 5, "token \(token)")
        }
    }

    /// The clip [T=4, C=3, 16, 16] as 8 tubelet rows of (C, t, p, p) values, written out plainly.
    private static func tubeletRows(_ clip: [Float]) -> [Float] {
        var rows: [Float] = []
        for t in 0..<2 { for h in 0..<2 { for w in 0..<2 {
            for c in 0..<3 { for dt in 0..<2 { for y in 0..<8 { for x in 0..<8 {
                rows.append(clip[(((2 * t + dt) * 3 + c) * 16 + h * 8 + y) * 16 + w * 8 + x])
            } } } }
        } } }
        return rows
    }

    func testUnknownTensorIsNamed() throws {
        let file = try SafeTensors.read(Self.folder.appendingPathComponent("hf/model.safetensors"))
        var tensors = file.tensors
        tensors["videomae.encoder.layer.0.attention.extra.weight"] = Tensor.zeros([2])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("videomae-extra-\(ProcessInfo.processInfo.processIdentifier).safetensors")
        try SafeTensors.write(tensors, to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let videoMAE = try model("hf")
        XCTAssertThrowsError(try videoMAE.loadCheckpoint(url)) { error in
            XCTAssertTrue("\(error)".contains("attention.extra.weight") && "\(error)".contains(url.lastPathComponent), "\(error)")
        }
    }

    /// VideoMAE ViT-B/16: 86,227,200 parameters without the head in the released model, plus the
    /// 12 × 768 key-bias slots of the fused qkv bias that stay zero here (see VideoMAE.swift);
    /// heads of 133,806 (SSv2, 174 classes) and 39,219 (HMDB51, 51).
    func testViTBaseCounts() throws {
        let base = try VideoMAE(.base, randomInit: false)
        XCTAssertNil(base.head)
        XCTAssertEqual(base.parameterCount, 86_227_200 + 12 * 768)
        XCTAssertEqual(base.blocks[0].norm1.eps, 1e-6)
        XCTAssertEqual(base.fcNorm?.eps, 1e-6)
        for (classes, expected) in [(174, 133_806), (51, 39_219)] {
            var rng = SeededRandom(seed: 0)
            base.resetHead(classes: classes, using: &rng)
            XCTAssertEqual(base.head?.parameterCount, expected)
        }
        XCTAssertEqual(try XCTUnwrap(try VideoMAE.config(forModel: VideoMAE.presetName)).config, .base)
    }
}
