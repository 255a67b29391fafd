import Checkpoints
import Foundation
import Models
import NN
import Tensor
import XCTest

/// The Swift Video Swin against the PyTorch reference of
/// scripts/reference/make_video_swin_fixtures.py (written from the released `SwinTransformer3D`
/// and `I3DHead`), on its tiny model with every parameter perturbed, loaded from the released
/// checkpoint layout: clips whose T, H and W need padding to tubelets and to windows, shifted
/// windows, windows shrunk to the map in space (stage 2, 3) and in time (clip b).
final class VideoSwinParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/video_swin")

    /// The reference model's architecture (the script's `Recognizer`).
    static var tinyConfig: VideoSwinTransformerConfig {
        var c = VideoSwinTransformerConfig()
        (c.imgSize, c.numFrames, c.patchSize, c.embedDim) = (30, 9, [2, 4, 4], 4)
        (c.depths, c.numHeads, c.windowSize, c.numClasses, c.dropPathRate) = ([2, 2, 2, 2], [1, 2, 2, 4], [4, 3, 3], 5, 0)
        return c
    }

    /// The tiny model with the released checkpoint's weights.
    static func tinyModel() throws -> VideoSwinTransformer {
        let model = try VideoSwinTransformer(tinyConfig, seed: 1)
        try model.loadCheckpoint(folder.appendingPathComponent("released.pth"))
        return model
    }

    private func reference() throws -> [String: Tensor] {
        try SafeTensors.read(Self.folder.appendingPathComponent("reference.safetensors")).tensors
    }

    func testReleasedCheckpointMatchesTheReference() throws {
        let ref = try reference()
        let model = try Self.tinyModel()
        let a = withoutGradients { model.forward(ref["clip_a"]!) }
        assertClose(try XCTUnwrap(a.logits), ref["logits_a"]!, "logits (padded, shifted, shrunk in space)")
        assertClose(a.features, ref["features_a"]!, "pooled features")
        XCTAssertEqual(a.tokens.shape, [2, 5, 8, 8, 4], "tubelet map of 9 frames, 30² pixels")
        XCTAssertEqual(a.final.shape, [2, 5, 1, 1, 32])
        let b = withoutGradients { model.forward(ref["clip_b"]!) }
        assertClose(try XCTUnwrap(b.logits), ref["logits_b"]!, "logits (window shrunk in time)")
    }

    /// d sum(logits · gout) for parameters across the model: the patch embedding, bias tables of
    /// a shifted and of a shrunk window, a qkv weight, a patch merging, the last MLP, the norm.
    func testGradientsMatchTheReference() throws {
        let ref = try reference()
        let model = try Self.tinyModel()
        model.setTrainable(false)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor) })
        let names = ref.keys.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }.sorted()
        XCTAssertEqual(names.count, 8)
        for name in names { try XCTUnwrap(parameters[name], name).requiresGrad = true }
        try XCTUnwrap(model.forward(ref["clip_a"]!).logits).backward(ref["gout_a"]!)
        for name in names {
            assertClose(try XCTUnwrap(parameters[name]!.grad, "no gradient for \(name)"), ref["grad.\(name)"]!, "gradient of \(name)")
        }
    }

    /// `get_window_size`: an axis no longer than the window takes the whole axis and no shift.
    func testWindowsShrinkToTheMap() {
        for (size, window, shift) in [([8, 56, 56], [8, 7, 7], [0, 3, 3]), ([16, 7, 7], [8, 7, 7], [4, 0, 0]), ([2, 5, 9], [2, 5, 7], [0, 0, 3])] {
            let effective = VideoSwinTransformer.effectiveWindow(size: size, window: [8, 7, 7], shift: [4, 3, 3])
            XCTAssertEqual(effective.window, window, "\(size)")
            XCTAssertEqual(effective.shift, shift, "\(size)")
        }
    }

    /// The 3-D index against the released formula on a few hand-computed pairs (window 8×7×7:
    /// 392 tokens, 2535 table rows).
    func testRelativePositionIndex() {
        let index = WindowAttention3D.relativePositionIndex(window: [8, 7, 7])
        XCTAssertEqual(index.count, 392 * 392)
        // Token 0 = (0, 0, 0), token 391 = (7, 6, 6): offsets (−7, −6, −6) → 0; (7, 6, 6) → 2534.
        XCTAssertEqual(index[0 * 392 + 391], 0)
        XCTAssertEqual(index[391 * 392 + 0], 2534)
        // A token with itself: the centre (7, 6, 6) → 7·169 + 6·13 + 6 = 1267.
        XCTAssertEqual(index[100 * 392 + 100], 1267)
        // (1, 0, 2) = token 51 against (0, 3, 0) = token 21: (1+7)·169 + (−3+6)·13 + (2+6) = 1399.
        XCTAssertEqual(index[51 * 392 + 21], 1399)
    }

    func testCheckpointErrorsNameTheKeyAndFile() throws {
        let file = try Checkpoint.read(Self.folder.appendingPathComponent("released.pth")).unwrapped()
        func attempt(_ edit: (inout [String: Tensor]) -> Void, mentions: [String]) throws {
            var tensors = file.tensors
            edit(&tensors)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("video-swin-\(ProcessInfo.processInfo.processIdentifier)-bad.safetensors")
            try SafeTensors.write(tensors, to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let model = try VideoSwinTransformer(Self.tinyConfig)
            XCTAssertThrowsError(try model.loadCheckpoint(url)) { error in
                for word in mentions + [url.lastPathComponent] { XCTAssertTrue("\(error)".contains(word), "\(error) should name \(word)") }
            }
        }
        try attempt({ $0["backbone.layers.1.blocks.0.norm2.bias"] = nil }, mentions: ["missing", "layers.1.blocks.0.norm2.bias"])
        try attempt({ $0["backbone.layers.0.blocks.0.attn.extra"] = Tensor.zeros([2]) }, mentions: ["unexpected", "layers.0.blocks.0.attn.extra"])
        try attempt({ $0["cls_head.fc_cls.weight"] = Tensor.zeros([7, 32]) }, mentions: ["head.weight", "[7, 32]"])
        try attempt({ $0["backbone.layers.2.blocks.1.attn.relative_position_index"]!.data[5] += 1 }, mentions: ["layers.2.blocks.1.attn.relative_position_index", "entry 5"])
        // Through the CLI's loader: a checkpoint of another architecture names its mis-shaped tensors.
        XCTAssertThrowsError(try BackboneLoader.load(model: "swin3d_tiny_patch244_window877", weights: Self.folder.appendingPathComponent("released.pth"),
                                                     imgSize: 30, numClasses: 5)) { error in
            XCTAssertTrue("\(error)".contains("'patch_embed.proj.weight': checkpoint shape [4, 96], model expects [96, 96]") && "\(error)".contains("released.pth"), "\(error)")
        }
    }

    /// Video Swin-B: timm's Swin-B without head (86,743,224) + the Conv3d's extra time tap
    /// (3·2·4·4·128 − 3·4·4·128 = 6,144) + each block's larger bias table ((2535 − 169) rows ×
    /// heads, Σ heads over the 24 blocks = 2·4 + 2·8 + 18·16 + 2·32 = 376) = 87,638,984: Table V's
    /// 87.64M. The released K400 head adds 1024·400 + 400.
    func testSwinBaseCounts() throws {
        let base = try VideoSwinTransformer(try VideoSwinTransformerConfig.preset("swin3d_base_patch244_window877"), randomInit: false)
        XCTAssertEqual(base.config.embedDim, 128)
        let swinB2D = 86_743_224, timeTap = 6_144, largerTables = (2535 - 169) * 376
        XCTAssertEqual(base.parameterCount - base.head!.parameterCount, swinB2D + timeTap + largerTables)
        XCTAssertEqual(base.head!.parameterCount, 1024 * 400 + 400)
        XCTAssertEqual(base.blocks[0].attn.relativePositionBiasTable.shape, [2535, 4])
        XCTAssertEqual(base.architecture, "swin3d_base_patch244_window877")
        XCTAssertEqual(try VideoSwinTransformerConfig.preset("swin3d_base_patch244_window877.sthv2").numClasses, 174)
        XCTAssertThrowsError(try VideoSwinTransformerConfig.preset("swin3d_huge")) { XCTAssertTrue("\($0)".contains("swin3d_huge")) }
    }
}
