import Checkpoints
import Foundation
import Tensor
import XCTest

final class TorchPickleTests: XCTestCase {
    static let expectedDtypes = [
        "f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64", "i64": "I64", "i32": "I32", "u8": "U8", "bool": "BOOL",
        "scalar": "F32", "bn.num_batches_tracked": "I64", "permuted": "F32", "strided": "F32", "offset": "F32",
        "long_row": "F32", "expanded": "F32", "half_view": "F16",
    ]

    func testZipCheckpointReproducesTorchValues() throws {
        let file = try TorchPickle.read(CheckpointFixtures.url("tensors.pth"))
        assertBitwiseEqual(file.tensors, CheckpointFixtures.expected(under: "torch."))
        XCTAssertEqual(file.dtypes, Self.expectedDtypes)
        XCTAssertEqual(file.tensors["scalar"]?.shape, [])
        XCTAssertEqual(file.skipped, [])
    }

    func testLegacyCheckpointReproducesTorchValues() throws {
        let file = try TorchPickle.read(CheckpointFixtures.url("tensors_legacy.pth"))
        assertBitwiseEqual(file.tensors, CheckpointFixtures.expected(under: "torch."))
        XCTAssertEqual(file.dtypes, Self.expectedDtypes)
    }

    func testProtocol4Pickles() throws {
        let file = try TorchPickle.read(CheckpointFixtures.url("protocol4.pth"))
        let expected = CheckpointFixtures.expected(under: "torch.").filter { ["f32", "bf16", "permuted"].contains($0.key) }
        assertBitwiseEqual(file.tensors, expected)
    }

    func testNestedDictsAreFlattenedAndOtherValuesListed() throws {
        let file = try TorchPickle.read(CheckpointFixtures.url("nested.pth"))
        let torch = CheckpointFixtures.expected(under: "torch.")
        assertBitwiseEqual(file.tensors, [
            "state_dict.module.f32": torch["f32"]!, "state_dict.module.permuted": torch["permuted"]!,
            "optimizer.momentum_buffer": torch["f16"]!,
        ])
        XCTAssertEqual(Set(file.skipped), ["epoch", "arch", "optimizer.lr"])
        XCTAssertEqual(file.nestedTopLevelKeys, ["state_dict", "optimizer"])
    }

    func testRefusesPicklesThatCallArbitraryFunctions() {
        for name in ["malicious_zip.pth", "malicious_legacy.pth"] {
            assertFileError(try TorchPickle.read(CheckpointFixtures.url(name)), mentions: [name, "refuses to load class os.system"])
        }
        assertFileError(try TorchPickle.read(CheckpointFixtures.url("namespace.pth")),
                        mentions: ["namespace.pth", "refuses to load class argparse.Namespace"])
    }

    func testGathersStridedAndExpandedViews() throws {
        let main = PickleBytes.stateDict { p in
            p.string("rows"); p.tensor(storageKey: "0", storageCount: 6, offset: 1, size: [2, 2], stride: [3, 1])
            p.string("broadcast"); p.tensor(storageKey: "0", storageCount: 6, offset: 3, size: [2, 3], stride: [0, 1])
        }
        let file = try TorchPickle.readLegacy(legacyCheckpoint(main: main, storages: [("0", [0, 1, 2, 3, 4, 5])]), path: "views.pth")
        XCTAssertEqual(file.tensors["rows"]?.scalars, [1, 2, 4, 5])
        XCTAssertEqual(file.tensors["broadcast"]?.scalars, [3, 4, 5, 3, 4, 5])
    }

    func testRefusesViewsOutsideTheirStorage() {
        let main = PickleBytes.stateDict { p in
            p.string("w"); p.tensor(storageKey: "0", storageCount: 4, offset: 2, size: [3], stride: [1])
        }
        assertFileError(try TorchPickle.readLegacy(legacyCheckpoint(main: main, storages: [("0", [0, 1, 2, 3])]), path: "oob.pth"),
                        mentions: ["oob.pth", "'w'", "reaches element 4 of a 4-element storage"])
    }

    func testRefusesAbsurdSizes() {
        let huge = PickleBytes.stateDict { p in
            p.string("w"); p.tensor(storageKey: "0", storageCount: 1, offset: 0, size: [1 << 30, 1 << 30], stride: [0, 0])
        }
        assertFileError(try TorchPickle.readLegacy(legacyCheckpoint(main: huge, storages: [("0", [1])]), path: "huge.pth"),
                        mentions: ["huge.pth", "'w'", "more elements than the file"])
        let lying = PickleBytes.stateDict { p in
            p.string("w"); p.tensor(storageKey: "0", storageCount: 1 << 30, offset: 0, size: [2], stride: [1])
        }
        assertFileError(try TorchPickle.readLegacy(legacyCheckpoint(main: lying, storages: [("0", [1, 2])]), path: "lying.pth"),
                        mentions: ["lying.pth", "'w'", "declares 1073741824 elements"])
    }

    func testRefusesUnknownOpcodesAndStorageTypes() {
        var unknown = PickleBytes()
        unknown.opcode("i")  // INST: instantiates a class directly
        assertFileError(try TorchPickle.readLegacy(legacyCheckpoint(main: unknown.bytes, storages: []), path: "inst.pth"),
                        mentions: ["inst.pth", "unsupported opcode 0x69"])
        var complex = PickleBytes()
        complex.global("torch", "ComplexFloatStorage")
        assertFileError(try TorchPickle.readLegacy(legacyCheckpoint(main: complex.bytes, storages: []), path: "complex.pth"),
                        mentions: ["complex.pth", "refuses to load class torch.ComplexFloatStorage"])
    }
}
