import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Perturbs every method tensor so that zero-initialised parts take effect.
func perturbMethodTensors(_ model: PEFTModel, seed: UInt64 = 9) {
    var rng = SeededRandom(seed: seed)
    for (_, t) in model.methodTensors { for i in 0..<t.count { t.data[i] += 0.1 * rng.nextNormal() } }
}

/// Every method in `methods`, trained-looking (method and backbone-side tensors moved), saved as an
/// adapter and loaded onto a fresh backbone, gives bit-identical logits on `x`.
func assertAdapterRoundTripIsBitExact(methods: [String], options: [String: [String: Any]], backbone makeBackbone: () throws -> any Backbone,
                                      images x: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-adapter-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    for name in methods {
        let backbone = try makeBackbone()
        let fingerprint = Fingerprint.of(backbone)
        let model = try PEFTModel(backbone: backbone, method: try MethodRegistry.method(named: name, options: options[name] ?? [:]),
                                  classes: 5, seed: 11)
        perturbMethodTensors(model)
        for (_, t) in model.trainableTensors { t.data[0] += 0.25 }   // as if trained: backbone-side tensors move too
        let logits = withoutGradients { model(x) }
        let dir = folder.appendingPathComponent(name)
        try AdapterFile.save(model, backboneFingerprint: fingerprint, to: dir)
        XCTAssertEqual(try AdapterFile.readManifest(dir).trainableParameters, model.trainableParameterCount(), name, file: file, line: line)
        let loaded = try AdapterFile.load(dir, onto: try makeBackbone())
        XCTAssertEqual(withoutGradients { loaded(x) }.scalars.map(\.bitPattern), logits.scalars.map(\.bitPattern), "\(name) round trip",
                       file: file, line: line)
    }
}

/// The method of a PyTorch reference fixture (scripts/reference/make_*peft_fixtures.py) attached
/// to `backbone`, with the fixture's trainable, frozen and state tensors loaded; its trainable
/// tensor names must be exactly the fixture's.
func referenceModel(_ file: SafeTensors.File, _ name: String, backbone: any Backbone, file path: StaticString = #filePath, line: UInt = #line) throws -> PEFTModel {
    let options = try JSONSerialization.jsonObject(with: Data(file.metadata["options"]!.utf8)) as! [String: Any]
    let method = try MethodRegistry.method(named: file.metadata["method"]!, options: options)
    let model = try PEFTModel(backbone: backbone, method: method, classes: file.tensors["logits"]!.shape[1])
    let fixtureNames = Set(file.names.filter { name in
        !["grad.", "frozen.", "state.", "calibration."].contains { name.hasPrefix($0) } && !["input", "labels", "logits", "loss"].contains(name)
    })
    XCTAssertEqual(Set(model.trainableTensors.map(\.name)), fixtureNames, "\(name): trainable tensor names", file: path, line: line)
    /// Sets each of `tensors` to the fixture's `prefix + name` tensor, which must have its shape.
    func load(_ tensors: [(name: String, tensor: Tensor)], prefix: String) throws {
        for (tensorName, tensor) in tensors {
            let value = try XCTUnwrap(file.tensors[prefix + tensorName], "\(name): \(prefix)\(tensorName)", file: path, line: line)
            XCTAssertEqual(value.shape, tensor.shape, "\(name): \(tensorName) shape", file: path, line: line)
            tensor.data.update(from: value.data, count: tensor.count)
        }
    }
    try load(model.trainableTensors, prefix: "")
    // Frozen random parts (VeRA) are drawn by each side's own generator: use PyTorch's.
    XCTAssertEqual(Set(model.frozenMethodTensors.map { "frozen.\($0.name)" }), Set(file.names.filter { $0.hasPrefix("frozen.") }), "\(name): frozen tensors",
                   file: path, line: line)
    try load(model.frozenMethodTensors, prefix: "frozen.")
    // Calibrated state (SCT's channels): PyTorch's, checked separately against our calibration.
    XCTAssertEqual(Set(model.stateTensors.map { "state.\($0.name)" }), Set(file.names.filter { $0.hasPrefix("state.") }), "\(name): state tensors",
                   file: path, line: line)
    try load(model.stateTensors, prefix: "state.")
    return model
}

/// Every fixture in `files` against the method on a fresh `backbone`: logits, loss and the
/// gradient of every trainable tensor. Returns the methods covered.
@discardableResult
func assertMatchReferences(_ files: [URL], backbone: () throws -> any Backbone, file path: StaticString = #filePath, line: UInt = #line) throws -> Set<String> {
    var covered = Set<String>()
    for url in files {
        let name = url.deletingPathExtension().lastPathComponent
        let file = try SafeTensors.read(url)
        let model = try referenceModel(file, name, backbone: try backbone(), file: path, line: line)
        covered.insert(file.metadata["method"]!)
        let logits = model.forward(file.tensors["input"]!).logits!
        assertClose(logits, file.tensors["logits"]!, atol: 2e-5, relative: 2e-5, "\(name) logits", file: path, line: line)
        let loss = crossEntropy(logits, targets: file.tensors["labels"]!.scalars.map { Int($0) })
        XCTAssertEqual(loss.item, file.tensors["loss"]!.item, accuracy: 2e-5, "\(name) loss", file: path, line: line)
        loss.backward()
        for (tensorName, tensor) in model.trainableTensors {
            let expected = try XCTUnwrap(file.tensors["grad.\(tensorName)"], "\(name): no reference gradient for \(tensorName)", file: path, line: line)
            let grad = try XCTUnwrap(tensor.grad, "\(name): no gradient for \(tensorName)", file: path, line: line)
            assertClose(grad, expected, atol: 1e-5, relative: 1e-4, "\(name) gradient of \(tensorName)", file: path, line: line)
        }
    }
    return covered
}
