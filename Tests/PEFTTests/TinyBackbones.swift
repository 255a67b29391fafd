import Foundation
import Models
import NN
import PEFT
import Tensor

/// The tiny, reference-checked backbones every method is tested on: the ViT of
/// Tests/ModelsTests/Fixtures/vit/cls_token (d 32, 2 blocks, class token), the Swin of
/// …/swin/shifted_padded (widths 8/16/32, padded shifted windows, patch merging of odd sides),
/// the VideoMAE of …/videomae/hf (d 32, 2 blocks, clips of 4 frames: 2 time steps of 2×2 tokens)
/// the Video Swin of …/video_swin and the reduced EfficientNet-Lite of …/efficientnet. Each has the options that make every
/// method non-trivial on it.
struct TinyBackbone {
    let name: String
    let make: () throws -> any Backbone
    let imageSize: Int
    let options: [String: [String: Any]]
    /// Frames per clip for a video backbone, whose input is [B, T, 3, H, W].
    var frames: Int? = nil

    func images(_ seed: UInt64 = 5) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.normal([2] + (frames.map { [$0] } ?? []) + [3, imageSize, imageSize], using: &rng)
    }

    func model(_ method: String, initStyle: InitStyle = .intended, seed: UInt64 = 3) throws -> PEFTModel {
        try PEFTModel(backbone: try make(), method: try MethodRegistry.method(named: method, options: options[method] ?? [:]), classes: 5,
                      initStyle: initStyle, seed: seed)
    }

    /// The registered methods this backbone has sites for (the others refuse it by name).
    func supportedMethods() -> [String] {
        MethodRegistry.names.filter { (try? model($0)) != nil }
    }

    static let vit = TinyBackbone(name: "vit", make: { try VisionTransformer.load(model: MethodSuiteTests.tinyFolder.path) }, imageSize: 16,
                                  options: MethodSuiteTests.tinyOptions)

    static let swin = TinyBackbone(name: "swin", make: { try SwinTransformer.load(model: SwinMethodTests.folder.path) }, imageSize: 36, options: [
        "partial": ["k": 1], "adapter": ["dim": 4, "houlsby": true], "adaptformer": ["dim": 4, "scale": 0.7],
        "lora": ["rank": 2, "alpha": 3, "targets": ["q", "k", "v", "proj", "fc1", "fc2"]], "dora": ["rank": 4, "alpha": 4], "vera": ["rank": 8],
        "hydra": ["rank": 4, "scale": 0.6], "snf": ["flows": 2], "lorand": ["branches": 2, "kernel": 3], "u_tuning": ["length": 3, "dim": 4],
        "mona": ["dim": 6], "kadaptation": ["kron": 4, "scale": 2], "sct": ["channels": 6], "rep_adapter": ["dim": 4, "scale": 0.8],
        "convpass": ["dim": 4, "scale": 0.5], "prefix": ["length": 3], "patt": ["dim": 6, "scale": 0.4], "bapat": ["dim": 6, "adapter_dim": 4],
        "e3va": ["branches": 2, "kernel": 3],
    ])

    static let videoMAE = TinyBackbone(name: "videomae", make: { try VideoMAE.load(model: VideoMAEMethodTests.folder.path) }, imageSize: 16,
                                       options: MethodSuiteTests.tinyOptions, frames: 4)

    /// The Video Swin of Tests/ModelsTests/Fixtures/video_swin (widths 4/8/16/32, windows 4×3×3
    /// padded, shifted and shrunk; the released checkpoint's weights), on clips of 5 frames.
    static let videoSwin = TinyBackbone(name: "video_swin", make: tinyVideoSwin, imageSize: 30, options: [
        "partial": ["k": 1], "adapter": ["dim": 4, "houlsby": true], "adaptformer": ["dim": 4, "scale": 0.7],
        "lora": ["rank": 2, "alpha": 3, "targets": ["q", "k", "v", "proj", "fc1", "fc2"]], "dora": ["rank": 2, "alpha": 4], "vera": ["rank": 8],
        "hydra": ["rank": 2, "scale": 0.6], "snf": ["flows": 2], "lorand": ["branches": 2, "kernel": 2], "u_tuning": ["length": 3, "dim": 4],
        "mona": ["dim": 4], "kadaptation": ["kron": 2, "scale": 2], "sct": ["channels": 4], "rep_adapter": ["dim": 4, "scale": 0.8],
        "convpass": ["dim": 4, "scale": 0.5], "prefix": ["length": 3], "patt": ["dim": 6, "scale": 0.4], "bapat": ["dim": 6, "adapter_dim": 4],
        "e3va": ["branches": 2, "kernel": 2],
    ], frames: 5)

    static func tinyVideoSwin() throws -> VideoSwinTransformer {
        var c = VideoSwinTransformerConfig()
        (c.imgSize, c.numFrames, c.patchSize, c.embedDim) = (30, 5, [2, 4, 4], 4)
        (c.depths, c.numHeads, c.windowSize, c.numClasses, c.dropPathRate) = ([2, 2, 2, 2], [1, 2, 2, 4], [4, 3, 3], 5, 0)
        let model = try VideoSwinTransformer(c, seed: 1)
        try model.loadCheckpoint(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/video_swin/released.pth"))
        return model
    }

    static let efficientNet = TinyBackbone(name: "efficientnet", make: tinyEfficientNet, imageSize: 40, options: CNNMethodTests.cnnOptions)

    /// The reduced Lite0 (input 40, stem 8, 16 features) with the reference weights.
    static func tinyEfficientNet() throws -> EfficientNetLite {
        let reference = CNNMethodTests.reference
        let config = try JSONDecoder().decode(EfficientNetLiteConfig.self, from: Data(reference.metadata["config"]!.utf8))
        let model = try EfficientNetLite(config, seed: 1)
        try model.loadState(reference.tensors.filter { $0.key.hasPrefix("_") })
        return model
    }

    static let all = [vit, swin, videoMAE, videoSwin, efficientNet]
}
