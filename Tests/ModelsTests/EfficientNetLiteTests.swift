import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift EfficientNet-Lite against scripts/reference/make_efficientnet_fixtures.py: a
/// reduced-width model with random weights (torch-functional reference, itself checked against
/// timm's tf_efficientnet_lite*), the real checkpoints' layout and architecture, and — when
/// scripts/assets/fetch_assets.sh has fetched them — the real ImageNet weights on real images.
final class EfficientNetLiteTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/efficientnet")
    static let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("assets")
    static let tolerance: Float = 1e-4

    private func reference() throws -> SafeTensors.File {
        try SafeTensors.read(Self.folder.appendingPathComponent("reference.safetensors"))
    }

    /// The reduced model of the reference file, with its weights loaded.
    private func reducedModel(_ ref: SafeTensors.File) throws -> EfficientNetLite {
        let json = try XCTUnwrap(ref.metadata["config"], "reference.safetensors: no config metadata")
        let config = try JSONDecoder().decode(EfficientNetLiteConfig.self, from: Data(json.utf8))
        let model = try EfficientNetLite(config, seed: 1)
        try model.loadState(ref.tensors.filter { $0.key.hasPrefix("_") })
        return model
    }

    func testReducedModelMatchesTorchReference() throws {
        let ref = try reference()
        let model = try reducedModel(ref)
        XCTAssertEqual(model.blocks.count, 16)
        let out = withoutGradients { model.forward(ref.tensors["input"]!, options: ForwardOptions(keepBlockOutputs: true)) }
        var worstBlock: Float = 0
        for (i, block) in out.blockOutputs.enumerated() {
            let expected = try XCTUnwrap(ref.tensors["block.\(i)"])
            XCTAssertEqual(block.shape, expected.shape, "block \(i)")
            worstBlock = max(worstBlock, maxAbsDifference(block, expected))
        }
        let logits = maxAbsDifference(try XCTUnwrap(out.logits), ref.tensors["logits"]!)
        let features = maxAbsDifference(out.features, ref.tensors["features"]!)
        print("EfficientNetLite parity (reduced, random weights): max |Δ| logits \(logits), features \(features), blocks \(worstBlock)")
        XCTAssertLessThanOrEqual(logits, Self.tolerance)
        XCTAssertLessThanOrEqual(features, Self.tolerance)
        XCTAssertLessThanOrEqual(worstBlock, Self.tolerance)
        XCTAssertEqual(out.final.shape, [2, 16, 2, 2])
        XCTAssertEqual(out.tokens.shape, [2, 8, 20, 18])
    }

    func testFoldedBatchNormMatchesUnfolded() throws {
        let ref = try reference()
        let model = try reducedModel(ref)
        let input = ref.tensors["input"]!
        let unfolded = withoutGradients { model.forward(input) }
        try model.foldBatchNorm()
        XCTAssertTrue(model.isFolded)
        XCTAssertTrue(model.batchNorms.isEmpty && model.namedBuffers.isEmpty)
        XCTAssertNotNil(model.convolutions.first { $0.name == "_blocks.3._depthwise_conv" }?.layer.bias)
        let folded = withoutGradients { model.forward(input) }
        let logits = maxAbsDifference(folded.logits!, unfolded.logits!), features = maxAbsDifference(folded.features, unfolded.features)
        print("EfficientNetLite BN folding: max |Δ| logits \(logits), features \(features)")
        XCTAssertLessThanOrEqual(logits, Self.tolerance)
        XCTAssertLessThanOrEqual(features, Self.tolerance)
    }

    func testFoldingRefusesBatchNormsWithHooks() throws {
        let model = try reducedModel(try reference())
        model.blocks[2].bn1!.hooks.append(ScaleHook(2))
        XCTAssertThrowsError(try model.foldBatchNorm()) { XCTAssertTrue("\($0)".contains("_blocks.2._bn1"), "\($0)") }
        XCTAssertFalse(model.isFolded)
    }

    /// The real file's layout: a legacy (pre-zip) pickle whose conv weights are permuted views
    /// of TF-layout storage and whose classifier is a transposed view, plus int64 counters.
    func testLegacyPthWithPermutedViewsLoadsAndRuns() throws {
        let ref = try reference()
        let url = Self.folder.appendingPathComponent("model_legacy.pth")
        XCTAssertEqual(try Checkpoint.read(url).format, .torchLegacy)
        let model = try reducedModel(ref)
        for (_, tensor) in model.namedParameters + model.namedBuffers { tensor.data.update(repeating: 0, count: tensor.count) }
        try model.loadCheckpoint(url)
        let logits = withoutGradients { model(ref.tensors["input"]!) }
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, ref.tensors["logits"]!), Self.tolerance)
    }

    /// The presets reproduce the real lite0/1/2 checkpoints block by block (architectures.json
    /// was read from the real files), and the model holds exactly their tensors: parameters,
    /// BN buffers, plus one `num_batches_tracked` per BN.
    func testPresetsMatchTheRealCheckpointArchitectures() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("architectures.json"))
        let table = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(Set(table.keys), Set(EfficientNetLiteConfig.presetNames))
        for (name, entry) in table {
            let config = try EfficientNetLiteConfig.preset(name)
            let blocks = try XCTUnwrap(entry["blocks"] as? [[Int]])
            XCTAssertEqual(config.blocks.map { [$0.inChannels, $0.hiddenChannels, $0.outChannels, $0.kernelSize] }, blocks, name)
            let model = try EfficientNetLite(config, randomInit: false)
            let tensors = model.namedParameters + model.namedBuffers
            XCTAssertEqual(tensors.count + model.batchNorms.count, entry["tensors"] as? Int, name)
            XCTAssertEqual(tensors.reduce(0) { $0 + $1.tensor.count } + model.batchNorms.count, entry["elements"] as? Int, name)
        }
        var withOtherHead = try EfficientNetLiteConfig.preset("tf_efficientnet_lite0")
        withOtherHead.numClasses = 10
        let lite0Model = try EfficientNetLite(withOtherHead, randomInit: false)
        XCTAssertEqual(lite0Model.architecture, "efficientnet_lite0")
        XCTAssertEqual(lite0Model.architectureIdentity, try EfficientNetLite(try .preset("efficientnet_lite0"), randomInit: false).architectureIdentity)
        XCTAssertNotEqual(lite0Model.architectureIdentity, try EfficientNetLite(try .preset("efficientnet_lite1"), randomInit: false).architectureIdentity)
        let lite0 = try EfficientNetLiteConfig.preset("efficientnet-lite0").blocks
        XCTAssertEqual(lite0.indices.filter { lite0[$0].stride == 2 }, [1, 3, 5, 11])
        XCTAssertEqual(lite0.indices.filter { lite0[$0].hasResidual }, [2, 4, 6, 7, 9, 10, 12, 13, 14])
    }

    func testMismatchedWeightsAreReportedByKeyAndVariant() throws {
        let ref = try reference()
        let model = try reducedModel(ref)
        var state = ref.tensors.filter { $0.key.hasPrefix("_") }
        state["_blocks.4._bn0.running_var"] = nil
        state["_blocks.7._project_conv.weight"] = Tensor.zeros([3, 3, 1, 1])
        state["_blocks.16._bn1.bias"] = Tensor.zeros([4])
        XCTAssertThrowsError(try model.loadState(state)) { error in
            let text = "\(error)"
            for key in ["_blocks.4._bn0.running_var", "_blocks.7._project_conv.weight", "_blocks.16._bn1.bias"] {
                XCTAssertTrue(text.contains(key), "\(key) not named in: \(text)")
            }
        }
        // A lite1 file loaded as lite0 names the file, the surplus blocks and the variant it holds.
        let lite1 = try EfficientNetLite(try EfficientNetLiteConfig.preset("efficientnet_lite1"), randomInit: false)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-lite1-\(ProcessInfo.processInfo.processIdentifier).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: lite1.namedParameters + lite1.namedBuffers), to: file)
        XCTAssertThrowsError(try EfficientNetLite.load(model: "efficientnet_lite0", weights: file)) { error in
            let text = "\(error)"
            for part in [file.path, "_blocks.20._depthwise_conv.weight", "efficientnet_lite1"] {
                XCTAssertTrue(text.contains(part), "\(part) not in: \(text.prefix(400))")
            }
        }
    }

    func testNewHeadReplacesAClassifierThatDoesNotFit() throws {
        let ref = try reference()
        var config = try JSONDecoder().decode(EfficientNetLiteConfig.self, from: Data(ref.metadata["config"]!.utf8))
        config.numClasses = 3
        let model = try EfficientNetLite(config)
        let state = ref.tensors.filter { $0.key.hasPrefix("_") }
        XCTAssertThrowsError(try model.loadState(state)) { XCTAssertTrue("\($0)".contains("_fc.weight"), "\($0)") }
        try model.loadState(state, newHead: true)
        XCTAssertEqual(model.fc?.weight.shape, [3, 16])
        let features = withoutGradients { model.forward(ref.tensors["input"]!).features }
        XCTAssertLessThanOrEqual(maxAbsDifference(features, ref.tensors["features"]!), Self.tolerance)
        var rng = SeededRandom(seed: 3)
        model.resetHead(classes: 7, using: &rng)
        XCTAssertEqual(withoutGradients { model(ref.tensors["input"]!) }.shape, [2, 7])
    }

    /// What PEFT relies on: names reach every conv and BN, hooks run at layer and block sites,
    /// a frozen backbone gets no weight gradients while trainable BN affine parameters and the
    /// head do, and the running statistics are never parameters.
    func testSitesHooksAndFrozenBackboneGradients() throws {
        let ref = try reference()
        let model = try reducedModel(ref)
        XCTAssertEqual(model.convolutions.count, 1 + 2 + 15 * 3 + 1)
        XCTAssertEqual(model.batchNorms.count, model.convolutions.count)
        XCTAssertFalse(model.namedParameters.contains { $0.name.contains("running") })
        let expectedNames = Set(ref.tensors.keys.filter { $0.hasPrefix("_") && !$0.hasSuffix("num_batches_tracked") })
        XCTAssertEqual(Set((model.namedParameters + model.namedBuffers).map(\.name)), expectedNames)

        let input = ref.tensors["input"]!
        let plain = withoutGradients { model.forward(input, options: ForwardOptions(keepBlockOutputs: true)) }
        let blockHook = ScaleHook(0.5), convHook = ScaleHook(1)
        model.blocks[5].hooks.append(blockHook)
        model.convolutions.first { $0.name == "_conv_head" }!.layer.hooks.append(convHook)
        let hooked = withoutGradients { model.forward(input, options: ForwardOptions(keepBlockOutputs: true)) }
        XCTAssertEqual(blockHook.calls, 1)
        XCTAssertEqual(convHook.calls, 1)
        XCTAssertLessThanOrEqual(maxAbsDifference(hooked.blockOutputs[5], plain.blockOutputs[5] * 0.5), 1e-6)
        model.batchNorms[9].layer.hooks.append(ScaleHook(3))
        model.removeAllHooks()
        XCTAssertEqual(withoutGradients { model(input) }.scalars, plain.logits!.scalars)

        model.setTrainable(false)
        let bn = model.blocks[7].bn1!
        bn.weight.requiresGrad = true
        model.fc!.setTrainable(true)
        let loss = crossEntropy(model(input), targets: [1, 4])
        loss.backward()
        XCTAssertNotNil(model.fc!.weight.grad)
        XCTAssertNotNil(bn.weight.grad)
        XCTAssertNil(model.blocks[7].depthwiseConv.weight.grad)
        XCTAssertNil(bn.runningVar.grad)
    }

    func testTrainingModeIsStochasticAndEvaluationDeterministic() throws {
        let ref = try reference()
        var config = try JSONDecoder().decode(EfficientNetLiteConfig.self, from: Data(ref.metadata["config"]!.utf8))
        config.dropPathRate = 0.5
        let model = try EfficientNetLite(config)
        try model.loadState(ref.tensors.filter { $0.key.hasPrefix("_") })
        let input = ref.tensors["input"]!
        let eval = withoutGradients { model(input) }
        XCTAssertLessThanOrEqual(maxAbsDifference(eval, ref.tensors["logits"]!), Self.tolerance)
        let train = { (seed: UInt64) in withoutGradients { model.forward(input, options: ForwardOptions(training: true), rng: SeededRandom(seed: seed)).logits! } }
        XCTAssertGreaterThan(maxAbsDifference(train(1), eval), 1e-3)
        XCTAssertEqual(train(2).scalars, train(2).scalars)
    }

    // MARK: real weights (present after scripts/assets/fetch_assets.sh + make_efficientnet_fixtures.py)

    static let realWeights = [
        ("efficientnet_lite0", "efficientnet-lite0-57934424.pth", "reference_lite0.safetensors"),
        ("efficientnet_lite1", "efficientnet-lite1-77cc7160.pth", "reference_lite1.safetensors"),
        ("efficientnet_lite2", "efficientnet-lite2-9656183e.pth", "reference_lite2.safetensors"),
    ]
    static let sampleImages = ["coffee", "chelsea", "dog", "eagle"]

    /// The real ImageNet weights from the legacy .pth files (strict load, permuted storage) on
    /// the four sample images preprocessed by PIL in make_efficientnet_fixtures.py: logits as
    /// torch computes them for lite0/1/2, and lite0's known top-1 classes (docs/protocols.md,
    /// "Demo and test assets").
    func testPretrainedWeightsMatchTorchAndClassifySampleImages() throws {
        let folder = Self.assets.appendingPathComponent("efficientnet")
        let classesURL = Self.assets.appendingPathComponent("imagenet_classes.txt")
        let present = Self.realWeights.filter { _, weights, reference in
            [weights, reference].allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        }
        guard !present.isEmpty, FileManager.default.fileExists(atPath: classesURL.path) else {
            print("EfficientNetLiteTests: skipping the real-weight checks: run scripts/assets/fetch_assets.sh and "
                  + "scripts/reference/make_efficientnet_fixtures.py to fill assets/efficientnet/")
            return
        }
        let classes = try String(contentsOf: classesURL, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(classes.count, 1000)
        let input = concat(try Self.sampleImages.map { name in
            let url = folder.appendingPathComponent("preprocessed/\(name).npy")
            return try NumpyArray(parsing: Data(contentsOf: url), file: url.path).tensor
        }, dim: 0)
        for (preset, weights, reference) in present {
            let ref = try SafeTensors.read(folder.appendingPathComponent(reference))
            XCTAssertEqual(input.scalars, ref.tensors["input"]!.scalars, "\(reference): input differs from the preprocessed .npy files")
            let model = try EfficientNetLite.load(model: preset, weights: folder.appendingPathComponent(weights))
            let out = withoutGradients { model.forward(input) }
            let logits = try XCTUnwrap(out.logits)
            let logitDiff = maxAbsDifference(logits, ref.tensors["logits"]!)
            let featureDiff = maxAbsDifference(out.features, ref.tensors["features"]!)
            print("EfficientNetLite real \(preset) vs torch: max |Δ| logits \(logitDiff), features \(featureDiff)")
            XCTAssertLessThanOrEqual(logitDiff, 1e-3, preset)
            XCTAssertLessThanOrEqual(featureDiff, 1e-3, preset)
            let probabilities = logits.softmax(dim: -1)
            for (row, image) in Self.sampleImages.enumerated() {
                let p = Array(probabilities.scalars[(row * 1000)..<((row + 1) * 1000)])
                let best = p.indices.max { p[$0] < p[$1] }!
                print(String(format: "EfficientNetLite real %@: %@ → %@ (p = %.3f)", preset, image, classes[best], p[best]))
                guard preset == "efficientnet_lite0" else { continue }
                let expected: Set<String> = ["coffee": ["espresso"], "chelsea": ["tiger cat", "tabby"], "dog": ["malamute"], "eagle": ["kite"]][image]!
                XCTAssertTrue(expected.contains(classes[best]), "\(image): top-1 \(classes[best]) (p \(p[best]))")
                if image == "coffee" { XCTAssertEqual(p[best], 0.95, accuracy: 0.02) }
            }
        }
    }
}

/// Scales a layer's output and counts its calls.
private final class ScaleHook: LayerHook {
    let factor: Float
    var calls = 0
    init(_ factor: Float) { self.factor = factor }
    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        calls += 1
        return next(x) * factor
    }
}

private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    var worst: Float = 0
    for i in 0..<a.count {
        let d = Swift.abs(a.data[i] - b.data[i])
        if !(d <= worst) { worst = d }  // NaN propagates
    }
    return worst
}
