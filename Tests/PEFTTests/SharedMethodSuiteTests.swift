import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// The suite every method runs through on every tiny backbone (ViT, Swin, VideoMAE, EfficientNet-Lite;
/// TinyBackbones.swift), as Hugging Face PEFT's test matrix: a method attaches or refuses the
/// backbone by name, gradients reach exactly its trainable tensors, frozen tensors stay
/// bit-identical through training steps, identity at init where it claims it, merged logits equal
/// unmerged ones (and the merged backbone reloads as a plain one), removeAllHooks gives the plain
/// backbone back, adapter files round-trip bit-exactly. Backbone-specific checks stay in
/// MethodSuiteTests (ViT), SwinMethodTests and CNNMethodTests.
final class SharedMethodSuiteTests: XCTestCase {
    func testEveryMethodAttachesOrRefusesTheBackboneByName() throws {
        for backbone in TinyBackbone.all {
            var attached = 0
            for name in MethodRegistry.names {
                do {
                    _ = try backbone.model(name)
                    attached += 1
                } catch {
                    let architecture = try backbone.make().architecture
                    XCTAssertTrue("\(error)".hasPrefix(name) && "\(error)".contains(architecture), "\(backbone.name) \(name): \(error)")
                }
            }
            XCTAssertGreaterThanOrEqual(attached, 8, backbone.name)
        }
    }

    func testGradientsReachExactlyTheTrainableTensors() throws {
        for backbone in TinyBackbone.all {
            for name in backbone.supportedMethods() {
                let model = try backbone.model(name)
                perturbMethodTensors(model)
                crossEntropy(model.forward(backbone.images()).logits!, targets: [1, 3]).backward()
                let trainable = Set(model.trainableTensors.map { ObjectIdentifier($0.tensor) })
                for (tensorName, t) in model.trainableTensors {
                    XCTAssertNotNil(t.grad, "\(backbone.name) \(name): trainable \(tensorName) got no gradient")
                    // A key bias shared by all keys shifts every score equally: softmax ignores it
                    // (HST's side attention has one, as the official code; its gradient is 0 up to rounding).
                    let zeroByDefinition = name == "hst" && tensorName.hasSuffix("attn.k.bias")
                    if let g = t.grad, !zeroByDefinition {
                        XCTAssertTrue(g.scalars.contains { $0 != 0 }, "\(backbone.name) \(name): gradient of \(tensorName) is all zero")
                    }
                }
                for (tensorName, t) in model.backbone.namedParameters where !trainable.contains(ObjectIdentifier(t)) {
                    XCTAssertNil(t.grad, "\(backbone.name) \(name): frozen \(tensorName) got a gradient")
                }
            }
        }
    }

    func testFrozenTensorsAreBitIdenticalAfterTraining() throws {
        for backbone in TinyBackbone.all {
            for name in backbone.supportedMethods() {
                let model = try backbone.model(name)
                let trainable = Set(model.trainableTensors.map { ObjectIdentifier($0.tensor) })
                let frozen = model.backbone.namedParameters.filter { !trainable.contains(ObjectIdentifier($0.tensor)) }
                let before = frozen.map { $0.tensor.scalars.map(\.bitPattern) }
                let optimizer = AdamW([ParameterGroup(model.trainableTensors.map(\.tensor), weightDecay: 0.05)], learningRate: 1e-2)
                for step in 0..<3 {
                    let logits = model.forward(backbone.images(UInt64(step)), options: ForwardOptions(training: true), rng: SeededRandom(seed: UInt64(step))).logits!
                    crossEntropy(logits, targets: [0, 4]).backward()
                    optimizer.step()
                    optimizer.zeroGrad()
                }
                for ((tensorName, t), old) in zip(frozen, before) {
                    XCTAssertEqual(t.scalars.map(\.bitPattern), old, "\(backbone.name) \(name): frozen \(tensorName) changed")
                }
            }
        }
    }

    func testIdentityMethodsLeaveTheFunctionUnchangedAtInit() throws {
        for backbone in TinyBackbone.all {
            let x = backbone.images()
            let reference = withoutGradients { try! backbone.make().forward(x).features }
            for name in backbone.supportedMethods() where MethodSuiteTests.identityAtInit.contains(name) {
                let features = withoutGradients { try! backbone.model(name).forward(x).features }
                assertClose(features, reference, atol: 1e-5, "\(backbone.name) \(name) features at init")
            }
        }
    }

    func testMergedAndUnmergedLogitsAgree() throws {
        for backbone in TinyBackbone.all {
            let x = backbone.images()
            for name in backbone.supportedMethods() where try MethodRegistry.type(named: name).mergeable {
                let model = try backbone.model(name)
                perturbMethodTensors(model)
                let before = withoutGradients { model(x) }
                try model.merge()
                XCTAssertTrue(model.methodTensors.isEmpty, "\(backbone.name) \(name)")
                assertClose(withoutGradients { model(x) }, before, atol: 1e-5, relative: 1e-5, "\(backbone.name) \(name) merged logits")
                // The merged backbone is a plain one: its state dict loads into a fresh one.
                let fresh = try backbone.make()
                var bank = SeededRandom(seed: 1)
                fresh.resetHead(classes: 5, using: &bank)
                try fresh.load(model.backbone.stateDict)
                assertClose(withoutGradients { fresh.forward(x).logits! }, before, atol: 1e-5, relative: 1e-5, "\(backbone.name) \(name) reloaded merged logits")
            }
        }
    }

    func testRemovingAllHooksRestoresThePlainBackbone() throws {
        for backbone in TinyBackbone.all {
            let x = backbone.images()
            let plain = withoutGradients { try! backbone.make().forward(x).features }
            for name in backbone.supportedMethods() {
                let model = try backbone.model(name)
                // A head made for a side network's features (HST) has no plain backbone to fit.
                guard model.backbone.head?.inFeatures == model.backbone.numFeatures else { continue }
                perturbMethodTensors(model)
                model.backbone.removeAllHooks()
                XCTAssertEqual(withoutGradients { model.backbone.forward(x).features }.scalars, plain.scalars, "\(backbone.name) \(name): hooks left after removeAllHooks")
            }
        }
    }

    func testNonMergeableMethodsRefuseToMerge() throws {
        for backbone in TinyBackbone.all {
            for name in backbone.supportedMethods() where !(try MethodRegistry.type(named: name).mergeable) {
                XCTAssertThrowsError(try backbone.model(name).merge(), "\(backbone.name) \(name)")
            }
        }
    }

    func testSaveLoadRoundTripIsBitExact() throws {
        for backbone in TinyBackbone.all {
            try assertAdapterRoundTripIsBitExact(methods: backbone.supportedMethods(), options: backbone.options, backbone: backbone.make, images: backbone.images())
        }
    }
}
