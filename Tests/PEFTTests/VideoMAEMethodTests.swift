import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Methods defined on transformer block sites attach to VideoMAE without knowing it: its blocks
/// are ViT blocks. On the tiny HF-checked model of Tests/ModelsTests/Fixtures/videomae: LoRA,
/// AdaptFormer and BitFit train their tensors through clips [B, T, C, H, W], leave the rest
/// frozen, and LoRA merges back into a plain VideoMAE with the same outputs.
final class VideoMAEMethodTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/videomae/hf")

    private func model(_ method: String) throws -> PEFTModel {
        let videoMAE = try VideoMAE.load(model: Self.folder.path, numClasses: 3)
        return try PEFTModel(backbone: videoMAE, method: try MethodRegistry.method(named: method, options: [:]), classes: 3, seed: 4)
    }

    private func clips() -> Tensor {
        var rng = SeededRandom(seed: 9)
        return Tensor.normal([2, 4, 3, 16, 16], using: &rng)
    }

    func testBlockSiteMethodsTrainThroughClips() throws {
        let reference = try VideoMAE.load(model: Self.folder.path)
        let biases = reference.namedParameters.filter { $0.name.hasSuffix(".bias") && !$0.name.hasPrefix("head.") }.reduce(0) { $0 + $1.tensor.count }
        for method in ["lora", "adaptformer", "bitfit"] {
            let peft = try model(method)
            let methodNames = peft.methodTensors.map(\.name)
            if method == "bitfit" {
                let keySlots = peft.backbone.transformerBlocks.reduce(0) { $0 + $1.width }
                XCTAssertEqual(peft.trainableParameterCount(), biases - keySlots, "bitfit trains every bias but the zero key-bias slots")
            } else {
                XCTAssertGreaterThan(peft.trainableParameterCount(), 0, method)
                XCTAssertTrue(methodNames.allSatisfy { $0.hasPrefix("blocks.0.") || $0.hasPrefix("blocks.1.") }, "\(method): \(methodNames)")
                XCTAssertTrue(methodNames.contains { $0.hasPrefix("blocks.1.") }, "\(method) reaches every block: \(methodNames)")
            }
            let loss = crossEntropy(peft(clips()), targets: [0, 2])
            loss.backward()
            // Zero-initialised halves (LoRA's B, AdaptFormer's up) leave their partners a zero
            // gradient at the first step; every trainable tensor still gets one, and some move.
            for (name, tensor) in peft.trainableTensors { XCTAssertNotNil(tensor.grad, "\(method): \(name) gets a gradient") }
            XCTAssertTrue(peft.trainableTensors.contains { !$0.name.hasPrefix("head.") && ($0.tensor.grad?.scalars.map(abs).max() ?? 0) > 0 },
                          "\(method): gradients reach the method's tensors")
            for (name, tensor) in peft.backbone.namedParameters where !tensor.requiresGrad {
                XCTAssertNil(tensor.grad, "\(method): frozen \(name)")
            }
        }
    }

    func testLoRAMergesIntoPlainVideoMAE() throws {
        let peft = try model("lora")
        // LoRA starts as the identity (B = 0): move B so the merge has something to fold.
        var rng = SeededRandom(seed: 5)
        for (_, tensor) in peft.methodTensors {
            let noise = Tensor.normal(tensor.shape, using: &rng)
            tensor.data.update(from: (tensor + noise * 0.05).data, count: tensor.count)
        }
        let input = clips()
        let before = withoutGradients { peft(input) }
        try peft.merge()
        let after = withoutGradients { peft.backbone.forward(input).logits! }
        let worst = zip(before.scalars, after.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-5, "merged LoRA: max |Δ| \(worst)")
        XCTAssertTrue(peft.backbone.transformerBlocks.allSatisfy { $0.qkv.hooks.isEmpty }, "no hooks left after merging")
    }

    /// BitFit on VideoMAE trains the released model's biases: q and v, not the fused bias's zero
    /// key third. Its q/v deltas get exactly the gradient the fused bias's q and v thirds would,
    /// and merging adds them there.
    func testBitFitTrainsQueryAndValueBiasesOnly() throws {
        let peft = try model("bitfit")
        let blocks = peft.backbone.transformerBlocks
        XCTAssertEqual(peft.methodTensors.map(\.name), blocks.flatMap { [$0.name("attn.q_bias"), $0.name("attn.v_bias")] })
        XCTAssertTrue(blocks.allSatisfy { $0.qkv.bias?.requiresGrad == false }, "the fused bias stays frozen")

        // The same loss with the fused biases unfrozen instead (and no deltas).
        let reference = try VideoMAE.load(model: Self.folder.path, numClasses: 3)
        let plain = try PEFTModel(backbone: reference, method: try MethodRegistry.method(named: "linear", options: [:]), classes: 3, seed: 4)
        for block in reference.transformerBlocks { block.qkv.bias!.requiresGrad = true }
        let input = clips()
        crossEntropy(peft(input), targets: [0, 2]).backward()
        crossEntropy(plain(input), targets: [0, 2]).backward()
        for (block, plainBlock) in zip(blocks, reference.transformerBlocks) {
            let fused = plainBlock.qkv.bias!.grad!.scalars, w = block.width
            let q = peft.methodTensors.first { $0.name == block.name("attn.q_bias") }!.tensor.grad!.scalars
            let v = peft.methodTensors.first { $0.name == block.name("attn.v_bias") }!.tensor.grad!.scalars
            for (a, b) in zip(q, fused[0..<w]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            for (a, b) in zip(v, fused[(2 * w)...]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            XCTAssertLessThan(fused[w..<(2 * w)].map(abs).max()!, 1e-5, "the key third's gradient is zero up to rounding: softmax ignores it")
        }

        var rng = SeededRandom(seed: 6)
        for (_, tensor) in peft.methodTensors { tensor.data.update(from: Tensor.normal(tensor.shape, std: 0.1, using: &rng).data, count: tensor.count) }
        let before = withoutGradients { peft(input) }
        try peft.merge()
        let after = withoutGradients { peft.backbone.forward(input).logits! }
        XCTAssertLessThanOrEqual(zip(before.scalars, after.scalars).map { abs($0 - $1) }.max()!, 1e-5)
        for block in blocks {
            let bias = block.qkv.bias!.scalars, w = block.width
            XCTAssertEqual(Array(bias[w..<(2 * w)]), [Float](repeating: 0, count: w), "the key third is still zero after merging")
        }
    }
}
