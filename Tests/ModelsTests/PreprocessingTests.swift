import Foundation
import Models
import XCTest

/// Every backbone carries the preprocessing its weights expect (timm's `pretrained_cfg`), and a
/// hub folder's `pretrained_cfg` wins over the preset's.
final class PreprocessingTests: XCTestCase {
    func testPresetsCarryTheirFamilysPreprocessing() throws {
        let lite0 = try EfficientNetLite.load(model: "efficientnet_lite0", weights: nil)
        XCTAssertEqual(lite0.preprocessing.normalizationName, "efficientnet")
        XCTAssertEqual(lite0.preprocessing.resizeSize(for: lite0.inputSize), 256, "TF's evaluation: short side 224 + 32")
        let lite1 = try EfficientNetLite.load(model: "efficientnet_lite1", weights: nil)
        XCTAssertEqual([lite1.inputSize, lite1.preprocessing.resizeSize(for: lite1.inputSize)], [240, 272])

        let vit = try VisionTransformer.load(model: "vit_tiny_patch16_224")
        XCTAssertEqual([vit.preprocessing.normalizationName, vit.preprocessing.interpolation], ["inception", "bicubic"])
        XCTAssertEqual(vit.preprocessing.resizeSize(for: 224), 248, "timm: floor(224 / 0.9)")
        let clip = try VisionTransformer.load(model: "vit_base_patch32_clip_224")
        XCTAssertEqual([clip.preprocessing.normalizationName, "\(clip.preprocessing.cropFraction)"], ["clip", "1.0"])
        let dinov2 = try VisionTransformer.load(model: "vit_small_patch14_dinov2", imgSize: 224)
        XCTAssertEqual(dinov2.preprocessing, .dinov2)
        XCTAssertEqual(dinov2.config.initValues, 1e-5, "DINOv2 has LayerScale")

        let swin = try SwinTransformer.load(model: "swin_tiny_patch4_window7_224")
        XCTAssertEqual([swin.preprocessing.normalizationName, "\(swin.preprocessing.cropFraction)"], ["imagenet", "0.9"])
    }

    func testHubPretrainedConfigOverridesThePreset() throws {
        let folder = try hubFolder(#"{"architecture": "vit_tiny_patch16_224", "pretrained_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "interpolation": "bilinear", "crop_pct": 0.875}}"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        let vit = try VisionTransformer.load(model: folder.path)
        XCTAssertEqual(vit.preprocessing.normalizationName, "imagenet")
        XCTAssertEqual(vit.preprocessing.interpolation, "bilinear")
        XCTAssertEqual(vit.preprocessing.resizeSize(for: 224), 256)
        XCTAssertTrue(vit.preprocessing.source.hasSuffix("config.json pretrained_cfg"), vit.preprocessing.source)

        let swinFolder = try hubFolder(#"{"architecture": "swin_tiny_patch4_window7_224", "pretrained_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}"#)
        defer { try? FileManager.default.removeItem(at: swinFolder) }
        XCTAssertEqual(try SwinTransformer.load(model: swinFolder.path).preprocessing.normalizationName, "inception")
    }

    func testWrongPretrainedConfigValuesNameTheKey() throws {
        for (cfg, key) in [(#""std": [0.2, 0, 0.2]"#, "pretrained_cfg.std"), (#""mean": [0.5, 0.5]"#, "pretrained_cfg.mean"),
                           (#""interpolation": "lanczos""#, "pretrained_cfg.interpolation"), (#""crop_pct": 1.5"#, "pretrained_cfg.crop_pct")] {
            let folder = try hubFolder(#"{"architecture": "vit_tiny_patch16_224", "pretrained_cfg": {"# + cfg + "}}")
            defer { try? FileManager.default.removeItem(at: folder) }
            XCTAssertThrowsError(try VisionTransformer.load(model: folder.path)) { error in
                XCTAssertTrue("\(error)".contains(key) && "\(error)".contains("config.json"), "\(error)")
            }
        }
    }

    func testImageNetClassNames() throws {
        let names = ImageNetClasses.names
        XCTAssertEqual(names.count, 1000)
        XCTAssertEqual([names[0], names[967], names[999]], ["tench", "espresso", "toilet tissue"])
        // The embedded copy equals the list fetch_assets.sh builds, where that is present.
        let asset = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../assets/imagenet_classes.txt")
        if let text = try? String(contentsOf: asset, encoding: .utf8) {
            XCTAssertEqual(text.split(separator: "\n").map(String.init), names)
        }
    }

    private func hubFolder(_ json: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try json.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return folder
    }
}
