import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// The ViT side of the method suite: counts on ViT-B/16, the V-PETL init, adapter-file refusals,
/// option errors. Gradient flow, frozen tensors through training, identity at init, merge and
/// save/load run for every backbone in SharedMethodSuiteTests (with `tinyOptions` on the ViT).
final class MethodSuiteTests: XCTestCase {
    static let tinyFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/vit/cls_token")

    /// Options that make every method non-trivial on the tiny model (d 32, 2 blocks).
    static let tinyOptions: [String: [String: Any]] = [
        "partial": ["k": 1], "adapter": ["dim": 4, "houlsby": true], "adaptformer": ["dim": 4, "scale": 0.7],
        "lora": ["rank": 2, "alpha": 3, "targets": ["q", "k", "v", "proj", "fc1", "fc2"]], "dora": ["rank": 4, "alpha": 4],
        "vpt_shallow": ["prompts": 3], "vpt_deep": ["prompts": 2], "prefix": ["length": 3], "fact_tt": ["rank": 4, "scale": 0.5],
        "fact_tk": ["rank": 4, "scale": 0.3], "vera": ["rank": 8], "hydra": ["rank": 4, "scale": 0.6], "patt": ["dim": 6, "scale": 0.4], "bapat": ["dim": 6, "adapter_dim": 4], "snf": ["flows": 2], "lorand": ["branches": 2, "kernel": 3], "u_tuning": ["length": 3, "dim": 4], "mona": ["dim": 6], "dtl": ["rank": 2, "start": 1], "kadaptation": ["kron": 4, "scale": 2], "noah": ["prompts": [2, 1], "ranks": [2, 3], "adapter_dims": [3, 0]],
        "lst": ["width": 8, "heads": 2], "last": ["rank": 4, "heads": 2], "sct": ["channels": 8], "gps": ["k": 1], "hst": ["widths": [6, 10], "heads": [2, 2], "blocks_per_stage": [1, 1]], "rep_adapter": ["dim": 4, "scale": 0.8], "convpass": ["dim": 4, "scale": 0.5],
    ]

    /// Methods defined on Swin stages only (SharedMethodSuiteTests, E3VATests and
    /// SwinPyTorchReferenceTests cover them on the tiny Swin); every other method has a ViT-B/16
    /// count and a ViT reference.
    static let swinOnly: Set<String> = [E3VA.name]
    static var vitMethods: [String] { MethodRegistry.names.filter { !swinOnly.contains($0) } }

    /// Methods whose intended init leaves the backbone's function unchanged.
    static let identityAtInit: Set<String> = ["full", "linear", "partial", "bitfit", "ln_tune", "adapter", "adaptformer", "lora", "dora",
                                              "fact_tt", "fact_tk", "rep_adapter", "convpass", "difffit", "vera", "hydra", "patt", "bapat", "u_tuning", "kadaptation", "last", "sct", "gps"]

    func tinyBackbone() throws -> VisionTransformer {
        try VisionTransformer.load(model: Self.tinyFolder.path)
    }

    func tinyModel(_ name: String, initStyle: InitStyle = .intended, seed: UInt64 = 3) throws -> PEFTModel {
        let method = try MethodRegistry.method(named: name, options: Self.tinyOptions[name] ?? [:])
        return try PEFTModel(backbone: try tinyBackbone(), method: method, classes: 5, initStyle: initStyle, seed: seed)
    }

    func images(_ seed: UInt64 = 5) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.normal([2, 3, 16, 16], using: &rng)
    }

    // MARK: - Parameter counts (docs/methods.md, ViT-B/16, no head)

    func testParameterCountsOnViTB16() throws {
        let expected: [(String, [String: Any], Int)] = [
            ("full", [:], 85_798_656), ("linear", [:], 0), ("partial", ["k": 1], 7_089_408), ("bitfit", [:], 102_912),
            ("ln_tune", [:], 38_400), ("adapter", [:], 156_768), ("adaptformer", [:], 175_200), ("lora", [:], 294_912),
            ("dora", [:], 313_344), ("vpt_shallow", ["prompts": 100], 76_800), ("vpt_deep", ["prompts": 10], 92_160),
            ("prefix", ["length": 20], 368_640), ("ssf", [:], 205_824), ("fact_tt", ["rank": 8], 21_504),
            ("fact_tk", ["rank": 32], 86_528), ("rep_adapter", [:], 239_808), ("convpass", [:], 327_552),
            ("visual_prompt", [:], 69_840), ("difffit", [:], 140_544), ("vera", [:], 24_576), ("hydra", [:], 848_256), ("patt", [:], 1_788_672), ("bapat", [:], 1_963_872), ("snf", [:], 627_072), ("lorand", [:], 1_809_408), ("u_tuning", [:], 377_976), ("mona", [:], 2_684_928), ("dtl", [:], 36_864),
            ("kadaptation", [:], 50_176), ("noah", [:], 320_330), ("lst", [:], 2_376_492), ("last", [:], 608_256), ("sct", [:], 111_744), ("gps", [:], 167_424), ("hst", [:], 764_840),
        ]
        XCTAssertEqual(Set(expected.map(\.0)), Set(Self.vitMethods), "every registered ViT method has an expected count")
        var config = try VisionTransformerConfig.preset("vit_base_patch16_224")
        config.numClasses = 0
        for (name, options, count) in expected {
            let backbone = try VisionTransformer(config, randomInit: false)
            let model = try PEFTModel(backbone: backbone, method: try MethodRegistry.method(named: name, options: options), classes: 100)
            XCTAssertEqual(model.trainableParameterCount(), count, name)
            let headInput = name == "hst" ? 72 : 768   // HST's head reads its last side stage
            XCTAssertEqual(model.trainableParameterCount(includingHead: true), count + headInput * 100 + 100, "\(name) with head")
        }
    }

    // MARK: - Init styles

    func testVPETLInitBreaksTheIdentityOfAdapters() throws {
        let x = images()
        let intended = try tinyModel("adapter"), vpetl = try tinyModel("adapter", initStyle: .vpetl)
        let a = withoutGradients { intended.forward(x).features }, b = withoutGradients { vpetl.forward(x).features }
        XCTAssertTrue(zip(a.scalars, b.scalars).contains { Swift.abs($0 - $1) > 1e-4 }, "vpetl re-initialises the up-projection")
    }

    // MARK: - Adapter files

    func testAdapterRefusesAnotherBackbone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-adapter-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let backbone = try tinyBackbone()
        let model = try PEFTModel(backbone: backbone, method: LoRA(), classes: 5)
        try AdapterFile.save(model, backboneFingerprint: Fingerprint.of(try tinyBackbone()), to: folder)
        // Other weights, same architecture.
        let other = try tinyBackbone()
        other.blocks[0].attn.qkv.weight.data[0] += 1
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: other)) { XCTAssertTrue("\($0)".contains("other backbone weights"), "\($0)") }
        // Another architecture.
        let avg = try VisionTransformer.load(model: Self.tinyFolder.deletingLastPathComponent().appendingPathComponent("avg_fc_norm").path)
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: avg)) { XCTAssertTrue("\($0)".contains("different backbone"), "\($0)") }
        // Another class count.
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: try tinyBackbone(), classes: 7)) { XCTAssertTrue("\($0)".contains("5 classes"), "\($0)") }
        // A truncated tensor file.
        let st = folder.appendingPathComponent("adapter.safetensors")
        let data = try Data(contentsOf: st)
        try data.prefix(data.count / 2).write(to: st)
        XCTAssertThrowsError(try AdapterFile.load(folder, onto: try tinyBackbone())) { XCTAssertTrue("\($0)".contains("adapter.safetensors"), "\($0)") }
    }

    // MARK: - Bad options

    func testBadMethodNamesAndOptionsAreClearErrors() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { _ = try MethodRegistry.method(named: "lorra") }.contains("known methods: full"))
        XCTAssertTrue(message { _ = try MethodRegistry.method(named: "lora", options: ["rnak": 4]) }.contains("valid options: alpha, dropout, rank, targets"))
        XCTAssertTrue(message { _ = try MethodRegistry.method(named: "lora", options: ["rank": "eight"]) }.contains("'rank'"))
        XCTAssertTrue(message { _ = try MethodRegistry.method(named: "lora", options: ["targets": ["q", "x"]]) }.contains("targets"))
        var preset = try! VisionTransformerConfig.preset("vit_base_patch16_224")
        preset.numClasses = 0
        let config = try! VisionTransformer(preset, randomInit: false)
        XCTAssertTrue(message { try MethodRegistry.method(named: "lora", options: ["rank": 0]).validate(for: config) }.contains("'rank' = 0"))
        XCTAssertTrue(message { try MethodRegistry.method(named: "vpt_deep", options: ["prompts": -1]).validate(for: config) }.contains("'prompts' = -1"))
        XCTAssertTrue(message { try MethodRegistry.method(named: "partial", options: ["k": 13]).validate(for: config) }.contains("1…12"))
        XCTAssertTrue(message { try MethodRegistry.method(named: "rep_adapter", options: ["groups": 3]).validate(for: config) }.contains("groups"))
        // Targets by their timm path in the block decode to the short names; the whole fused qkv
        // cannot be combined with one of its slices.
        XCTAssertEqual((try MethodRegistry.method(named: "lora", options: ["targets": ["attn.qkv.q", "attn.proj", "mlp.fc2"]]) as! LoRA).targets, [.q, .proj, .fc2])
        XCTAssertTrue(message { try MethodRegistry.method(named: "lora", options: ["targets": ["attn.qkv", "v"]]).validate(for: config) }.contains("attn.qkv"))
    }
}

/// max |a − b| ≤ atol + relative·max|b|.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float, relative: Float = 0, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else { return XCTFail("\(what): shape \(actual.shape) != \(expected.shape)", file: file, line: line) }
    let scale = expected.scalars.map { Swift.abs($0) }.max() ?? 0
    var worst: Float = 0
    for i in 0..<actual.count { let d = Swift.abs(actual.data[i] - expected.data[i]); if !(d <= worst) { worst = d } }
    XCTAssertLessThanOrEqual(worst, atol + relative * scale, "\(what): max |Δ| \(worst)", file: file, line: line)
}
