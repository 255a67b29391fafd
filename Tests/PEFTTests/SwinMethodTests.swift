import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// The backbone-agnostic methods on the tiny Swin of Tests/ModelsTests/Fixtures/swin (timm-checked
/// weights): trainable tensors, gradient flow through windows, shifts and patch merging, merge;
/// methods defined on ViT or EfficientNet sites refuse Swin by name.
final class SwinMethodTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/swin/shifted_padded")

    private func model(_ method: String) throws -> PEFTModel {
        let swin = try SwinTransformer.load(model: Self.folder.path, numClasses: 3)
        return try PEFTModel(backbone: swin, method: try MethodRegistry.method(named: method, options: [:]), classes: 3, seed: 4)
    }

    private func images() -> Tensor {
        var rng = SeededRandom(seed: 9)
        return Tensor.normal([2, 3, 36, 36], using: &rng)
    }

    func testFullLinearAndBitFitTrainTheirTensors() throws {
        let reference = try SwinTransformer.load(model: Self.folder.path)
        let withoutHead = reference.parameterCount - (reference.head?.parameterCount ?? 0)
        let biases = reference.namedParameters.filter { $0.name.hasSuffix(".bias") && !$0.name.hasPrefix("head.") }.reduce(0) { $0 + $1.tensor.count }
        for (method, expected) in [("full", withoutHead), ("linear", 0), ("bitfit", biases)] {
            let peft = try model(method)
            XCTAssertEqual(peft.trainableParameterCount(), expected, method)
            let loss = crossEntropy(peft(images()), targets: [0, 2])
            loss.backward()
            for (name, tensor) in peft.backbone.namedParameters {
                XCTAssertEqual(tensor.grad != nil, tensor.requiresGrad, "\(method): \(name)")
                if let grad = tensor.grad, name == "layers.0.blocks.1.attn.relative_position_bias_table" {
                    XCTAssertGreaterThan(grad.scalars.map(abs).max() ?? 0, 0, "\(method): the bias table learns through the gather")
                }
            }
            try peft.merge()
        }
    }

    func testMethodsDefinedOnOtherSitesRefuseSwin() throws {
        for method in ["vpt_shallow", "vpt_deep", "noah", "lst", "last", "hst", "dtl", "fact_tt", "fact_tk"] {
            XCTAssertThrowsError(try model(method), method) { error in
                XCTAssertTrue("\(error)".contains("swin"), "\(method): \(error)")
            }
        }
    }
}
