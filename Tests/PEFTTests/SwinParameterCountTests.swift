import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Every method's trainable parameters on Swin-B (no head), each from its formula over the
/// blocks' own widths — Swin-B's 24 blocks have widths 128, 128, 256, 256, 512 × 18, 1024,
/// 1024 — never from the code's output. Full and Partial-1 are the reference counts
/// (timm; V-PETL's Partial-1 = `layers.3.blocks.1`).
final class SwinParameterCountTests: XCTestCase {
    /// Σ over blocks of f(C).
    private func perBlock(_ widths: [Int], _ f: (Int) -> Int) -> Int { widths.reduce(0) { $0 + f($1) } }

    func testParameterCountsOnSwinB() throws {
        var config = try SwinTransformerConfig.preset("swin_base_patch4_window7_224")
        config.numClasses = 0
        let widths = (0..<4).flatMap { s in Array(repeating: 128 << s, count: [2, 2, 18, 2][s]) }
        let blocks = widths.count
        let embed = 128, last = 1024
        // LayerNorms outside the blocks: patch_embed.norm, the patch mergings' norms over 4·C of
        // the previous stage, the final norm.
        let outsideNormChannels = embed + 4 * (128 + 256 + 512) + last
        let (p, s) = (30, 224)   // visual prompt frame, image side
        let expected: [(String, Int)] = [
            ("full", 86_743_224),
            ("linear", 0),
            ("partial", 12_601_632),
            // per block: norm1, qkv (3C), proj, norm2, fc1 (4C), fc2 biases; the patch conv's bias; norms outside.
            ("bitfit", perBlock(widths) { 11 * $0 } + embed + outsideNormChannels),
            ("ln_tune", perBlock(widths) { 4 * $0 } + 2 * outsideNormChannels),
            ("adapter", perBlock(widths) { 2 * $0 * 8 + 8 + $0 }),
            ("adaptformer", perBlock(widths) { 2 * $0 + 2 * $0 * 8 + 8 + $0 }),
            ("lora", perBlock(widths) { 2 * 8 * ($0 + $0) }),
            ("dora", perBlock(widths) { 2 * (8 * ($0 + $0) + $0) }),
            ("ssf", perBlock(widths) { 2 * ($0 + 3 * $0 + $0 + $0 + 4 * $0 + $0) } + 2 * embed + 2 * outsideNormChannels),
            ("rep_adapter", perBlock(widths) { 2 * ($0 * 8 + 8 + $0 * 8 / 2 + $0) }),
            ("convpass", perBlock(widths) { 2 * (2 * $0 * 8 + 8 + $0 + 9 * 8 * 8 + 8) }),
            ("visual_prompt", 2 * 3 * p * s + 2 * 3 * p * (s - 2 * p)),
            ("difffit", perBlock(widths) { 2 * $0 + 9 * $0 + 4 * $0 } + embed + 2 * outsideNormChannels),
            ("vera", perBlock(widths) { 2 * (256 + $0) }),
            // around proj (C → C) and fc2 (4C → C): a parallel (in → r → out) and a sequential (out → r → out) branch.
            ("hydra", perBlock(widths) { c in [c, 4 * c].reduce(0) { $0 + (8 * $1 + 8 + c * 8 + c) + (8 * c + 8 + c * 8 + c) } }),
            ("snf", perBlock(widths) { 2 * (2 * $0 + 16 * (2 * $0 + 1)) }),
            // each weight a sum of 4 branches P [in, 8] K [8, 8] Q [8, out]; down C → C/2, up C/2 → C.
            ("lorand", perBlock(widths) { c in 2 * (4 * (8 * c + 64 + 8 * c / 2) + c / 2 + 4 * (8 * c / 2 + 64 + 8 * c) + c) }),
            ("u_tuning", perBlock(widths) { 2 * 10 * $0 + 2 * $0 * 10 + 10 + $0 }),
            // norm, γ, γₓ, down C → 64, depthwise 3/5/7, 1×1 projector, up 64 → C; after both residuals.
            ("mona", perBlock(widths) { c in 2 * (2 * c + 2 * c + 64 * c + 64 + (9 + 25 + 49) * 64 + 3 * 64 + 64 * 64 + 64 + 64 * c + c) }),
            ("kadaptation", 4 * 32 * 32 + perBlock(widths) { 4 * 32 * ($0 / 32) + $0 }),
            ("sct", blocks * (96 * 96 + 96)),
            // (k + 1) per row of the patch conv and of every block's qkv, proj, fc1, fc2.
            ("gps", 2 * (embed + perBlock(widths) { 9 * $0 })),
            ("prefix", perBlock(widths) { 2 * 20 * $0 }),
            // down C → 64, up 64 → 2C, per block.
            ("patt", perBlock(widths) { $0 * 64 + 64 + 2 * $0 * 64 + 2 * $0 }),
            ("bapat", perBlock(widths) { ($0 * 64 + 64 + 2 * $0 * 64 + 2 * $0) + (2 * $0 + 2 * $0 * 8 + 8 + $0) }),
            // two adapters per block, C → C/2 → C, each weight Σ of 2 products P [in, 8] K [8, 8] Q [8, out] + bias; its own final norm.
            ("e3va", perBlock(widths) { c in 2 * (2 * (8 * c + 64 + 8 * c / 2) + c / 2 + 2 * (8 * c / 2 + 64 + 8 * c) + c) } + 2 * last),
        ]
        let refused: Set<String> = ["vpt_shallow", "vpt_deep", "fact_tt", "fact_tk", "dtl", "noah", "lst", "last", "hst"]
        XCTAssertEqual(Set(expected.map(\.0)).union(refused), Set(MethodRegistry.names), "every method is counted or refused")
        for (name, count) in expected {
            let model = try PEFTModel(backbone: try SwinTransformer(config, randomInit: false), method: try MethodRegistry.method(named: name), classes: 100)
            XCTAssertEqual(model.trainableParameterCount(), count, name)
            XCTAssertEqual(model.trainableParameterCount(includingHead: true), count + 1024 * 100 + 100, "\(name) with head")
        }
        for name in refused {
            XCTAssertThrowsError(try PEFTModel(backbone: try SwinTransformer(config, randomInit: false), method: try MethodRegistry.method(named: name), classes: 100), name) {
                XCTAssertTrue("\($0)".contains("swin_base_patch4_window7_224"), "\(name): \($0)")
            }
        }
    }
}
