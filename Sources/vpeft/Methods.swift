import ArgumentParser
import Foundation
import Models
import PEFT

struct Methods: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the PEFT methods with their sites, mergeability, cacheability and trainable parameters.",
        discussion: "Counts are for the method's default options on the given backbone; no weights are needed.")

    @Option(help: "Backbone preset (ViT, Swin, EfficientNet-Lite, videomae_base_patch16_224), hub folder or config.json.") var model = "vit_base_patch16_224"
    @Option(help: "Classes of the new head (for the count with head).") var classes = 100
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        guard classes > 0 else { throw ValidationError("--classes must be positive, got \(classes)") }
    }

    /// A backbone of the right shapes without real weights (zeros: counting needs no weights).
    private func shapesOnlyBackbone() throws -> any Backbone {
        if let cnn = try? EfficientNetLiteConfig.preset(model) { return try EfficientNetLite(cnn, randomInit: false) }
        if let video = try VideoMAE.config(forModel: model, numClasses: 0) { return try VideoMAE(video.config, randomInit: false) }
        if var swin = try SwinSource.resolve(model)?.config {
            swin.numClasses = 0
            return try SwinTransformer(swin, randomInit: false)
        }
        var config = try ModelSource.resolve(model).config
        config.numClasses = 0
        return try VisionTransformer(config, randomInit: false)
    }

    func run() throws {
        var rows: [[String: Any]] = []
        for type in MethodRegistry.all {
            var row: [String: Any] = ["method": type.name, "summary": type.summary, "sites": type.sites, "mergeable": type.mergeable,
                                      "cacheable": type.cacheable, "options": try MethodRegistry.options(of: type.init())]
            do {
                let peft = try PEFTModel(backbone: try shapesOnlyBackbone(), method: type.init(), classes: classes)
                row["trainable_params"] = peft.trainableParameterCount()
                row["trainable_params_with_head"] = peft.trainableParameterCount(includingHead: true)
            } catch let error as MethodOptionError {
                row["unsupported"] = error.description   // a method whose sites this backbone lacks, and why
            }
            rows.append(row)
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["model": model, "classes": classes, "methods": rows], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("PEFT methods on \(model) (\(classes) classes); params exclude the head unless stated\n")
        let header = ["method", "params", "with head", "merge", "cache", "sites"]
        let table = rows.map { r in
            [r["method"] as! String, (r["trainable_params"] as? Int)?.formatted() ?? "n/a", (r["trainable_params_with_head"] as? Int)?.formatted() ?? "n/a",
             (r["mergeable"] as! Bool) ? "yes" : "no", (r["cacheable"] as! Bool) ? "yes" : "no", r["sites"] as! String]
        }
        printTable(header, table)
        let refusals = rows.compactMap { r in (r["unsupported"] as? String).map { "  \(r["method"] as! String): \($0)" } }
        if !refusals.isEmpty {
            print("\nNot defined on \(model):")
            refusals.forEach { print($0) }
        }
    }
}

/// A plain-text table with aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    print(line(header))
    print(line(widths.map { String(repeating: "-", count: $0) }))
    for r in rows { print(line(r)) }
}
