import Heads
import Models
import NN
import Tensor
import XCTest

/// UPerNet on a plain ViT: the Feature2Pyramid neck between the block maps and the norms, the
/// neck as part of the trained head, and inputs of any size through the ViT's one input side.
final class ViTSegmenterTests: XCTestCase {
    static func segmenter(neck: Bool = true, seed: UInt64 = 3) throws -> UperNetSegmenter {
        var head = UperNetConfig()
        (head.numLabels, head.hiddenSize, head.auxiliaryChannels, head.poolScales) = (4, 8, 4, [1, 2])
        return try UperNetSegmenter(backbone: try VisionTransformer(ViTNeckParityTests.fixtureConfig(), seed: 1), config: head, pyramidNeck: neck, seed: seed)
    }

    /// The head reads the neck's pyramid (strides p/4 … 2p), each map through its LayerNorm.
    func testFeaturesAreTheNormedNeckPyramid() throws {
        let model = try Self.segmenter()
        var rng = SeededRandom(seed: 5)
        let x = Tensor.normal([2, 3, 20, 20], using: &rng)
        let features = model.features(x)
        XCTAssertEqual(features.map { [$0.shape[2], $0.shape[3]] }, [[20, 20], [10, 10], [5, 5], [2, 2]])
        let pyramid = try XCTUnwrap(model.neck)(model.backbone.stageFeatures(x, options: ForwardOptions(), rng: SeededRandom(seed: 0)))
        for (i, (map, norm)) in zip(pyramid, try XCTUnwrap(model.stageNorms)).enumerated() {
            let expected = norm(map.permuted([0, 2, 3, 1])).permuted([0, 3, 1, 2])
            XCTAssertEqual(features[i].scalars, expected.scalars, "map \(i)")
        }
        // Without the neck the head would read four maps at one stride: the neck must change them.
        XCTAssertNotEqual(try Self.segmenter(neck: false).features(x)[0].shape, features[0].shape)
    }

    /// Inputs of another size are resized to the ViT's side and the logits back to theirs.
    func testInputsOfAnySizeGoThroughTheViTsSide() throws {
        let model = try Self.segmenter()
        var rng = SeededRandom(seed: 6)
        let x = Tensor.normal([1, 3, 13, 27], using: &rng)
        let logits = model.forward(x).logits
        XCTAssertEqual(logits.shape, [1, 4, 13, 27])
        let atSide = model.forward(resize(x, to: (20, 20), filter: .bilinear)).logits
        let expected = resize(atSide, to: (13, 27), filter: .bilinear)
        XCTAssertLessThan(zip(logits.scalars, expected.scalars).map { abs($0 - $1) }.max()!, 1e-5)
    }

    /// The neck is head: trained (it gets a gradient), saved with its BatchNorm statistics,
    /// switched to training mode with the heads, drawn from its own stream (the heads start as
    /// they would without it).
    func testTheNeckTrainsWithTheHead() throws {
        let model = try Self.segmenter()
        let names = model.headParameters.map(\.name)
        XCTAssertTrue(names.contains("neck.upsample_4x.0.weight") && names.contains("neck.upsample_2x.0.bias"), "\(names)")
        XCTAssertTrue(model.headBuffers.map(\.name).contains("neck.upsample_4x.1.running_var"))
        model.setTraining(true)
        XCTAssertTrue(try XCTUnwrap(model.neck).training)
        for (_, t) in model.headParameters { t.requiresGrad = true }
        var rng = SeededRandom(seed: 7)
        let x = Tensor.normal([2, 3, 20, 20], using: &rng)
        model.loss(model.forward(x, options: ForwardOptions(training: true)), labels: (0..<(2 * 400)).map { $0 % 4 }).backward()
        let neckGradient = try XCTUnwrap(model.neck?.upsample4x.first.weight.grad)
        XCTAssertTrue(neckGradient.scalars.contains { $0 != 0 })
        let plain = try Self.segmenter(neck: false)
        XCTAssertEqual(model.decodeHead.namedParameters.map(\.tensor.scalars), plain.decodeHead.namedParameters.map(\.tensor.scalars))
    }
}
