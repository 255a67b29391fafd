import Foundation
import Heads
import NN
import Tensor
import XCTest

/// mmseg-style UPerNet + Swin checkpoints: the name table against names read off mmseg's code,
/// a `.pth` written by `scripts/reference/make_mmseg_upernet_fixtures.py` (the swin_w2_s32 HF
/// model renamed to mmseg's names in Python, PatchMerging in nn.Unfold's order, saved as mmseg's
/// runner saves) against HF's logits, a round trip through mmseg names, and the errors.
final class MMSegUperNetLoadingTests: XCTestCase {
    static let folder = UperNetParityTests.folder.appendingPathComponent("swin_w2_s32")
    static let pth = UperNetParityTests.folder.appendingPathComponent("swin_w2_s32_mmseg.pth").path

    /// The HF fixture model with every tensor zeroed: whatever it computes after loading came from the file.
    private func blankModel() throws -> UperNetSegmenter {
        let model = try UperNetSegmenter.loadHuggingFace(Self.folder.path, imgSize: 32)
        for (_, t) in model.namedParameters + model.namedBuffers { t.data.update(repeating: 0, count: t.count) }
        return model
    }

    private func reference() throws -> [String: Tensor] {
        try SafeTensors.read(Self.folder.appendingPathComponent("reference.safetensors")).tensors
    }

    /// Pairs read off mmseg's swin.py (PatchEmbed.projection, stages / blocks, ShiftWindowMSA.w_msa,
    /// mmcv FFN's layers.0.0 / layers.1, PatchMerging at a stage's end, norm{i} per output),
    /// uper_head.py / fcn_head.py (psp_modules.k.1, ConvModule conv / bn, conv_seg).
    func testNameTableMatchesMMSegsModules() {
        let pairs: [(String, String, Bool)] = [
            ("backbone.patch_embed.projection.weight", "backbone.patch_embed.proj.weight", false),
            ("backbone.patch_embed.norm.bias", "backbone.patch_embed.norm.bias", false),
            ("backbone.stages.0.blocks.1.attn.w_msa.qkv.weight", "backbone.layers.0.blocks.1.attn.qkv.weight", false),
            ("backbone.stages.0.blocks.1.attn.w_msa.proj.bias", "backbone.layers.0.blocks.1.attn.proj.bias", false),
            ("backbone.stages.2.blocks.0.attn.w_msa.relative_position_bias_table", "backbone.layers.2.blocks.0.attn.relative_position_bias_table", false),
            ("backbone.stages.1.blocks.0.norm1.weight", "backbone.layers.1.blocks.0.norm1.weight", false),
            ("backbone.stages.3.blocks.1.norm2.bias", "backbone.layers.3.blocks.1.norm2.bias", false),
            ("backbone.stages.1.blocks.0.ffn.layers.0.0.weight", "backbone.layers.1.blocks.0.mlp.fc1.weight", false),
            ("backbone.stages.1.blocks.0.ffn.layers.1.bias", "backbone.layers.1.blocks.0.mlp.fc2.bias", false),
            ("backbone.stages.0.downsample.reduction.weight", "backbone.layers.1.downsample.reduction.weight", true),
            ("backbone.stages.2.downsample.norm.bias", "backbone.layers.3.downsample.norm.bias", true),
            ("backbone.norm0.weight", "backbone.hidden_states_norms.stage1.weight", false),
            ("backbone.norm3.bias", "backbone.hidden_states_norms.stage4.bias", false),
            ("decode_head.psp_modules.2.1.conv.weight", "decode_head.psp_modules.2.1.conv.weight", false),
            ("decode_head.psp_modules.0.1.bn.running_var", "decode_head.psp_modules.0.1.batch_norm.running_var", false),
            ("decode_head.bottleneck.bn.weight", "decode_head.bottleneck.batch_norm.weight", false),
            ("decode_head.lateral_convs.1.conv.weight", "decode_head.lateral_convs.1.conv.weight", false),
            ("decode_head.fpn_convs.2.bn.bias", "decode_head.fpn_convs.2.batch_norm.bias", false),
            ("decode_head.fpn_bottleneck.conv.weight", "decode_head.fpn_bottleneck.conv.weight", false),
            ("decode_head.conv_seg.weight", "decode_head.classifier.weight", false),
            ("auxiliary_head.convs.0.bn.running_mean", "auxiliary_head.convs.0.batch_norm.running_mean", false),
            ("auxiliary_head.conv_seg.bias", "auxiliary_head.classifier.bias", false),
        ]
        for (mmseg, ours, unfold) in pairs {
            XCTAssertEqual(MMSegUperNetNames.ours(mmseg), .tensor(ours, unfoldOrder: unfold), mmseg)
            XCTAssertEqual(MMSegUperNetNames.mmseg(ours), mmseg, ours)
        }
        XCTAssertEqual(MMSegUperNetNames.ours("backbone.stages.0.blocks.0.attn.w_msa.relative_position_index"), .derived)
        XCTAssertEqual(MMSegUperNetNames.ours("decode_head.bottleneck.bn.num_batches_tracked"), .derived)
        for foreign in ["backbone.stages.0.blocks.0.attn.qkv.weight", "neck.lateral.weight", "backbone.layers.0.blocks.0.norm1.weight"] {
            XCTAssertNil(MMSegUperNetNames.ours(foreign), foreign)
        }
        XCTAssertNil(MMSegUperNetNames.mmseg("backbone.norm.weight"), "mmseg's backbone has no final norm")
    }

    /// Every name of our segmenter has an mmseg name (but the final norm), and those are exactly
    /// the names the Python script wrote, less the derived buffers.
    func testEveryTensorHasAnMMSegNameAndTheFileHoldsThem() throws {
        let model = try blankModel()
        let file = try XCTUnwrap(try UperNetSegmenter.readMMSegCheckpoint(Self.pth))
        let ours = (model.namedParameters + model.namedBuffers).map(\.name).filter { !$0.hasPrefix("backbone.norm.") }
        XCTAssertEqual(Set(ours.compactMap(MMSegUperNetNames.mmseg)).count, ours.count)
        XCTAssertEqual(Set(ours.compactMap(MMSegUperNetNames.mmseg)), Set(file.keys.filter { MMSegUperNetNames.ours($0) != .derived }))
    }

    /// The `.pth` (meta + state_dict) loads into a blank model and gives HF's logits.
    func testMMSegCheckpointGivesHuggingFaceLogits() throws {
        let model = try blankModel()
        try model.loadMMSegState(try XCTUnwrap(try UperNetSegmenter.readMMSegCheckpoint(Self.pth)), file: Self.pth)
        let reference = try reference()
        let out = withoutGradients { model.forward(try! XCTUnwrap(reference["input"])) }
        assertClose(out.logits, try XCTUnwrap(reference["logits"]), atol: 1e-5, "logits")
        assertClose(try XCTUnwrap(out.auxiliaryLogits), try XCTUnwrap(reference["auxiliary_logits"]), atol: 1e-5, "auxiliary logits")
    }

    /// The swin_w2_s32 architecture as a timm hub config (a `.pth` names no architecture).
    static func swinConfigFile() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-mmseg-swin-\(UUID()).json")
        let json = #"{"architecture": "swin_tiny_patch4_window7_224", "model_args": {"img_size": 32, "patch_size": 2, "embed_dim": 4, "depths": [2, 2, 2, 2], "num_heads": [1, 1, 2, 2], "window_size": 2, "mlp_ratio": 2.0}}"#
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// `loadMMSeg` builds the head from the tensors' shapes (5 classes, 8 channels, one 4-channel
    /// auxiliary conv) on the Swin the config names, and gives HF's logits.
    func testLoadMMSegOnASwinConfig() throws {
        let swin = try Self.swinConfigFile()
        let model = try XCTUnwrap(try UperNetSegmenter.loadMMSeg(Self.pth, swin: swin, imgSize: 32))
        XCTAssertEqual([model.config.numLabels, model.config.hiddenSize, model.config.auxiliaryChannels, model.config.auxiliaryNumConvs], [5, 8, 4, 1])
        let reference = try reference()
        assertClose(withoutGradients { model.forward(try! XCTUnwrap(reference["input"])).logits }, try XCTUnwrap(reference["logits"]), atol: 1e-5, "logits")
        XCTAssertNil(try UperNetSegmenter.loadMMSeg(Self.folder.appendingPathComponent("model.safetensors").path, swin: swin, imgSize: 32))
        XCTAssertThrowsError(try UperNetSegmenter.loadMMSeg(Self.pth, swin: "vit_base_patch16_224", imgSize: 32)) { error in
            XCTAssertTrue("\(error)".contains("vit_base_patch16_224 is not a Swin"), "\(error)")
        }
    }

    /// Our state written under mmseg's names (PatchMerging put in Unfold order) loads back into a
    /// blank model with identical logits.
    func testRoundTripThroughMMSegNames() throws {
        let source = try UperNetSegmenter.loadHuggingFace(Self.folder.path, imgSize: 32)
        var state: [String: Tensor] = [:]
        for (name, t) in source.namedParameters + source.namedBuffers {
            guard let key = MMSegUperNetNames.mmseg(name) else { continue }
            state[key] = name.contains(".downsample.") ? MMSegUperNetNames.toUnfoldOrder(t) : t
        }
        XCTAssertNotEqual(state["backbone.stages.0.downsample.reduction.weight"]?.scalars,
                          source.namedParameters.first { $0.name == "backbone.layers.1.downsample.reduction.weight" }?.tensor.scalars)
        let target = try blankModel()
        try target.loadMMSegState(state, file: "roundtrip")
        let input = try XCTUnwrap(try reference()["input"])
        XCTAssertEqual(withoutGradients { target.forward(input).logits }.scalars, withoutGradients { source.forward(input).logits }.scalars)
    }

    /// A missing tensor, a mis-shaped one and a foreign one are named (mmseg's names) with the file.
    func testErrorsNameTheKeyAndFile() throws {
        let file = try XCTUnwrap(try UperNetSegmenter.readMMSegCheckpoint(Self.pth))
        func error(_ change: (inout [String: Tensor]) -> Void) throws -> String {
            var tensors = file
            change(&tensors)
            do { try blankModel().loadMMSegState(tensors, file: Self.pth) } catch { return "\(error)" }
            XCTFail("no error")
            return ""
        }
        let missing = try error { $0["backbone.stages.1.blocks.0.ffn.layers.1.weight"] = nil }
        XCTAssertTrue(missing.contains("missing keys: backbone.stages.1.blocks.0.ffn.layers.1.weight") && missing.contains(Self.pth), missing)
        let shape = try error { $0["decode_head.conv_seg.weight"] = Tensor(shape: [7, 8, 1, 1]) }
        XCTAssertTrue(shape.contains("'decode_head.conv_seg.weight': checkpoint shape [7, 8, 1, 1], model expects [5, 8, 1, 1]"), shape)
        let foreign = try error { $0["backbone.stages.0.blocks.0.attn.qkv.weight"] = Tensor(shape: [1]) }
        XCTAssertTrue(foreign.contains("unexpected keys: backbone.stages.0.blocks.0.attn.qkv.weight"), foreign)
        XCTAssertNil(try UperNetSegmenter.readMMSegCheckpoint(Self.folder.appendingPathComponent("model.safetensors").path), "an HF file is not an mmseg UPerNet")
    }
}
