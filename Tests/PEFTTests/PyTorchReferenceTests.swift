import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Every method against an independent PyTorch implementation of the same definition
/// (scripts/reference/make_peft_fixtures.py, docs/PEFT_TENSORS.md) on the tiny timm ViT:
/// logits, loss and the gradient of every trainable tensor. The fixture sets every trainable
/// tensor to random values, so zero-initialised parts (LoRA B, adapter up) are exercised, and
/// its tensor names must be exactly the method's trainable set.
final class PyTorchReferenceTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private func cases() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: Self.fixtures, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" && !$0.lastPathComponent.contains("_merged") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The method of a fixture, attached to the tiny ViT with the fixture's values loaded.
    private func model(for file: SafeTensors.File, _ name: String) throws -> PEFTModel {
        try referenceModel(file, name, backbone: try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path))
    }

    /// Calibrating methods choose from the fixture's calibration batch what PyTorch chose.
    func testCalibrationMatchesPyTorch() throws {
        var checked = 0
        for url in try cases() {
            let file = try SafeTensors.read(url)
            guard let labels = file.tensors["calibration.labels"] else { continue }
            let name = url.deletingPathExtension().lastPathComponent
            let model = try model(for: file, name)
            for (_, tensor) in model.stateTensors { tensor.data.update(repeating: -1, count: tensor.count) }
            let data = InMemoryCalibration(images: file.tensors["calibration.input"], views: file.tensors["calibration.view1"].map { ($0, file.tensors["calibration.view2"]!) },
                                           labels: labels.scalars.map { Int($0) })
            try model.method.calibrate(model, on: data)
            for (tensorName, tensor) in model.stateTensors {
                XCTAssertEqual(tensor.scalars, file.tensors["state.\(tensorName)"]!.scalars, "\(name): calibrated \(tensorName)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 1, "no calibrating fixture")
    }

    func testEveryMethodMatchesItsPyTorchReference() throws {
        let files = try cases()
        XCTAssertGreaterThanOrEqual(files.count, 19)
        let covered = try assertMatchReferences(files) { try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path) }
        XCTAssertEqual(covered, Set(MethodSuiteTests.vitMethods), "every ViT method has a PyTorch reference (Swin-only ones: SwinPyTorchReferenceTests)")
    }

    /// Merging gives the plain-ViT weights PyTorch's merge gives (so timm loads the same model).
    func testMergedWeightsMatchPyTorch() throws {
        for method in ["lora", "ssf", "rep_adapter", "fact_tt", "difffit", "vera", "hydra"] {
            let file = try SafeTensors.read(Self.fixtures.appendingPathComponent("\(method).safetensors"))
            let merged = try SafeTensors.read(Self.fixtures.appendingPathComponent("\(method)_merged.safetensors"))
            let model = try model(for: file, method)
            try model.merge()
            let state = model.backbone.stateDict
            XCTAssertEqual(Set(state.keys), Set(merged.names).subtracting(["logits"]), "\(method): merged keys")
            for (key, tensor) in state {
                assertClose(tensor, try XCTUnwrap(merged.tensors[key]), atol: 1e-5, relative: 1e-5, "\(method) merged \(key)")
            }
            let logits = withoutGradients { model(file.tensors["input"]!) }
            assertClose(logits, merged.tensors["logits"]!, atol: 2e-5, relative: 2e-5, "\(method) merged logits")
        }
    }
}

/// One batch (or one pair of views) held in memory as calibration data.
struct InMemoryCalibration: CalibrationData {
    let images: Tensor?, views: (Tensor, Tensor)?, labels: [Int]

    func forEachBatch(_ body: (_ images: Tensor, _ labels: [Int]) throws -> Void) throws { try body(images!, labels) }
    func forEachViewPair(_ body: (_ first: Tensor, _ second: Tensor, _ labels: [Int]) throws -> Void) throws {
        try body(views!.0, views!.1, labels)
    }
}
