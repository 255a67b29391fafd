import Checkpoints
import Foundation
import Tensor
import XCTest

final class GoogleViTNamesTests: XCTestCase {
    /// The tiny ViT's tensors in Google's naming, with the "opt/target/" prefix the fixture uses.
    static func googleTensors() throws -> [String: Tensor] {
        try Checkpoint.read(CheckpointFixtures.url("vit_google.npz")).tensors
    }

    func testReproducesTimmTensorsExactly() throws {
        let google = try Self.googleTensors()
        XCTAssertTrue(google.keys.allSatisfy { $0.hasPrefix("opt/target/") })
        let timm = try SafeTensors.read(CheckpointFixtures.url("vit_timm.safetensors")).tensors
        assertBitwiseEqual(try GoogleViTNames.timmTensors(from: google, file: "vit_google.npz"), timm)

        let bare = Dictionary(uniqueKeysWithValues: google.map { (String($0.key.dropFirst("opt/target/".count)), $0.value) })
        assertBitwiseEqual(try GoogleViTNames.timmTensors(from: bare, file: "bare.npz"), timm)
    }

    func testShapeErrorsNameTheKey() throws {
        var google = try Self.googleTensors()
        let key = "opt/target/Transformer/encoderblock_1/MultiHeadDotProductAttention_1/value/kernel"
        google[key] = Tensor(shape: [32, 4, 4], repeating: 0)
        assertFileError(try GoogleViTNames.timmTensors(from: google, file: "vit.npz"),
                        mentions: ["vit.npz", "encoderblock_1/MultiHeadDotProductAttention_1/value/kernel", "[32, 4, 4]", "[32, 4, 8]"])
    }

    func testRefusesMissingAndUnexpectedTensors() throws {
        var missing = try Self.googleTensors()
        missing["opt/target/Transformer/encoderblock_0/MlpBlock_3/Dense_1/bias"] = nil
        assertFileError(try GoogleViTNames.timmTensors(from: missing, file: "vit.npz"), mentions: ["Dense_1/bias", "missing"])

        var extra = try Self.googleTensors()
        extra["opt/target/Transformer/encoderblock_0/LayerScale/scale"] = Tensor([1])
        assertFileError(try GoogleViTNames.timmTensors(from: extra, file: "vit.npz"), mentions: ["LayerScale/scale", "unexpected"])
    }
}
