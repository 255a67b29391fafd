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
                XCTAssertEqual(peft.trainableParameterCount(), biases, "bitfit trains every bias, the zero key-bias slot included")
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
}
