import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift Swin Transformer against timm, on tiny models written by
/// scripts/reference/make_swin_fixtures.py (random init, every parameter perturbed): shifted and
/// unshifted stages, maps padded to whole windows, windows equal to the map, per-stage windows,
/// no head; the Microsoft checkpoint layout; bias tables resized for other windows.
final class SwinTransformerParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/swin")
    static let configurations = ["shifted_padded", "per_stage_windows", "window_is_resolution"]

    /// Loads a hub folder the way `vpeft forward --model FOLDER` does.
    private func model(_ name: String, weights: String? = nil) throws -> SwinTransformer {
        let folder = Self.folder.appendingPathComponent(name)
        let loaded = try BackboneLoader.load(model: folder.path, weights: weights.map { folder.appendingPathComponent($0) })
        return try XCTUnwrap(loaded as? SwinTransformer, "\(name): BackboneLoader did not pick Swin")
    }

    private func reference(_ name: String, _ file: String = "reference.safetensors") throws -> SafeTensors.File {
        try SafeTensors.read(Self.folder.appendingPathComponent(name).appendingPathComponent(file))
    }

    func testEveryConfigurationMatchesTimm() throws {
        for name in Self.configurations {
            let swin = try model(name)
            let ref = try reference(name)
            let input = ref.tensors["input"]!
            // The windows and shifts timm chose per block.
            XCTAssertEqual(swin.blocks.map { String($0.window) }.joined(separator: ","), ref.metadata["effective_windows"], name)
            XCTAssertEqual(swin.blocks.map { String($0.shift) }.joined(separator: ","), ref.metadata["shifts"], name)
            let out = withoutGradients { swin.forward(input, options: ForwardOptions(keepBlockOutputs: true)) }
            var worst: [String: Float] = [:]
            func check(_ actual: Tensor, _ key: String) {
                guard let expected = ref.tensors[key] else { return XCTFail("\(name): no \(key) in the reference") }
                assertClose(actual, expected, "\(name) \(key)")
                let group = key.split(separator: ".").first.map(String.init) ?? key
                worst[group] = max(worst[group] ?? 0, maxDifference(actual, expected))
            }
            check(out.tokens, "tokens")
            XCTAssertEqual(out.blockOutputs.count, swin.blocks.count)
            for (k, block) in out.blockOutputs.enumerated() { check(block, "block.\(k)") }
            for (i, stage) in withoutGradients({ swin.stageFeatures(input) }).enumerated() { check(stage, "stage.\(i)") }
            check(out.final, "final")
            check(out.features, "features")
            if ref.tensors["logits"] != nil {
                check(try XCTUnwrap(out.logits, name), "logits")
            } else {
                XCTAssertNil(out.logits, "\(name) has no head")
            }
            print("Swin parity \(name): max |Δ| " + worst.keys.sorted().map { "\($0) \(worst[$0]!)" }.joined(separator: ", "))
        }
    }

    /// d sum(logits · gout) for the input and four parameters (the patch conv, a shifted block's
    /// bias table, a PatchMerging reduction, an MLP weight of a window = map stage).
    func testGradientsMatchTimm() throws {
        let swin = try model("shifted_padded")
        let ref = try reference("shifted_padded")
        let input = ref.tensors["input"]!.copy().trainable()
        swin.setTrainable(false)
        let parameters = Dictionary(uniqueKeysWithValues: swin.namedParameters.map { ($0.name, $0.tensor) })
        let names = ref.tensors.keys.filter { $0.hasPrefix("grad.") && $0 != "grad.input" }.map { String($0.dropFirst(5)) }.sorted()
        XCTAssertEqual(names.count, 4)
        for name in names {
            let parameter = try XCTUnwrap(parameters[name], name)
            parameter.requiresGrad = true
        }
        let logits = try XCTUnwrap(swin.forward(input).logits)
        logits.backward(ref.tensors["gout"]!)
        var report: [String] = []
        for name in names + ["input"] {
            let grad = try XCTUnwrap(name == "input" ? input.grad : parameters[name]!.grad, "no gradient for \(name)")
            assertClose(grad, ref.tensors["grad.\(name)"]!, "gradient of \(name)")
            report.append("\(name) \(maxDifference(grad, ref.tensors["grad.\(name)"]!))")
        }
        print("Swin gradients shifted_padded: max |Δ| " + report.joined(separator: ", "))
    }

    /// The original Microsoft layout ({"model": …}, PatchMerging at the end of a stage, `head`,
    /// with buffers) gives the same model, with and without a head.
    func testMicrosoftCheckpointGivesTheSameModel() throws {
        for name in ["shifted_padded", "window_is_resolution"] {
            let ref = try reference(name)
            let swin = try model(name, weights: "model_microsoft.pth")
            let out = withoutGradients { swin.forward(ref.tensors["input"]!) }
            assertClose(out.final, ref.tensors["final"]!, "\(name) from the Microsoft layout: final")
            if let logits = ref.tensors["logits"] { assertClose(try XCTUnwrap(out.logits), logits, "\(name) from the Microsoft layout: logits") }
            // The same tensors as the timm checkpoint, by name.
            let timm = try model(name)
            for ((a, x), (b, y)) in zip(swin.namedParameters, timm.namedParameters) {
                XCTAssertEqual(a, b)
                XCTAssertEqual(x.scalars, y.scalars, "\(name): \(a)")
            }
        }
    }

    /// Bias tables made for windows of 4 (and the 3×3 stage) loaded into models with windows 6
    /// (tables grow) and 3 (they shrink), as timm's checkpoint_filter_fn resizes them.
    func testBiasTableResizingMatchesTimm() throws {
        let folder = Self.folder.appendingPathComponent("shifted_padded")
        for window in [6, 3] {
            let ref = try reference("shifted_padded", "reference_window\(window).safetensors")
            var config = try XCTUnwrap(try SwinSource.resolve(folder.path)).config
            config.windowSize = Array(repeating: window, count: config.stageCount)
            let swin = try SwinTransformer(config)
            try swin.loadCheckpoint(folder.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(swin.blocks.map { String($0.window) }.joined(separator: ","), ref.metadata["effective_windows"])
            assertClose(swin.layers[0].blocks[0].attn.relativePositionBiasTable, ref.tensors["table.layers.0.blocks.0"]!, atol: 1e-6,
                        "window \(window): resized table")
            let out = withoutGradients { swin.forward(ref.tensors["input"]!) }
            assertClose(try XCTUnwrap(out.logits), ref.tensors["logits"]!, "window \(window): logits")
            assertClose(out.features, ref.tensors["features"]!, "window \(window): features")
            print("Swin window \(window) from window 4: max |Δ| logits \(maxDifference(out.logits!, ref.tensors["logits"]!))")
        }
    }

    func testStageFeaturesDescribeTheMaps() throws {
        let swin = try model("shifted_padded")
        XCTAssertEqual(swin.featureInfo, [StageFeatureInfo(channels: 8, reduction: 4, module: "layers.0"),
                                          StageFeatureInfo(channels: 16, reduction: 8, module: "layers.1"),
                                          StageFeatureInfo(channels: 32, reduction: 16, module: "layers.2")])
        let stages = withoutGradients { swin.stageFeatures(Tensor.zeros([1, 3, 36, 36])) }
        // Strides of odd maps round up: 36 / 4 = 9 → 5 → 3.
        XCTAssertEqual(stages.map(\.shape), [[1, 8, 9, 9], [1, 16, 5, 5], [1, 32, 3, 3]])
    }

    /// timm's architectures: parameters without the head (timm's `sum(p.numel())` less head.fc).
    func testPresetsMatchTimmParameterCounts() throws {
        let expected = ["swin_tiny_patch4_window7_224": 27_519_354, "swin_small_patch4_window7_224": 48_837_258,
                        "swin_base_patch4_window7_224": 86_743_224, "swin_base_patch4_window12_384": 86_878_584]
        for (name, count) in expected {
            let swin = try SwinTransformer(try SwinTransformerConfig.preset(name), randomInit: false)
            let head = swin.head.map(\.parameterCount) ?? 0
            XCTAssertEqual(swin.parameterCount - head, count, name)
            XCTAssertEqual(swin.architecture, name)
        }
        let base = try SwinTransformerConfig.preset("swin_base_patch4_window12_384.ms_in22k")
        XCTAssertEqual([base.embedDim, base.imgSize, base.numClasses], [128, 384, 21_841])
        XCTAssertEqual(base.depths, [2, 2, 18, 2])
        XCTAssertEqual(base.numHeads, [4, 8, 16, 32])
        XCTAssertEqual(base.windowSize, [12, 12, 12, 12])
        XCTAssertEqual(try SwinTransformerConfig.preset("swin_base_patch4_window7_224.ms_in22k_ft_in1k").numClasses, 1000)
        XCTAssertThrowsError(try SwinTransformerConfig.preset("swin_tiny_patch4_window12_384"))
        // 224 / window 7: 56 → 28 → 14 → 7, the last stage's map is its window (no shift).
        let tiny = try SwinTransformerConfig.preset("swin_tiny_patch4_window7_224")
        XCTAssertEqual((0..<4).map(tiny.stageResolution), [56, 28, 14, 7])
        XCTAssertEqual((0..<4).map { tiny.shift(stage: $0, block: 1) }, [3, 3, 3, 0])
    }

    func testBackboneLoaderPicksTheFamily() throws {
        XCTAssertTrue(try BackboneLoader.load(model: "swin_tiny_patch4_window7_224", weights: nil, numClasses: 3) is SwinTransformer)
        let vit = Self.folder.deletingLastPathComponent().appendingPathComponent("vit/cls_token")
        XCTAssertTrue(try BackboneLoader.load(model: vit.path, weights: nil) is VisionTransformer)
        XCTAssertNil(try SwinSource.resolve("vit_base_patch16_224"))
    }

    /// A new head for fine-tuning replaces the checkpoint's; the rest loads strictly.
    func testNewHeadReplacesTheCheckpointHead() throws {
        let folder = Self.folder.appendingPathComponent("shifted_padded")
        let swin = try SwinTransformer.load(model: folder.path, numClasses: 7)
        XCTAssertEqual(swin.head?.weight.shape, [7, 32])
        let timm = try model("shifted_padded")
        XCTAssertEqual(swin.norm.weight.scalars, timm.norm.weight.scalars)
    }
}

private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
