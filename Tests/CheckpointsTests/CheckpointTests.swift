import Checkpoints
import Foundation
import Tensor
import XCTest

final class CheckpointTests: XCTestCase {
    func testDetectsTheFormatFromTheContent() throws {
        let formats: [String: CheckpointFormat] = [
            "tensors.pth": .torchZip, "tensors_legacy.pth": .torchLegacy, "arrays.npz": .npz,
            "arrays_compressed.npz": .npz, "expected.safetensors": .safetensors, "vit_timm.safetensors": .safetensors,
        ]
        for (name, format) in formats {
            let checkpoint = try Checkpoint.read(CheckpointFixtures.url(name))
            XCTAssertEqual(checkpoint.format, format, name)
            XCTAssertEqual(checkpoint.path, CheckpointFixtures.url(name).path)
        }
        let torch = try Checkpoint.read(CheckpointFixtures.url("tensors.pth"))
        assertBitwiseEqual(torch.tensors, CheckpointFixtures.expected(under: "torch."))
        XCTAssertEqual(torch.dtypes["bf16"], "BF16")
        let npz = try Checkpoint.read(CheckpointFixtures.url("arrays.npz"))
        assertBitwiseEqual(npz.tensors, CheckpointFixtures.expected(under: "npz."))
        XCTAssertEqual(npz.dtypes["be_f4"], ">f4")
    }

    func testReadsSlicesOfLargerBuffers() throws {
        for name in ["tensors.pth", "tensors_legacy.pth", "arrays_compressed.npz", "expected.safetensors"] {
            let bytes = try CheckpointFixtures.data(name)
            let slice = (Data(repeating: 0xAB, count: 13) + bytes + Data([1, 2, 3]))[13 ..< 13 + bytes.count]
            let whole = try Checkpoint.read(bytes, path: name), sliced = try Checkpoint.read(slice, path: name)
            assertBitwiseEqual(sliced.tensors, whole.tensors)
        }
    }

    func testRefusesUnknownFormats() {
        assertFileError(try Checkpoint.read(Data("just some text, not a checkpoint".utf8), path: "notes.txt"),
                        mentions: ["notes.txt", "unrecognised checkpoint format"])
        var zip = ZipBytes()
        zip.add("readme.md", Data("hello".utf8))
        assertFileError(try Checkpoint.read(zip.build(), path: "docs.zip"), mentions: ["docs.zip", "neither"])
    }

    func testUnwrapsTrainingCheckpoints() throws {
        let checkpoint = try Checkpoint.read(CheckpointFixtures.url("nested.pth")).unwrapped()
        let torch = CheckpointFixtures.expected(under: "torch.")
        assertBitwiseEqual(checkpoint.tensors, ["f32": torch["f32"]!, "permuted": torch["permuted"]!])
        XCTAssertEqual(checkpoint.dtypes, ["f32": "F32", "permuted": "F32"])
        XCTAssertEqual(Set(checkpoint.skipped), ["epoch", "arch", "optimizer.lr"])
    }

    func testStripsPrefixesOnlyWhenEveryNameSharesThem() {
        let t = Tensor([1])
        func names(_ tensors: [String: Tensor], nested: Set<String> = []) -> [String] {
            var checkpoint = Checkpoint(tensors: tensors, dtypes: tensors.mapValues { _ in "F32" }, format: .safetensors, path: "x")
            checkpoint.nestedTopLevelKeys = nested
            return checkpoint.unwrapped().tensors.keys.sorted()
        }
        XCTAssertEqual(names(["module.backbone.a": t, "module.backbone.b": t]), ["a", "b"])
        XCTAssertEqual(names(["module.a": t, "head.b": t]), ["head.b", "module.a"])
        XCTAssertEqual(names(["blocks.0.w": t, "norm.w": t]), ["blocks.0.w", "norm.w"])
        // A plain state dict whose layers happen to be called "model…" is left alone unless the
        // checkpoint really had a top-level "model" dict.
        XCTAssertEqual(names(["model.a": t, "head.b": t]), ["head.b", "model.a"])
        XCTAssertEqual(names(["model.a": t, "head.b": t], nested: ["model"]), ["a"])
        XCTAssertEqual(names(["state_dict.a": t, "state_dict_ema.a": t, "model.b": t], nested: ["state_dict_ema", "state_dict", "model"]), ["a"])
    }
}
