import Foundation
import Heads
import Models
import NN
import Tensor
import XCTest

/// A plain ViT's block maps and mmseg's `Feature2Pyramid` neck against timm and a PyTorch neck
/// written from mmseg's definition (`scripts/reference/make_vit_neck_fixtures.py`): the block maps,
/// the four neck outputs in evaluation and training mode, the gradients of a weighted sum of them,
/// and the BatchNorm's running statistics after that step.
final class ViTNeckParityTests: XCTestCase {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vit_neck/reference.safetensors")

    /// The fixture's ViT and neck with its weights, and the reference tensors.
    static func load() throws -> (vit: VisionTransformer, neck: Feature2PyramidNeck, reference: [String: Tensor]) {
        let reference = try SafeTensors.read(file).tensors
        let vit = try VisionTransformer(fixtureConfig())
        try vit.load(prefixed("vit.", reference))
        var rng = SeededRandom(seed: 1)
        let neck = try Feature2PyramidNeck(for: vit.featureInfo, using: &rng)
        let state = prefixed("neck.", reference)
        try neck.load(state.filter { !$0.key.hasSuffix("running_mean") && !$0.key.hasSuffix("running_var") })
        for (name, buffer) in neck.namedBuffers { buffer.data.update(from: try XCTUnwrap(state[name]).data, count: buffer.count) }
        return (vit, neck, reference)
    }

    /// `make_vit_neck_fixtures.py`'s CONFIG.
    static func fixtureConfig() -> VisionTransformerConfig {
        var c = VisionTransformerConfig()
        (c.imgSize, c.patchSize, c.embedDim, c.depth, c.numHeads, c.mlpRatio, c.initValues, c.numClasses) = (20, 4, 8, 8, 2, 2, 0.1, 0)
        return c
    }

    private static func prefixed(_ prefix: String, _ tensors: [String: Tensor]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
    }

    func testBlockMapsAndEvaluationOutputsMatchPyTorch() throws {
        let (vit, neck, reference) = try Self.load()
        XCTAssertEqual(vit.outIndices, [1, 3, 5, 7])
        XCTAssertEqual(vit.featureInfo.map(\.module), ["blocks.1", "blocks.3", "blocks.5", "blocks.7"])
        XCTAssertEqual(vit.featureInfo.map(\.reduction), [4, 4, 4, 4])
        let input = try XCTUnwrap(reference["input"])
        let maps = withoutGradients { vit.stageFeatures(input, options: ForwardOptions(), rng: SeededRandom(seed: 0)) }
        for (i, map) in maps.enumerated() { assertClose(map, try XCTUnwrap(reference["block.\(i)"]), atol: 1e-5, "block map \(i)") }
        let outputs = withoutGradients { neck(maps) }
        XCTAssertEqual(outputs.map(\.shape), [[2, 8, 20, 20], [2, 8, 10, 10], [2, 8, 5, 5], [2, 8, 2, 2]])
        for (i, out) in outputs.enumerated() { assertClose(out, try XCTUnwrap(reference["eval.\(i)"]), atol: 1e-5, "eval output \(i)") }
    }

    func testTrainingStepMatchesPyTorch() throws {
        let (vit, neck, reference) = try Self.load()
        vit.setTrainable(true)
        neck.setTrainable(true)
        neck.setTraining(true)
        let input = try XCTUnwrap(reference["input"])
        let outputs = neck(vit.stageFeatures(input, options: ForwardOptions(training: true), rng: SeededRandom(seed: 0)))
        var loss: Tensor?
        for (i, out) in outputs.enumerated() {
            assertClose(out, try XCTUnwrap(reference["train.\(i)"]), atol: 1e-5, "training output \(i)")
            let term = (out * (try XCTUnwrap(reference["weight.\(i)"]))).sum()
            loss = loss.map { $0 + term } ?? term
        }
        try XCTUnwrap(loss).backward()
        let parameters = neck.stateDict.merging(vit.stateDict.map { ("vit.\($0.key)", $0.value) }) { a, _ in a }
        var checked = 0
        for (key, expected) in reference where key.hasPrefix("grad.") {
            let name = key.hasPrefix("grad.neck.") ? String(key.dropFirst("grad.neck.".count)) : String(key.dropFirst("grad.".count))
            let grad = try XCTUnwrap(try XCTUnwrap(parameters[name], "no parameter \(name)").grad, "no gradient for \(name)")
            let scale = expected.scalars.map(abs).max() ?? 1
            assertClose(grad, expected, atol: 1e-4 * Swift.max(scale, 1), "gradient of \(name)")
            checked += 1
        }
        XCTAssertEqual(checked, neck.namedParameters.count + 4)
        let buffers = Dictionary(uniqueKeysWithValues: neck.namedBuffers.map { ($0.name, $0.tensor) })
        assertClose(try XCTUnwrap(buffers["upsample_4x.1.running_mean"]), try XCTUnwrap(reference["running_mean"]), atol: 1e-6, "running mean")
        assertClose(try XCTUnwrap(buffers["upsample_4x.1.running_var"]), try XCTUnwrap(reference["running_var"]), atol: 1e-6, "running variance")
    }

    func testNamesAreMMSegmentations() throws {
        var rng = SeededRandom(seed: 0)
        let neck = Feature2PyramidNeck(channels: 4, using: &rng)
        XCTAssertEqual(neck.namedParameters.map(\.name), [
            "upsample_4x.0.weight", "upsample_4x.0.bias", "upsample_4x.1.weight", "upsample_4x.1.bias",
            "upsample_4x.3.weight", "upsample_4x.3.bias", "upsample_2x.0.weight", "upsample_2x.0.bias",
        ])
        XCTAssertEqual(neck.namedBuffers.map(\.name), ["upsample_4x.1.running_mean", "upsample_4x.1.running_var"])
        XCTAssertEqual(Feature2PyramidNeck.outputStrides(inputStride: 14), [3.5, 7, 14, 28])
    }

    func testRefusesBadSettings() throws {
        let vit = try VisionTransformer(Self.fixtureConfig(), randomInit: false)
        XCTAssertThrowsError(try vit.setOutIndices([1, 8])) { XCTAssertTrue("\($0)".contains("block 8 does not exist"), "\($0)") }
        XCTAssertThrowsError(try vit.setOutIndices([])) { XCTAssertTrue("\($0)".contains("out_indices"), "\($0)") }
        try vit.setOutIndices([7, 0])
        XCTAssertEqual(vit.featureInfo.map(\.module), ["blocks.7", "blocks.0"])
        var rng = SeededRandom(seed: 0)
        XCTAssertThrowsError(try Feature2PyramidNeck(for: vit.featureInfo, using: &rng)) { XCTAssertTrue("\($0)".contains("needs 4 maps"), "\($0)") }
        XCTAssertEqual(VisionTransformer.defaultOutIndices(depth: 12), [2, 5, 8, 11])
        XCTAssertEqual(VisionTransformer.defaultOutIndices(depth: 24), [5, 11, 17, 23])
    }
}
