import Foundation
import Models
import NN
import PEFT
import Tensor
import XCTest

/// Table V's trainable-parameter counts (without the head, as the paper counts) on Video Swin-B
/// and VideoMAE ViT-B, each from its formula over the blocks' widths — Video Swin-B's 24 blocks
/// have widths 128, 128, 256, 256, 512 × 18, 1024, 1024 (Σ 12,032) and Σ heads 376; ViT-B's 12
/// blocks 768 — with the options of V-PETL's video code where they exist (AdaptFormer: bottleneck
/// 64, no LayerNorm; PATT mid 128 on Swin). Where Table V's number is not reached, the comment
/// says by how much; docs/methods.md says why.
final class VideoParameterCountTests: XCTestCase {
    private func count(_ backbone: @autoclosure () throws -> any Backbone, _ name: String, _ options: [String: Any] = [:]) throws -> Int {
        try PEFTModel(backbone: try backbone(), method: try MethodRegistry.method(named: name, options: options), classes: 174).trainableParameterCount()
    }

    func testTableVCountsOnVideoSwinB() throws {
        let config = try VideoSwinTransformerConfig.preset("swin3d_base_patch244_window877")
        func swinB() throws -> any Backbone { try VideoSwinTransformer(config, randomInit: false) }
        let widths = (0..<4).flatMap { s in Array(repeating: 128 << s, count: [2, 2, 18, 2][s]) }
        let c = widths.reduce(0, +), blocks = widths.count, heads = 376
        XCTAssertEqual(c, 12_032)
        // per block: norm1, qkv, proj, norm2, fc1, fc2 biases (11C) and the 2535-row bias table; the
        // patch embedding's bias and its norm's (128), the mergings' norms (4·(128+256+512)), the final norm's.
        let bitfit = 11 * c + 2535 * heads + 128 + 128 + 4 * (128 + 256 + 512) + 1024
        let adaptFormer = 2 * 64 * c + 64 * blocks + c
        let patt128 = (128 + 2 * 128) * c + 128 * blocks + 2 * c
        let expected: [(String, [String: Any], Int)] = [
            ("full", [:], 87_638_984),                                           // Table V 87.64M
            ("linear", [:], 0),                                                  // 0M
            ("lora", ["rank": 16], 2 * 16 * 2 * c),                              // 770,048; Table V 0.75M
            ("bitfit", ["bias_tables": true], bitfit),                           // 1,090,376; Table V 1.09M
            ("bitfit", [:], bitfit - 2535 * heads),                              // the tables frozen: 137,216
            ("adaptformer", ["dim": 64, "layernorm": false], adaptFormer),       // 1,553,664; Table V 1.56M
            ("prefix", ["length": 20], 2 * 20 * c),                              // 481,280; Table V 6.37M (another prefix, see docs)
            ("bapat", ["dim": 128, "adapter_dim": 64], patt128 + adaptFormer + 2 * c),  // 6,225,152; Table V 6.18M
        ]
        XCTAssertEqual(bitfit, 1_090_376)
        for (name, options, value) in expected {
            XCTAssertEqual(try count(try swinB(), name, options), value, name)
        }
    }

    /// The same BitFit on 2-D Swin-B: its 11C biases per block, outside biases and the 169-row tables:
    /// 200,760, Table VI's 0.20M (137,216 without the tables).
    func testBitFitWithBiasTablesOnSwinB() throws {
        var config = try SwinTransformerConfig.preset("swin_base_patch4_window7_224")
        config.numClasses = 0
        XCTAssertEqual(try count(try SwinTransformer(config, randomInit: false), "bitfit", ["bias_tables": true]), 137_216 + 169 * 376)
    }

    func testTableVCountsOnVideoMAEViTB() throws {
        func vitB() throws -> any Backbone { try VideoMAE(.base, randomInit: false) }
        let d = 768, blocks = 12
        let adaptFormer = blocks * (2 * 64 * d + 64 + d)
        let expected: [(String, [String: Any], Int)] = [
            // the released encoder's 86,227,200 + the 12 zero key-bias thirds of the fused qkv bias; Table V 85.97M
            ("full", [:], 86_227_200 + blocks * d),
            ("adaptformer", ["dim": 64, "layernorm": false], adaptFormer),       // 1,189,632: Table V 1.19M
            // PATT mid 32 + AdaptFormer 64 with its LayerNorm: 2,111,616; Table V 2.06M
            ("bapat", ["dim": 32, "adapter_dim": 64], blocks * ((32 + 2 * 32) * d + 32 + 2 * d) + adaptFormer + blocks * 2 * d),
        ]
        XCTAssertEqual(adaptFormer, 1_189_632)
        for (name, options, value) in expected {
            XCTAssertEqual(try count(try vitB(), name, options), value, name)
        }
    }
}
