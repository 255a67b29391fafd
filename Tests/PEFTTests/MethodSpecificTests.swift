import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Checks that belong to one method's definition rather than to the shared suite (on the
/// suite's tiny backbone).
extension MethodSuiteTests {
    /// Side networks read the backbone and never write it: no block output before the side
    /// network's last contact is part of the autodiff graph, so the backbone records no
    /// activation for backward and its outputs are cacheable.
    func testSideNetworksLeaveTheBackboneOutOfTheGraph() throws {
        // (method, blocks whose output the method writes back)
        for (name, written) in [("lst", 0), ("last", 1)] {
            let model = try tinyModel(name)
            perturbMethodTensors(model)
            let out = model.forward(images(), options: ForwardOptions(keepBlockOutputs: true))
            let untouched = out.blockOutputs.dropLast(written)
            XCTAssertFalse(untouched.isEmpty, name)
            for (l, h) in untouched.enumerated() { XCTAssertFalse(h.requiresGrad, "\(name): block \(l)'s output is in the graph") }
            XCTAssertTrue(out.logits!.requiresGrad, "\(name): the side network is trained")
            XCTAssertTrue(type(of: model.method).cacheable, name)
        }
        // A method that writes into the backbone (LoRA) does put block outputs in the graph.
        let lora = try tinyModel("lora")
        XCTAssertTrue(lora.forward(images(), options: ForwardOptions(keepBlockOutputs: true)).blockOutputs[0].requiresGrad)
    }

    /// Every released NOAH subnet has the count of docs/methods.md's formula ("NOAH") on ViT-B/16
    /// (768·p + 3072·r + [a > 0](1537·a + 768) per layer), e.g. cifar100 320,330.
    func testNOAHReleasedSubnetsOnViTB16() throws {
        var config = try VisionTransformerConfig.preset("vit_base_patch16_224")
        config.numClasses = 0
        let expected = ["caltech101": 426_313, "cifar100": 320_330, "dtd": 287_298, "svhn": 431_686, "sun397": 287_278, "smallnorb_azi": 291_877]
        for (subnet, count) in expected {
            let model = try PEFTModel(backbone: try VisionTransformer(config, randomInit: false),
                                      method: try MethodRegistry.method(named: "noah", options: ["subnet": subnet]), classes: 10)
            XCTAssertEqual(model.trainableParameterCount(), count, subnet)
        }
        XCTAssertThrowsError(try MethodRegistry.method(named: "noah", options: ["subnet": "imagenet"]).validate(for: try VisionTransformer(config, randomInit: false))) {
            XCTAssertTrue("\($0)".contains("'subnet' = imagenet") && "\($0)".contains("cifar100"), "\($0)")
        }
        XCTAssertThrowsError(try MethodRegistry.method(named: "noah", options: ["prompts": [1, 2], "ranks": [1], "adapter_dims": [1, 1]]).validate(for: try VisionTransformer(config, randomInit: false))) {
            XCTAssertTrue("\($0)".contains("'prompts'") && "\($0)".contains("one entry per block (12)"), "\($0)")
        }
    }

    /// KAdaptation's released code zero-initialised both per-layer factors, so no gradient ever
    /// reached them; here u starts random and v zero: the update starts at zero yet v learns.
    func testKAdaptationFactorsLearnFromZeroUpdate() throws {
        let model = try tinyModel("kadaptation")
        let logits = model.forward(images()).logits!
        crossEntropy(logits, targets: [1, 3]).backward()
        let named = Dictionary(uniqueKeysWithValues: model.methodTensors.map { ($0.name, $0.tensor) })
        let v = try XCTUnwrap(named["blocks.0.attn.qkv.kadaptation_v.q"]), u = try XCTUnwrap(named["blocks.0.attn.qkv.kadaptation_u.q"])
        XCTAssertTrue(v.scalars.allSatisfy { $0 == 0 } && u.scalars.contains { $0 != 0 })
        XCTAssertTrue(v.grad!.scalars.contains { $0 != 0 }, "v gets a gradient at init")
    }

    /// HST's BatchNorms normalise with the batch's statistics while training (the head norm's
    /// output then has mean 0, variance 1 per channel) and move their running statistics, which
    /// evaluation uses and leaves alone.
    func testHSTBatchNormsTrainOnBatchStatistics() throws {
        let model = try tinyModel("hst")
        perturbMethodTensors(model)   // features that differ well beyond the BatchNorm's eps
        let state = Dictionary(uniqueKeysWithValues: model.stateTensors.map { ($0.name, $0.tensor) })
        let runningMean = try XCTUnwrap(state["hst.head_norm.running_mean"])
        _ = withoutGradients { model.forward(images()) }
        XCTAssertTrue(runningMean.scalars.allSatisfy { $0 == 0 }, "evaluation leaves the running statistics")
        let features = withoutGradients { model.forward(images(), options: ForwardOptions(training: true)).features }
        let (b, c) = (features.shape[0], features.shape[1])
        for j in 0..<c {
            let column = (0..<b).map { features.scalars[$0 * c + j] }
            let mean = column.reduce(0, +) / Float(b)
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(b), 1, accuracy: 1e-3)
        }
        XCTAssertTrue(runningMean.scalars.contains { $0 != 0 }, "training moves the running statistics")
        XCTAssertTrue(try XCTUnwrap(state["hst.stem.bn.running_var"]).scalars.contains { $0 != 1 })
    }

    /// A calibrated selection read back from a damaged adapter file is refused with the tensor's
    /// name instead of indexing out of range later.
    func testDamagedCalibratedStateIsAnErrorNamingTheTensor() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-state-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (method, stateName, bad) in [("sct", "blocks.1.sct.channels", Float(99)), ("gps", "blocks.0.mlp.fc2.gps_columns", Float(-1)),
                                         ("hst", "hst.head_norm.running_var", Float.nan)] {
            let model = try tinyModel(method)
            try AdapterFile.save(model, backboneFingerprint: Fingerprint.of(try tinyBackbone()), to: folder)
            let url = folder.appendingPathComponent("adapter.safetensors")
            let tensors = try SafeTensors.read(url).tensors
            tensors[stateName]!.data[0] = bad
            try SafeTensors.write(tensors, metadata: ["format": AdapterFile.format], to: url)
            XCTAssertThrowsError(try AdapterFile.load(folder, onto: try tinyBackbone())) {
                XCTAssertTrue("\($0)".contains(stateName) && "\($0)".contains(url.path), "\(method): \($0)")
            }
        }
    }
}


/// The method options the `official` recipes set (configs/methods/*.yaml, docs/fidelity.md).
extension MethodSuiteTests {
    /// Hydra at the official rank 2 and AdaptFormer without its LayerNorm, on ViT-B/16.
    func testOfficialRecipeParameterCountsOnViTB16() throws {
        var config = try VisionTransformerConfig.preset("vit_base_patch16_224")
        config.numClasses = 0
        for (name, options, count) in [("hydra", ["rank": 2], 239_712), ("adaptformer", ["layernorm": false, "scale": 0.1], 156_768)] as [(String, [String: Any], Int)] {
            let model = try PEFTModel(backbone: try VisionTransformer(config, randomInit: false), method: try MethodRegistry.method(named: name, options: options), classes: 100)
            XCTAssertEqual(model.trainableParameterCount(), count, name)
        }
    }

    /// AdaptFormer without the LayerNorm registers no norm, and with the same bottleneck values
    /// computes something else than with it (the bottleneck reads the raw stream).
    func testAdaptFormerWithoutLayerNorm() throws {
        let options: [String: Any] = ["dim": 4, "scale": 0.7]
        let with = try PEFTModel(backbone: try tinyBackbone(), method: try MethodRegistry.method(named: "adaptformer", options: options), classes: 5, seed: 3)
        let without = try PEFTModel(backbone: try tinyBackbone(), method: try MethodRegistry.method(named: "adaptformer", options: options.merging(["layernorm": false]) { $1 }), classes: 5, seed: 3)
        XCTAssertFalse(without.methodTensors.contains { $0.name.contains(".norm.") })
        XCTAssertEqual(with.methodTensors.count - without.methodTensors.count, 2 * (try tinyBackbone()).blocks.count)
        let x = images()
        XCTAssertEqual(with.forward(x).logits!.scalars, without.forward(x).logits!.scalars, "identity at init either way (up = 0)")
        perturbMethodTensors(without)
        let shared = Dictionary(uniqueKeysWithValues: without.methodTensors.map { ($0.name, $0.tensor) })
        for (name, t) in with.methodTensors { if let v = shared[name] { t.data.update(from: v.scalars, count: t.count) } }
        XCTAssertNotEqual(with.forward(x).logits!.scalars, without.forward(x).logits!.scalars)
    }

    /// SCT's `weight_init: trunc_normal` draws W from trunc-normal(0.02) (SCT's released model);
    /// the default keeps W = 0 (identity at init).
    func testSCTWeightInit() throws {
        for (initName, zero) in [("zero", true), ("trunc_normal", false)] {
            let model = try PEFTModel(backbone: try tinyBackbone(), method: try MethodRegistry.method(named: "sct", options: ["channels": 8, "weight_init": initName]), classes: 5, seed: 3)
            let weights = model.methodTensors.filter { $0.name.hasSuffix("sct.weight") }.flatMap { $0.tensor.scalars }
            XCTAssertFalse(weights.isEmpty)
            if zero {
                XCTAssertTrue(weights.allSatisfy { $0 == 0 })
            } else {
                let std = (weights.map { $0 * $0 }.reduce(0, +) / Float(weights.count)).squareRoot()
                XCTAssertEqual(std, 0.02, accuracy: 0.004, "std of \(weights.count) draws")
                XCTAssertTrue(weights.allSatisfy { abs($0) <= 2 }, "timm's absolute bounds ±2")
            }
            XCTAssertTrue(model.methodTensors.filter { $0.name.hasSuffix("sct.bias") }.allSatisfy { $0.tensor.scalars.allSatisfy { $0 == 0 } })
        }
        XCTAssertThrowsError(try MethodRegistry.method(named: "sct", options: ["weight_init": "xavier"]).validate(for: try tinyBackbone())) {
            XCTAssertTrue("\($0)".contains("weight_init"), "\($0)")
        }
    }
}
