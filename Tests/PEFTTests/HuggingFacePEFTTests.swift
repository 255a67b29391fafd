import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Hugging Face PEFT interop on the tiny timm ViT (docs/peft-interop.md). `Fixtures/peft/<case>/`
/// are PEFT's own folders with PEFT's logits (scripts/reference/make_peft_interop_fixtures.py);
/// `Fixtures/peft/vpeft_*` are vpeft's exports, which that script loads with PEFT and checks.
final class HuggingFacePEFTTests: XCTestCase {
    static let fixtures = PyTorchReferenceTests.fixtures.appendingPathComponent("peft")

    private func tiny() throws -> VisionTransformer { try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path) }

    private func expected(_ folder: URL) throws -> (input: Tensor, logits: Tensor) {
        let file = try SafeTensors.read(folder.appendingPathComponent("expected.safetensors"))
        return (file.tensors["input"]!, file.tensors["logits"]!)
    }

    private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
    }

    private func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-peft-\(UUID())")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func options(_ model: PEFTModel) throws -> [String: Any] { try MethodRegistry.options(of: model.method) }

    func testPEFTFoldersImportWithPEFTsLogits() throws {
        let cases: [(name: String, method: String, targets: [String], rank: Int)] = [
            ("lora_shared", "lora", ["q", "k", "v", "proj", "fc1", "fc2"], 3),   // A shared by q, k, v; fc1 rank 2 padded; no fc2 in block 0
            ("lora_vpeft_layout", "lora", ["q", "v", "fc2"], 4),                  // block-shaped B: one target per slice
            ("dora_shared", "dora", ["q", "k", "v", "fc1"], 2),
        ]
        for c in cases {
            let folder = Self.fixtures.appendingPathComponent(c.name)
            let imported = try HuggingFacePEFT.load(folder, onto: try tiny())
            XCTAssertEqual(type(of: imported.model.method).name, c.method, c.name)
            let options = try options(imported.model)
            XCTAssertEqual(options["targets"] as? [String], c.targets, c.name)
            XCTAssertEqual(options["rank"] as? Int, c.rank, c.name)
            let (input, logits) = try expected(folder)
            let diff = maxDifference(withoutGradients { imported.model(input) }, logits)
            XCTAssertLessThanOrEqual(diff, 1e-4, "\(c.name): max |vpeft − PEFT| logits")
        }
    }

    /// Importing the PEFT folder laid out as vpeft exports and exporting it again writes PEFT's
    /// keys, tensors (bit for bit) and configuration.
    func testExportWritesWhatPEFTWrites() throws {
        let source = Self.fixtures.appendingPathComponent("lora_vpeft_layout")
        let imported = try HuggingFacePEFT.load(source, onto: try tiny())
        XCTAssertEqual(try options(imported.model)["alpha"] as? Double, 8)
        let out = temporaryFolder()
        try HuggingFacePEFT.export(imported.model, baseModel: nil, to: out)

        let theirs = try SafeTensors.read(source.appendingPathComponent(HuggingFacePEFT.weightsFile))
        let ours = try SafeTensors.read(out.appendingPathComponent(HuggingFacePEFT.weightsFile))
        XCTAssertEqual(Set(ours.names), Set(theirs.names))
        XCTAssertEqual(ours.metadata, theirs.metadata)
        for name in theirs.names {
            XCTAssertEqual(ours.tensors[name]?.shape, theirs.tensors[name]!.shape, name)
            XCTAssertEqual(ours.tensors[name]?.scalars.map(\.bitPattern), theirs.tensors[name]!.scalars.map(\.bitPattern), name)
        }
        let theirConfig = try config(source), ourConfig = try config(out)
        for field in ["peft_type", "r", "lora_alpha", "rank_pattern", "alpha_pattern", "modules_to_save", "bias", "lora_bias", "use_dora",
                      "use_rslora", "fan_in_fan_out", "lora_dropout", "init_lora_weights", "layers_to_transform", "layer_replication", "auto_mapping"] {
            XCTAssertEqual(ourConfig[field].map(canonical), theirConfig[field].map(canonical), field)
        }
        XCTAssertEqual((ourConfig["target_modules"] as? [String])?.sorted(), (theirConfig["target_modules"] as? [String])?.sorted())
    }

    private func config(_ folder: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent(HuggingFacePEFT.configFile))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    private func canonical(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]), as: UTF8.self)
    }

    /// The vpeft adapters whose exports are committed (vpeft_lora, vpeft_dora): seeded, every
    /// factor non-trivial, the head moved.
    private func exportedModels() throws -> [(name: String, model: PEFTModel)] {
        let lora = try PEFTModel(backbone: try tiny(), method: try MethodRegistry.method(named: "lora", options: ["rank": 2, "alpha": 3, "targets": ["q", "v", "proj", "fc1"]]),
                                 classes: 5, seed: 3)
        let dora = try PEFTModel(backbone: try tiny(), method: try MethodRegistry.method(named: "dora", options: ["rank": 2, "alpha": 5, "targets": ["q", "v", "fc2"]]),
                                 classes: 5, seed: 4)
        for model in [lora, dora] {
            perturbMethodTensors(model, seed: 21)
            for (_, t) in model.trainableTensors { t.data[0] += 0.25 }
        }
        return [("vpeft_lora", lora), ("vpeft_dora", dora)]
    }

    /// vpeft → PEFT → vpeft gives back the same tensors and bit-identical logits.
    func testExportThenImportIsExact() throws {
        let input = try expected(Self.fixtures.appendingPathComponent("lora_shared")).input
        for (name, model) in try exportedModels() {
            let out = temporaryFolder()
            try HuggingFacePEFT.export(model, baseModel: "vit_tiny_fixture", to: out)
            let back = try HuggingFacePEFT.load(out, onto: try tiny()).model
            XCTAssertEqual(try options(back) as NSDictionary, try options(model) as NSDictionary, name)
            let original = Dictionary(uniqueKeysWithValues: model.trainableTensors.map { ($0.name, $0.tensor.scalars) })
            XCTAssertEqual(Set(back.trainableTensors.map(\.name)), Set(original.keys), name)
            for (tensorName, tensor) in back.trainableTensors { XCTAssertEqual(tensor.scalars, original[tensorName], "\(name): \(tensorName)") }
            XCTAssertEqual(withoutGradients { back(input) }.scalars.map(\.bitPattern), withoutGradients { model(input) }.scalars.map(\.bitPattern), name)
        }
    }

    /// The committed `vpeft_*` folders are what the exporter writes now, with vpeft's logits
    /// (the PEFT-side check reads them). VPEFT_RECORD_PEFT_EXPORT=1 rewrites them.
    func testCommittedExportsAreCurrent() throws {
        let input = try expected(Self.fixtures.appendingPathComponent("lora_shared")).input
        let record = ProcessInfo.processInfo.environment["VPEFT_RECORD_PEFT_EXPORT"] == "1"
        for (name, model) in try exportedModels() {
            let committed = Self.fixtures.appendingPathComponent(name)
            let out = record ? committed : temporaryFolder()
            try HuggingFacePEFT.export(model, baseModel: nil, to: out)
            let logits = withoutGradients { model(input) }
            if record {
                try SafeTensors.write(["input": input, "logits": logits], to: committed.appendingPathComponent("expected.safetensors"))
                continue
            }
            for file in [HuggingFacePEFT.weightsFile] {
                let a = try SafeTensors.read(out.appendingPathComponent(file)), b = try SafeTensors.read(committed.appendingPathComponent(file))
                XCTAssertEqual(Set(a.names), Set(b.names), name)
                for key in b.names { XCTAssertEqual(a.tensors[key]?.scalars, b.tensors[key]!.scalars, "\(name): \(key)") }
            }
            XCTAssertEqual(try config(out) as NSDictionary, try config(committed) as NSDictionary, name)
            XCTAssertLessThanOrEqual(maxDifference(logits, try expected(committed).logits), 1e-5, name)
        }
    }

    /// Options and tensors vpeft cannot represent are errors naming the field or tensor.
    func testUnrepresentableAdaptersAreErrorsNamingTheField() throws {
        let source = Self.fixtures.appendingPathComponent("lora_shared")
        let edits: [(field: String, value: Any)] = [
            ("peft_type", "IA3"), ("bias", "all"), ("lora_bias", true), ("fan_in_fan_out", true), ("init_lora_weights", "pissa"),
            ("modules_to_save", ["head", "norm"]), ("layer_replication", [[0, 1]]), ("r", 0),
        ]
        for (field, value) in edits {
            let folder = temporaryFolder()
            try FileManager.default.copyItem(at: source, to: folder)
            var json = try config(folder)
            json[field] = value
            try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent(HuggingFacePEFT.configFile))
            XCTAssertThrowsError(try HuggingFacePEFT.load(folder, onto: try tiny()), field) {
                XCTAssertTrue("\($0)".contains("'\(field)'"), "\(field): \($0)")
            }
        }
        // LoRA on a layer vpeft's LoRA has no target for (PEFT's "proj" also matches patch_embed.proj).
        let folder = temporaryFolder()
        try FileManager.default.copyItem(at: source, to: folder)
        let weights = folder.appendingPathComponent(HuggingFacePEFT.weightsFile)
        var tensors = try SafeTensors.read(weights).tensors
        tensors["base_model.model.patch_embed.proj.lora_A.weight"] = Tensor.zeros([3, 3, 4, 4])
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: weights)
        XCTAssertThrowsError(try HuggingFacePEFT.load(folder, onto: try tiny())) {
            XCTAssertTrue("\($0)".contains("patch_embed.proj.lora_A.weight"), "\($0)")
        }
        // A method PEFT has no same-definition form of.
        let bitfit = try PEFTModel(backbone: try tiny(), method: try MethodRegistry.method(named: "bitfit"), classes: 5)
        XCTAssertThrowsError(try HuggingFacePEFT.export(bitfit, baseModel: nil, to: temporaryFolder())) {
            XCTAssertTrue("\($0)".contains("bitfit"), "\($0)")
        }
    }
}
