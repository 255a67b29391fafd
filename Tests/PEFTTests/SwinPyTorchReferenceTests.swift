import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Every method defined on Swin against an independent PyTorch implementation on timm's tiny
/// Swin (scripts/reference/make_swin_peft_fixtures.py: widths 8/16/32, a padded shifted stage, a
/// whole-map window): logits, loss and every trainable gradient, with tensor names under the
/// blocks' timm paths (`layers.1.blocks.0.attn.qkv.lora_A.q`).
final class SwinPyTorchReferenceTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/swin")

    func testEveryMethodDefinedOnSwinMatchesItsPyTorchReference() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.fixtures, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        let covered = try assertMatchReferences(files) { try SwinTransformer.load(model: SwinMethodTests.folder.path) }
        let refused: Set<String> = ["vpt_shallow", "vpt_deep", "fact_tt", "fact_tk", "dtl", "noah", "lst", "last", "hst"]
        XCTAssertEqual(covered, Set(MethodRegistry.names).subtracting(refused), "every method defined on Swin has a PyTorch reference")
    }
}
