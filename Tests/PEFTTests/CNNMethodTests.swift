import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// The methods that apply to a CNN, on the reduced-width EfficientNet-Lite of
/// Tests/ModelsTests/Fixtures/efficientnet (16 MBConv blocks, torch-checked weights and BN
/// statistics): counts by formula (and on full-size Lite0), buffers, frozen tensors, exact
/// identity at init, merge with its hook and buffer checks, adapter-file refusals (gradient flow
/// and save/load: SharedMethodSuiteTests); ViT-only methods refuse the CNN by name;
/// `visual_prompt` on the tiny ViT, with a finite-difference check of its prompt.
final class CNNMethodTests: XCTestCase {
    static let effnetFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/efficientnet")
    static let reference = try! SafeTensors.read(effnetFolder.appendingPathComponent("reference.safetensors"))

    /// Methods defined on EfficientNet-Lite, with options that make them non-trivial.
    static let cnnMethods = ["full", "linear", "bitfit", "ln_tune", "ssf", "lora", "adapter", "visual_prompt"]
    static let cnnOptions: [String: [String: Any]] = [
        "lora": ["rank": 2, "alpha": 3, "targets": ["expand", "project", "conv_head"]], "adapter": ["dim": 3],
    ]
    static let vitOnly = ["partial", "adaptformer", "dora", "vpt_shallow", "vpt_deep", "prefix", "fact_tt", "fact_tk", "rep_adapter", "convpass", "difffit", "vera", "hydra", "patt", "bapat", "snf", "lorand", "u_tuning", "mona", "dtl", "kadaptation", "noah", "lst", "last", "sct", "gps", "hst"]

    func tinyCNN() throws -> EfficientNetLite { try TinyBackbone.tinyEfficientNet() }

    func cnnModel(_ name: String, options: [String: Any]? = nil, initStyle: InitStyle = .intended, seed: UInt64 = 3) throws -> PEFTModel {
        let method = try MethodRegistry.method(named: name, options: options ?? Self.cnnOptions[name] ?? [:])
        return try PEFTModel(backbone: try tinyCNN(), method: method, classes: 5, initStyle: initStyle, seed: seed)
    }

    func images(_ seed: UInt64 = 5, size: Int = 40) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.normal([2, 3, size, size], using: &rng)
    }

    func testEveryRegisteredMethodIsClassified() {
        XCTAssertEqual(Set(Self.cnnMethods + Self.vitOnly).union(MethodSuiteTests.swinOnly), Set(MethodRegistry.names))
        XCTAssertTrue(try MethodRegistry.method(named: "norm_tune") is LayerNormTuning, "norm_tune is an alias of ln_tune")
    }

    // MARK: - Parameter counts

    /// Counts by the formulas of the method headers, from the architecture alone.
    func expectedCounts(_ net: EfficientNetLite, loraRank r: Int, loraAll: Bool, adapterDim dim: Int, pad: Int) -> [String: Int] {
        let c = net.config, specs = c.blocks
        let bnChannels = c.stemSize + specs.reduce(0) { $0 + ($1.expandRatio != 1 ? $1.hiddenChannels : 0) + $1.hiddenChannels + $1.outChannels } + c.numFeatures
        let head = net.head.map { $0.parameterCount } ?? 0
        var lora = r * specs.reduce(0) { $0 + $1.hiddenChannels + $1.outChannels }                       // project
        if loraAll {
            lora += r * specs.filter { $0.expandRatio != 1 }.reduce(0) { $0 + $1.inChannels + $1.hiddenChannels }  // expand
            lora += r * (c.headInChannels + c.numFeatures)                                                      // conv_head
        }
        let adapter = specs.reduce(0) { total, s in
            let source = s.stride == 1 ? s.inChannels : s.outChannels
            return total + source * dim + dim + dim * s.outChannels + s.outChannels
        }
        return ["full": net.parameterCount - head, "linear": 0, "bitfit": bnChannels, "ln_tune": 2 * bnChannels,
                "ssf": 2 * bnChannels + 2 * c.numFeatures, "lora": lora, "adapter": adapter,
                "visual_prompt": 12 * pad * (c.imageSize - pad)]
    }

    func testParameterCountsFollowTheFormulas() throws {
        let plain = try tinyCNN()
        let expected = expectedCounts(plain, loraRank: 2, loraAll: true, adapterDim: 3, pad: 5)   // pad: round(30·40/224) = 5
        for name in Self.cnnMethods {
            let model = try cnnModel(name)
            XCTAssertEqual(model.trainableParameterCount(), expected[name], name)
            XCTAssertEqual(model.trainableParameterCount(includingHead: true), expected[name]! + 16 * 5 + 5, "\(name) with head")
        }
        XCTAssertEqual(try cnnModel("lora", options: ["rank": 2]).trainableParameterCount(),
                       expectedCounts(plain, loraRank: 2, loraAll: false, adapterDim: 3, pad: 5)["lora"], "lora default targets = project convs")
    }

    /// The numbers of the method headers and the demo: full-size Lite0, new head of 10 classes.
    func testParameterCountsOnFullSizeLite0() throws {
        let lite0: [String: Int] = ["full": 3_371_008, "linear": 0, "bitfit": 21_008, "ln_tune": 42_016, "ssf": 44_576,
                                    "lora": 86_144, "adapter": 29_712, "visual_prompt": 69_840]
        let config = try EfficientNetLiteConfig.preset("efficientnet_lite0")
        let shape = try EfficientNetLite(config, randomInit: false)
        XCTAssertEqual(expectedCounts(shape, loraRank: 8, loraAll: false, adapterDim: 8, pad: 30), lite0, "the header formulas")
        var lines: [String] = []
        for name in Self.cnnMethods {
            let model = try PEFTModel(backbone: try EfficientNetLite(config, randomInit: false), method: try MethodRegistry.method(named: name), classes: 10)
            XCTAssertEqual(model.trainableParameterCount(), lite0[name], name)
            XCTAssertEqual(model.trainableParameterCount(includingHead: true), lite0[name]! + 12_810, "\(name) with head")
            lines.append("\(name) \(model.trainableParameterCount()) (+head \(model.trainableParameterCount(includingHead: true)))")
        }
        let all = try PEFTModel(backbone: try EfficientNetLite(config, randomInit: false),
                                method: try MethodRegistry.method(named: "lora", options: ["targets": ["expand", "project", "conv_head"]]), classes: 10)
        XCTAssertEqual(all.trainableParameterCount(), 86_144 + 83_328 + 12_800)
        print("CNN methods on efficientnet_lite0, 10 classes: " + lines.joined(separator: ", "))
    }

    // MARK: - Gradient flow and frozen tensors

    /// The BatchNorm statistics are buffers: no method trains them or sends them a gradient
    /// (gradient flow to the parameters: SharedMethodSuiteTests).
    func testBuffersNeverTrain() throws {
        for name in Self.cnnMethods {
            let model = try cnnModel(name)
            perturbMethodTensors(model)
            crossEntropy(model.forward(images()).logits!, targets: [1, 3]).backward()
            for (tensorName, t) in (model.backbone as! EfficientNetLite).namedBuffers {
                XCTAssertFalse(t.requiresGrad, "\(name): buffer \(tensorName) trains")
                XCTAssertNil(t.grad, "\(name): buffer \(tensorName) got a gradient")
            }
        }
    }

    func testFrozenTensorsAndBuffersAreBitIdenticalAfterTraining() throws {
        for name in Self.cnnMethods {
            let model = try cnnModel(name)
            let net = model.backbone as! EfficientNetLite
            let trainable = Set(model.trainableTensors.map { ObjectIdentifier($0.tensor) })
            let frozen = net.namedParameters.filter { !trainable.contains(ObjectIdentifier($0.tensor)) } + net.namedBuffers
            let before = frozen.map { $0.tensor.scalars.map(\.bitPattern) }
            let trained = model.trainableTensors.map { $0.tensor.scalars }
            let optimizer = AdamW([ParameterGroup(model.trainableTensors.map(\.tensor), weightDecay: 0.05)], learningRate: 1e-2)
            for step in 0..<3 {
                let logits = model.forward(images(UInt64(step)), options: ForwardOptions(training: true), rng: SeededRandom(seed: UInt64(step))).logits!
                crossEntropy(logits, targets: [0, 4]).backward()
                optimizer.step()
                optimizer.zeroGrad()
            }
            for ((tensorName, t), old) in zip(frozen, before) {
                XCTAssertEqual(t.scalars.map(\.bitPattern), old, "\(name): frozen \(tensorName) changed")
            }
            for ((tensorName, t), old) in zip(model.trainableTensors, trained) {
                XCTAssertNotEqual(t.scalars, old, "\(name): trainable \(tensorName) did not move")
            }
        }
    }

    func testIdentityAtInit() throws {
        let x = images()
        let reference = withoutGradients { try! tinyCNN().forward(x).features }
        for name in ["full", "linear", "bitfit", "ln_tune", "lora", "adapter", "ssf"] {
            let model = try cnnModel(name)
            if name == "ssf" {   // γ = 1, β = 0 forced (its init is N(1, 0.02), N(0, 0.02))
                for (tensorName, t) in model.methodTensors {
                    t.data.update(repeating: tensorName.hasSuffix("ssf_scale") ? 1 : 0, count: t.count)
                }
            }
            let features = withoutGradients { model.forward(x).features }
            XCTAssertEqual(features.scalars, reference.scalars, "\(name) features at init")
        }
        // The V-PETL init re-initialises the adapter's up-projection: no identity then.
        let vpetl = withoutGradients { try! cnnModel("adapter", initStyle: .vpetl).forward(x).features }
        XCTAssertTrue(zip(vpetl.scalars, reference.scalars).contains { Swift.abs($0 - $1) > 1e-5 })
    }

    // MARK: - Merge

    func testMergedAndUnmergedLogitsAgree() throws {
        let x = images()
        let mergeable = try Self.cnnMethods.filter { try MethodRegistry.type(named: $0).mergeable }
        XCTAssertEqual(mergeable, ["full", "linear", "bitfit", "ln_tune", "ssf", "lora"])
        for name in mergeable {
            for options in [Self.cnnOptions[name] ?? [:], [:]] {
                let model = try cnnModel(name, options: options)
                perturbMethodTensors(model)
                for (_, t) in model.trainableTensors { t.data[0] += 0.25 }
                let before = withoutGradients { model(x) }
                try model.merge()
                XCTAssertTrue(model.methodTensors.isEmpty, name)
                let net = model.backbone as! EfficientNetLite
                XCTAssertTrue(net.convolutions.allSatisfy { $0.layer.hooks.isEmpty } && net.batchNorms.allSatisfy { $0.layer.hooks.isEmpty }
                              && net.blocks.allSatisfy { $0.hooks.isEmpty } && net.featureHooks.isEmpty, "\(name): hooks left")
                let after = withoutGradients { model(x) }
                assertClose(after, before, atol: 1e-6, relative: 1e-5, "\(name) \(options) merged logits")
                // The merged backbone is a plain EfficientNet: its state loads into a fresh one.
                let fresh = try tinyCNN()
                var bank = SeededRandom(seed: 1)
                fresh.resetHead(classes: 5, using: &bank)
                try fresh.loadState(Dictionary(uniqueKeysWithValues: net.namedParameters + net.namedBuffers))
                assertClose(withoutGradients { fresh(x) }, before, atol: 1e-6, relative: 1e-5, "\(name) reloaded merged logits")
            }
        }
        for name in ["adapter", "visual_prompt"] {
            XCTAssertThrowsError(try cnnModel(name).merge(), name)
        }
    }

    /// LoRA's merge is ΔW = (α/r)·B·A reshaped to [O, I, 1, 1], added to the conv weight.
    func testLoRAMergeIsTheLowRankProductInTheConvWeight() throws {
        let model = try cnnModel("lora", options: ["rank": 2, "alpha": 3])
        perturbMethodTensors(model)
        let net = model.backbone as! EfficientNetLite
        let conv = net.blocks[4].projectConv
        let w0 = conv.weight.scalars
        let a = model.methodTensors.first { $0.name == "_blocks.4._project_conv.lora_A" }!.tensor
        let b = model.methodTensors.first { $0.name == "_blocks.4._project_conv.lora_B" }!.tensor
        XCTAssertEqual(a.shape, [2, conv.weight.shape[1]])
        XCTAssertEqual(b.shape, [conv.weight.shape[0], 2])
        let delta = withoutGradients { matmul(b, a) * 1.5 }
        try model.merge()
        XCTAssertEqual(conv.weight.shape, [b.shape[0], a.shape[1], 1, 1])
        for i in 0..<conv.weight.count { XCTAssertEqual(conv.weight.data[i], w0[i] + delta.data[i], accuracy: 1e-6) }
    }

    // MARK: - Adapter files

    func testAdapterFilesRefuseAnotherCNN() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-cnn-adapter-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try cnnModel("ssf")
        try AdapterFile.save(model, backboneFingerprint: Fingerprint.of(try tinyCNN()), to: folder)
        // The classifier is not part of the fingerprint (every method replaces it)…
        let otherHead = try tinyCNN()
        otherHead.fc!.weight.data[0] += 1
        XCTAssertEqual(Fingerprint.of(otherHead), Fingerprint.of(try tinyCNN()))
        XCTAssertNoThrow(try AdapterFile.load(folder, onto: otherHead))
        // …but the BatchNorm statistics are: they are part of the function.
        let otherStatistics = try tinyCNN()
        otherStatistics.blocks[3].bn1!.runningVar.data[0] += 0.5
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: otherStatistics)) { XCTAssertTrue("\($0)".contains("other backbone weights"), "\($0)") }
        // Another architecture (full-size Lite0) and another family (the tiny ViT).
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: try EfficientNetLite(try .preset("efficientnet_lite0"), randomInit: false))) {
            XCTAssertTrue("\($0)".contains("different backbone"), "\($0)")
        }
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path))) {
            XCTAssertTrue("\($0)".contains("different backbone"), "\($0)")
        }
    }

    // MARK: - Unsupported backbones and options

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testViTOnlyMethodsRefuseTheCNNByName() throws {
        for name in Self.vitOnly {
            let backbone = try tinyCNN()
            let text = message { _ = try PEFTModel(backbone: backbone, method: try MethodRegistry.method(named: name), classes: 5) }
            XCTAssertTrue(text.hasPrefix("\(name) is defined for ViT backbones") || text.hasPrefix("\(name) is defined on transformer blocks"), "\(name): \(text)")
            XCTAssertTrue(text.contains(backbone.architecture), "\(name): \(text)")
        }
        let lite0 = try EfficientNetLite(try .preset("efficientnet_lite0"), randomInit: false)
        XCTAssertEqual(message { _ = try PEFTModel(backbone: lite0, method: DoRA(), classes: 5) },
                       "dora is defined on transformer blocks (ViT, Swin); this backbone is efficientnet_lite0, which has none")
    }

    func testMethodsForViTAndCNNRefuseOtherBackbonesByName() throws {
        for name in ["ln_tune", "ssf", "lora", "adapter", "visual_prompt"] {
            let text = message { _ = try PEFTModel(backbone: ToyBackbone(), method: try MethodRegistry.method(named: name), classes: 3) }
            XCTAssertEqual(text, "\(name) is defined for transformer blocks (ViT, Swin) and EfficientNet-Lite; this backbone is toy-mlp", name)
        }
        for name in ["full", "linear", "bitfit"] {   // defined on any backbone
            let model = try PEFTModel(backbone: ToyBackbone(), method: try MethodRegistry.method(named: name), classes: 3)
            XCTAssertEqual(model.trainableParameterCount(), ["full": 8 * 4 + 8, "linear": 0, "bitfit": 8][name], name)
        }
    }

    func testTargetsAndOptionsThatDoNotFitTheBackboneAreClearErrors() throws {
        XCTAssertEqual(message { _ = try self.cnnModel("lora", options: ["targets": ["project", "q"]]) },
                       "lora: option 'targets' = [\"project\", \"q\"]: 'q' is a ViT target; on \(try tinyCNN().architecture) the targets are expand, project, conv_head (the pointwise convolutions)")
        let vit = try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path)
        XCTAssertTrue(message { try MethodRegistry.method(named: "lora", options: ["targets": ["q", "project"]]).validate(for: vit) }
            .contains("'project' is an EfficientNet-Lite target; on transformer blocks (\(vit.architecture)) the targets are q, k, v, attn.qkv, proj, fc1, fc2"))
        XCTAssertTrue(message { try MethodRegistry.method(named: "dora", options: ["targets": ["expand"]]).validate(for: vit) }.contains("'expand'"))
        XCTAssertTrue(message { _ = try self.cnnModel("adapter", options: ["houlsby": true]) }.contains("'houlsby'"))
        XCTAssertTrue(message { _ = try self.cnnModel("visual_prompt", options: ["pad": 20]) }.contains("'pad' = 20"))
        XCTAssertTrue(message { _ = try self.cnnModel("visual_prompt", options: ["pad": -1]) }.contains("'pad' = -1"))
        let folded = try tinyCNN()
        try folded.foldBatchNorm()
        for name in ["ln_tune", "ssf"] {
            XCTAssertTrue(message { _ = try PEFTModel(backbone: folded, method: try MethodRegistry.method(named: name), classes: 5) }
                .contains("folded"), name)
        }
    }

    // MARK: - visual_prompt

    /// The model sees x + P, P the frame of the four pads around a zero centre.
    func testVisualPromptAddsThePaddingFrameToTheInput() throws {
        let cases: [(backbone: any Backbone, pad: Int)] = [(try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path), 2), (try tinyCNN(), 5)]
        for (backbone, pad) in cases {
            let size = backbone.inputSize
            let model = try PEFTModel(backbone: backbone, method: VisualPrompt(), classes: 5, seed: 2)
            XCTAssertEqual(model.trainableParameterCount(), 12 * pad * (size - pad))
            XCTAssertEqual(model.methodTensors.map(\.name), ["prompt.pad_top", "prompt.pad_bottom", "prompt.pad_left", "prompt.pad_right"])
            XCTAssertEqual(model.methodTensors.map(\.tensor.shape), [[1, 3, pad, size], [1, 3, pad, size], [1, 3, size - 2 * pad, pad], [1, 3, size - 2 * pad, pad]])
            let pads = Dictionary(uniqueKeysWithValues: model.methodTensors.map { ($0.name.replacingOccurrences(of: "prompt.pad_", with: ""), $0.tensor) })
            let x = images(size: size), prompted = x.detached().copy()
            for b in 0..<2 { for c in 0..<3 { for i in 0..<size { for j in 0..<size {
                let value: Float
                if i < pad { value = pads["top"]!.data[(c * pad + i) * size + j] }
                else if i >= size - pad { value = pads["bottom"]!.data[(c * pad + i - (size - pad)) * size + j] }
                else if j < pad { value = pads["left"]!.data[(c * (size - 2 * pad) + i - pad) * pad + j] }
                else if j >= size - pad { value = pads["right"]!.data[(c * (size - 2 * pad) + i - pad) * pad + j - (size - pad)] }
                else { value = 0 }
                prompted.data[((b * 3 + c) * size + i) * size + j] += value
            } } } }
            let hooked = withoutGradients { model(x) }
            model.backbone.removeAllHooks()
            let plain = withoutGradients { model(prompted) }
            XCTAssertEqual(hooked.scalars.map(\.bitPattern), plain.scalars.map(\.bitPattern), backbone.architecture)
        }
    }

    /// d logits / d prompt by the engine against central differences on the tiny ViT (16×16
    /// input, a 2-pixel frame: all 336 prompt values). The CNN's ReLU6 kinks make its
    /// differences too rough for this (a step of a pixel flips activations of the reduced
    /// network), so there the prompt's gradient is checked against the engine's input gradient
    /// (conv2d's own gradient has a finite-difference test in TensorTests): dL/dP = Σ_b dL/dx_b
    /// on the frame.
    func testVisualPromptGradientsMatchFiniteDifferences() throws {
        let vit = try PEFTModel(backbone: try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path), method: VisualPrompt(), classes: 5, seed: 4)
        if let mismatch = promptGradientMismatch(vit, x: images(size: 16)) { XCTFail(mismatch) }

        let cnn = try cnnModel("visual_prompt", options: ["pad": 3])
        let (size, pad) = (40, 3)
        let x = images(size: size)
        x.requiresGrad = true
        var rng = SeededRandom(seed: 8)
        let logits = cnn(x)
        logits.backward(Tensor.normal(logits.shape, using: &rng))
        let gx = try XCTUnwrap(x.grad)
        let grads = Dictionary(uniqueKeysWithValues: cnn.methodTensors.map { ($0.name, $0.tensor.grad!) })
        func inputGradient(_ c: Int, _ i: Int, _ j: Int) -> Float {
            (0..<2).reduce(0) { $0 + gx.data[(($1 * 3 + c) * size + i) * size + j] }
        }
        for c in 0..<3 {
            for i in 0..<pad { for j in 0..<size {
                XCTAssertEqual(grads["prompt.pad_top"]!.data[(c * pad + i) * size + j], inputGradient(c, i, j), accuracy: 1e-6)
                XCTAssertEqual(grads["prompt.pad_bottom"]!.data[(c * pad + i) * size + j], inputGradient(c, size - pad + i, j), accuracy: 1e-6)
            } }
            for i in 0..<(size - 2 * pad) { for j in 0..<pad {
                XCTAssertEqual(grads["prompt.pad_left"]!.data[(c * (size - 2 * pad) + i) * pad + j], inputGradient(c, pad + i, j), accuracy: 1e-6)
                XCTAssertEqual(grads["prompt.pad_right"]!.data[(c * (size - 2 * pad) + i) * pad + j], inputGradient(c, pad + i, size - pad + j), accuracy: 1e-6)
            } }
        }
    }

    /// The first prompt element whose analytic and numeric gradients of L = Σ logits·r differ
    /// (|Δ| > 2e-3 + 2e-2·|numeric|, the tolerance of Tests/TensorTests/GradientCheck.swift).
    private func promptGradientMismatch(_ model: PEFTModel, x: Tensor, epsilon: Float = 1e-2) -> String? {
        var rng = SeededRandom(seed: 7)
        for (_, t) in model.methodTensors { t.grad = nil }
        let probe = model(x)
        let r = Tensor.normal(probe.shape, using: &rng)
        probe.backward(r)
        func loss() -> Double {
            let out = withoutGradients { model(x) }
            return (0..<out.count).reduce(0) { $0 + Double(out.data[$1]) * Double(r.data[$1]) }
        }
        for (name, t) in model.methodTensors {
            guard let grad = t.grad else { return "\(name): no gradient" }
            for j in 0..<t.count {
                let saved = t.data[j]
                t.data[j] = saved + epsilon
                let plus = loss()
                t.data[j] = saved - epsilon
                let minus = loss()
                t.data[j] = saved
                let numeric = Float((plus - minus) / Double(2 * epsilon))
                if Swift.abs(grad.data[j] - numeric) > 2e-3 + 2e-2 * Swift.abs(numeric) {
                    return "\(name)[\(j)]: analytic \(grad.data[j]) vs numeric \(numeric)"
                }
            }
        }
        return nil
    }
}

/// A backbone of neither family: features = x·Wᵀ + b over a flattened 2×2 image, for the
/// "not defined for this backbone" errors and the methods that apply to any backbone.
private final class ToyBackbone: Backbone {
    let body = Linear(weight: Tensor.zeros([8, 4]), bias: Tensor.zeros([8]))
    var head: Linear?
    var architecture: String { "toy-mlp" }
    var architectureIdentity: String { "{\"toy\": 1}" }
    var inputSize: Int { 64 }
    var preprocessing = Preprocessing.dinov2
    var numFeatures: Int { 8 }
    func resetHead(classes: Int, using rng: inout SeededRandom) { head = Linear(8, classes, using: &rng) }
    func setDropPathRate(_ rate: Float) {}
    func removeAllHooks() {}
    func forward(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        let features = body(images.reshaped([images.shape[0], 4]))
        return BackboneOutput(logits: head.map { $0(features) }, features: features, tokens: features, blockOutputs: [], final: features, attention: [:])
    }
    var namedParameters: [(name: String, tensor: Tensor)] { prefixed("body", body) + prefixed("head", head) }
}
