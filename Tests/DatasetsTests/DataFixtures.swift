import Datasets
import Foundation
import Tensor
import XCTest

/// The reference pixels written by scripts/reference/make_data_fixtures.py (PIL 13, torchvision,
/// timm 1.0.31): `decode.*`, `resize.*`, `augment.*`, `normalize.*`, `idx.*`, each with its
/// parameters as JSON metadata under the same key.
enum DataFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    nonisolated(unsafe) private static var loaded: SafeTensors.File?
    private static let lock = NSLock()

    static func references() throws -> SafeTensors.File {
        lock.lock(); defer { lock.unlock() }
        if let file = loaded { return file }
        let file = try SafeTensors.read(folder.appendingPathComponent("references.safetensors"))
        loaded = file
        return file
    }

    static func keys(prefix: String) throws -> [String] {
        try references().tensors.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    static func parameters(_ key: String) throws -> [String: Any] {
        let text = try references().metadata[key] ?? "{}"
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// A [H, W, 3] uint8 reference as an image.
    static func image(_ key: String) throws -> RGB8Image {
        guard let t = try references().tensors[key] else { throw DatasetError(file: "references.safetensors", "no tensor \(key)") }
        return RGB8Image(width: t.shape[1], height: t.shape[0], pixels: t.scalars.map { UInt8($0) })
    }

    static func url(_ relative: String) -> URL { folder.appendingPathComponent(relative) }
}

/// Largest per-channel difference between two images, and how many channel values differ.
func pixelDifference(_ a: RGB8Image, _ b: RGB8Image) -> (max: Int, count: Int) {
    guard a.width == b.width, a.height == b.height else { return (Int.max, Int.max) }
    var worst = 0, count = 0
    for i in 0..<a.pixels.count {
        let d = abs(Int(a.pixels[i]) - Int(b.pixels[i]))
        if d > 0 { count += 1; worst = max(worst, d) }
    }
    return (worst, count)
}

func assertImagesClose(_ actual: RGB8Image, _ expected: RGB8Image, tolerance: Int, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
    guard actual.width == expected.width, actual.height == expected.height else {
        XCTFail("\(what): size \(actual.width)×\(actual.height), expected \(expected.width)×\(expected.height)", file: file, line: line)
        return
    }
    let (worst, count) = pixelDifference(actual, expected)
    if worst > tolerance {
        XCTFail("\(what): \(count) of \(actual.pixels.count) values differ, by up to \(worst) levels (tolerance \(tolerance))", file: file, line: line)
    }
}

/// A fresh temporary directory, removed when the test case ends.
func temporaryDirectory(_ test: XCTestCase, _ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-data-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
