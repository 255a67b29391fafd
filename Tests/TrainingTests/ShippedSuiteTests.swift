import Foundation
import Heads
import Models
import PEFT
import Training
import XCTest

/// The suite files under configs/suites: each parses and every cell resolves against the
/// method recipes of configs/methods (what `vpeft bench` does before training it); the Swin-B
/// suites run the ViT suites' tasks with methods that attach to Swin-B.
final class ShippedSuiteTests: XCTestCase {
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs")

    private func suite(_ name: String) throws -> BenchSuite {
        try BenchSuite.load(Self.configs.appendingPathComponent("suites/\(name).yaml"))
    }

    func testEverySuiteParsesAndEveryCellResolves() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.configs.appendingPathComponent("suites"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
        XCTAssertTrue(Set(files.map(\.lastPathComponent)).isSuperset(of: ["vtab1k.yaml", "fgvc.yaml", "vtab1k_swin.yaml", "fgvc_swin.yaml"]))
        for file in files {
            let grid = try BenchSuite.load(file)
            for cell in grid.cells {
                let (config, _) = try RunConfiguration.resolve(configFile: nil, flags: grid.flags(for: cell), overrides: [], configsFolder: Self.configs)
                XCTAssertEqual(config.method, cell.method, "\(file.lastPathComponent): \(cell.folderName)")
                XCTAssertEqual(config.dataset, cell.dataset, "\(file.lastPathComponent): \(cell.folderName)")
            }
        }
    }

    func testSwinSuitesRunSwinBOnTheViTSuitesTasks() throws {
        var config = try SwinTransformerConfig.preset("swin_base_patch4_window7_224")
        config.numClasses = 0
        for (swin, vit) in [("vtab1k_swin", "vtab1k"), ("fgvc_swin", "fgvc")] {
            let grid = try suite(swin)
            XCTAssertEqual(grid.datasets, try suite(vit).datasets, swin)
            XCTAssertEqual(grid.settings["model"], .string("swin_base_patch4_window7_224"), swin)
            XCTAssertEqual(grid.settings["weights"], .string("swin_base_patch4_window7_224_22k.pth"), swin)
            let (first, _) = try RunConfiguration.resolve(configFile: nil, flags: grid.flags(for: grid.cells[0]), overrides: [], configsFolder: Self.configs)
            XCTAssertEqual(first.normalization, "imagenet", "\(swin): the paper's pipeline, which are Swin's pre-training statistics too")
            for method in grid.methods {
                let backbone = try SwinTransformer(config, randomInit: false)
                XCTAssertNoThrow(try PEFTModel(backbone: backbone, method: try MethodRegistry.method(named: method), classes: 10), "\(swin): \(method)")
            }
        }
    }

    /// The ADE20K suite is Table VI's rows with mmseg's recipe, and every cell attaches to a
    /// dense Swin-L under a UPerNet head, with the method options the suite gives it; the Swin-B
    /// suite is the same grid on Swin-B.
    func testADE20KSuitesAttachEveryTableVIRowToUPerNetOnSwin() throws {
        var base = try suite("ade20k_swin_base")
        XCTAssertEqual(base.settings["weights"], .string("swin_base_patch4_window7_224_22k.pth"))
        (base.name, base.settings["model"], base.settings["weights"]) = ("ade20k", .string("swin_large_patch4_window7_224"), .string("swin_large_patch4_window7_224_22k.pth"))
        XCTAssertEqual(base, try suite("ade20k"), "the Swin-B suite differs only in its backbone")
        for (name, preset) in [("ade20k", "swin_large_patch4_window7_224")] {
            let grid = try suite(name)
            XCTAssertEqual(Set(grid.methods), ["full", "linear", "bitfit", "ln_tune", "partial", "adapter", "lora", "adaptformer", "lorand", "e3va", "mona"], name)
            XCTAssertEqual(grid.settings["model"], .string(preset), name)
            var swinConfig = try SwinTransformerConfig.preset(preset)
            (swinConfig.numClasses, swinConfig.windowing) = (0, .dense)
            for cell in grid.cells {
                let (config, _) = try RunConfiguration.resolve(configFile: nil, flags: grid.flags(for: cell), overrides: [], configsFolder: Self.configs)
                XCTAssertTrue(SegmentationSettings.isSegmentation(config), "\(name): \(cell.method)")
                XCTAssertEqual([config.lr, config.weightDecay], [6e-5, 0.01], "\(name): \(cell.method)")
                XCTAssertEqual(config.schedule, "poly")
                XCTAssertEqual(config.warmupIters, 1500)
                XCTAssertEqual(config.epochs * ((20_210 + config.batchSize - 1) / config.batchSize), 160_528, "about mmseg's 160k iterations")
                let settings = try SegmentationSettings(config)
                XCTAssertEqual(settings.cropSize, 512)
                let swin = try SwinTransformer(swinConfig, randomInit: false)   // zeros: attaching needs shapes only
                var head = settings.uperNetConfig(classes: 150)
                (head.hiddenSize, head.auxiliaryChannels) = (8, 4)   // a narrow head: only the backbone's sites matter here
                let segmenter = try UperNetSegmenter(backbone: swin, config: head)
                let method = try MethodRegistry.method(named: config.method, options: config.methodOptions.mapValues(\.foundationValue))
                XCTAssertNoThrow(try PEFTModel(backbone: swin, method: method, head: segmenter), "\(name): \(cell.method)")
            }
        }
    }
}
