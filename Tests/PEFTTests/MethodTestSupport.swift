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
