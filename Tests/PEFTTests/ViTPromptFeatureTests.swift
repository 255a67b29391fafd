import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// A ViT's multi-level features while a prompt method is attached: VPT-deep's prompts take part
/// in every block (its hooks fire in `stageFeatures`) and are dropped from the maps. Reference:
/// the `prompted.{i}` maps of `scripts/reference/make_vit_neck_fixtures.py` (timm blocks run on
/// [cls, prompts, patches], prompts replaced before every block), in the Heads tests' fixture.
final class ViTPromptFeatureTests: XCTestCase {
    func testVPTDeepPromptsShapeTheMapsAndAreDropped() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../HeadsTests/Fixtures/vit_neck/reference.safetensors")
        let reference = try SafeTensors.read(file).tensors
        var config = VisionTransformerConfig()
        (config.imgSize, config.patchSize, config.embedDim, config.depth, config.numHeads, config.mlpRatio, config.initValues, config.numClasses) = (20, 4, 8, 8, 2, 2, 0.1, 0)
        let vit = try VisionTransformer(config)
        try vit.load(Dictionary(uniqueKeysWithValues: reference.filter { $0.key.hasPrefix("vit.") }.map { (String($0.key.dropFirst(4)), $0.value) }))
        let input = try XCTUnwrap(reference["input"])
        let plain = withoutGradients { vit.stageFeatures(input, options: ForwardOptions(), rng: SeededRandom(seed: 0)) }

        let model = try PEFTModel(backbone: vit, method: try MethodRegistry.method(named: "vpt_deep", options: ["prompts": 3]), classes: 2)
        let prompts = try XCTUnwrap(reference["prompts"])                 // [depth, 3, 8]
        let perBlock = 3 * 8
        for (name, tensor) in model.methodTensors {
            let block = try XCTUnwrap(Int(try XCTUnwrap(name.split(separator: ".").last)), name)
            tensor.data.update(from: prompts.data + block * perBlock, count: perBlock)
        }
        XCTAssertEqual(model.methodTensors.count, 8)
        let prompted = withoutGradients { vit.stageFeatures(input, options: ForwardOptions(), rng: SeededRandom(seed: 0)) }
        for i in 0..<4 {
            assertClose(prompted[i], try XCTUnwrap(reference["prompted.\(i)"]), atol: 1e-5, "prompted map \(i)")
            let moved = zip(prompted[i].scalars, plain[i].scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertGreaterThan(moved, 1e-3, "map \(i): the prompts had no effect")
        }
    }
}
