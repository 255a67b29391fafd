import Foundation
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
}
