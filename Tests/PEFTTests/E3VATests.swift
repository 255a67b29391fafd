import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// E3VA (a reconstruction, Sources/PEFT/Methods/E3VA.swift) on the tiny timm-checked Swin of
/// SwinMethodTests (36 px, three stages, odd maps that PatchMerging pads): the frozen backbone
/// records no graph and receives no gradient, the highway starts as the backbone's stream,
/// gradients match finite differences, the Swin-B count matches the paper, other backbones refuse.
final class E3VATests: XCTestCase {
    private func swin() throws -> SwinTransformer {
        try SwinTransformer.load(model: SwinMethodTests.folder.path, numClasses: 3)
    }

    private func model(_ method: String = E3VA.name, seed: UInt64 = 4) throws -> PEFTModel {
        try PEFTModel(backbone: try swin(), method: try MethodRegistry.method(named: method), classes: 3, seed: seed)
    }

    private func images() -> Tensor {
        var rng = SeededRandom(seed: 9)
        return Tensor.normal([2, 3, 36, 36], using: &rng)
    }

    func testRefusesBackbonesWithoutSwinStages() throws {
        let vit = try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path)
        XCTAssertThrowsError(try PEFTModel(backbone: vit, method: E3VA(), classes: 3)) { error in
            XCTAssertTrue("\(error)".contains("e3va is defined for Swin backbones"), "\(error)")
        }
    }

    /// Two dual low-rank adapters per block, α(3kC + 2k²) + 3C/2 each, and the trainable norm.
    func testParameterCountMatchesThePaperOnSwinB() throws {
        for (preset, adapters) in [("swin_base_patch4_window7_224", 1_203_456), ("swin_large_patch4_window7_224", 1_799_040)] {
            var config = try SwinTransformerConfig.preset(preset)
            config.numClasses = 0
            let backbone = try SwinTransformer(config, randomInit: false)
            let peft = try PEFTModel(backbone: backbone, method: E3VA(), classes: 100)
            let perBlock = backbone.layers.enumerated().reduce(0) { sum, stage in
                let c = config.stageDim(stage.offset)
                return sum + stage.element.blocks.count * 2 * (2 * (3 * 8 * c + 2 * 64) + 3 * c / 2)
            }
            XCTAssertEqual(perBlock, adapters, preset)
            XCTAssertEqual(peft.trainableParameterCount(), adapters + 2 * config.numFeatures, preset)
        }
    }

    /// Up-projections start with zero K factors: the highway is the backbone's stream, so the
    /// model is the frozen backbone under the same new head (linear probing with the same seed).
    func testAtInitTheModelIsTheFrozenBackboneWithANewHead() throws {
        let x = images()
        let e3va = withoutGradients { try! model()(x) }
        let linear = withoutGradients { try! model(LinearProbing.name)(x) }
        for (a, b) in zip(e3va.scalars, linear.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }

    /// The backbone stream never carries a graph (no op on it records, so no activation is kept
    /// for backward), no backbone tensor gets a gradient, and every E3VA tensor does.
    func testBackboneRecordsNoGraphAndReceivesNoGradient() throws {
        let peft = try model()
        perturbMethodTensors(peft)
        let out = peft.forward(images(), options: ForwardOptions(training: true, keepBlockOutputs: true), rng: SeededRandom(seed: 1))
        XCTAssertEqual(out.blockOutputs.count, 6)
        for (k, block) in out.blockOutputs.enumerated() { XCTAssertFalse(block.requiresGrad, "block \(k) output records a graph") }
        XCTAssertFalse(out.tokens.requiresGrad)
        let logits = try XCTUnwrap(out.logits)
        XCTAssertTrue(logits.requiresGrad)
        crossEntropy(logits, targets: [0, 2]).backward()
        for (name, tensor) in peft.backbone.namedParameters where !name.hasPrefix("head.") {
            XCTAssertFalse(tensor.requiresGrad, name)
            XCTAssertNil(tensor.grad, "\(name) received a gradient")
        }
        for (name, tensor) in peft.methodTensors {
            let grad = try XCTUnwrap(tensor.grad, name)
            XCTAssertGreaterThan(grad.scalars.map(abs).max() ?? 0, 0, name)
        }
    }

    /// Central differences of a fixed linear function of the logits, for entries of every kind of
    /// tensor in every stage (the last stage's gradients cross two inherited PatchMergings).
    func testGradientsMatchFiniteDifferences() throws {
        let peft = try model()
        perturbMethodTensors(peft)
        let x = images()
        var rng = SeededRandom(seed: 3)
        let weights = Tensor.normal([2, 3], using: &rng)
        func objective() -> Tensor { (peft(x) * weights).sum() }
        objective().backward()
        let probed = peft.methodTensors.filter { name, _ in
            name.hasPrefix("e3va.") || name.contains("blocks.0.") && (name.hasSuffix(".0") || name.hasSuffix(".bias"))
        }
        XCTAssertGreaterThan(probed.count, 30)
        for (name, tensor) in probed {
            let index = Int(rng.nextUniform() * Float(tensor.count)) % tensor.count
            let analytic = tensor.grad!.data[index]
            let original = tensor.data[index], step: Float = 1e-2
            tensor.data[index] = original + step
            let plus = withoutGradients { objective().scalars[0] }
            tensor.data[index] = original - step
            let minus = withoutGradients { objective().scalars[0] }
            tensor.data[index] = original
            let numeric = (plus - minus) / (2 * step)
            XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(index)]")
        }
    }

    /// scripts/reference/make_e3va_fixtures.py: the same definition over timm's Swin modules (no
    /// hooks; the attention branch from timm's own window code), every tensor random.
    func testMatchesThePyTorchReference() throws {
        let file = try SafeTensors.read(PyTorchReferenceTests.fixtures.appendingPathComponent("swin/e3va.safetensors"))
        let options = try JSONSerialization.jsonObject(with: Data(file.metadata["options"]!.utf8)) as! [String: Any]
        let peft = try PEFTModel(backbone: try swin(), method: try MethodRegistry.method(named: file.metadata["method"]!, options: options), classes: 3)
        let reference = Set(file.names.filter { !$0.hasPrefix("grad.") && !["input", "labels", "logits", "loss"].contains($0) })
        XCTAssertEqual(Set(peft.trainableTensors.map(\.name)), reference, "trainable tensor names")
        for (name, tensor) in peft.trainableTensors {
            let value = try XCTUnwrap(file.tensors[name], name)
            XCTAssertEqual(value.shape, tensor.shape, name)
            tensor.data.update(from: value.data, count: tensor.count)
        }
        let logits = peft.forward(file.tensors["input"]!).logits!
        assertClose(logits, file.tensors["logits"]!, atol: 2e-5, relative: 2e-5, "logits")
        let loss = crossEntropy(logits, targets: file.tensors["labels"]!.scalars.map { Int($0) })
        XCTAssertEqual(loss.item, file.tensors["loss"]!.item, accuracy: 2e-5, "loss")
        loss.backward()
        for (name, tensor) in peft.trainableTensors {
            assertClose(try XCTUnwrap(tensor.grad, name), try XCTUnwrap(file.tensors["grad.\(name)"], name), atol: 1e-5, relative: 1e-4, "gradient of \(name)")
        }
    }

    /// A few AdamW steps on one batch: the loss falls, the backbone stays bit-identical.
    func testTrainingLowersTheLossAndLeavesTheBackboneUnchanged() throws {
        let peft = try model()
        let frozen = peft.backbone.namedParameters.filter { !$0.name.hasPrefix("head.") }
        let before = frozen.map { $0.tensor.scalars.map(\.bitPattern) }
        let optimizer = AdamW([ParameterGroup(peft.trainableTensors.map(\.tensor), weightDecay: 0.05)], learningRate: 1e-2)
        var losses: [Float] = []
        for step in 0..<6 {
            let logits = peft.forward(images(), options: ForwardOptions(training: true), rng: SeededRandom(seed: UInt64(step))).logits!
            let loss = crossEntropy(logits, targets: [1, 2])
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
        }
        XCTAssertLessThan(losses.last!, losses.first!, "\(losses)")
        for ((name, tensor), old) in zip(frozen, before) { XCTAssertEqual(tensor.scalars.map(\.bitPattern), old, "\(name) changed") }
    }

    func testRefusesToMerge() throws {
        XCTAssertThrowsError(try model().merge()) { error in XCTAssertTrue("\(error)".contains("e3va cannot be merged"), "\(error)") }
    }

    func testFrozenBlocksRunWithoutDropPath() throws {
        let peft = try model()
        peft.setDropPathRate(0.3)
        let swin = try XCTUnwrap(peft.backbone as? SwinTransformer)
        XCTAssertEqual(swin.blocks.map(\.dropPath), Array(repeating: 0, count: swin.blocks.count))
    }

    func testAdapterRoundTripIsBitExact() throws {
        try assertAdapterRoundTripIsBitExact(methods: [E3VA.name], options: [:], backbone: { try SwinTransformer.load(model: SwinMethodTests.folder.path) },
                                             images: images())
    }
}
