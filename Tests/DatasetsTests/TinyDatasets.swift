import Datasets
import Foundation
import XCTest

/// Small datasets written to disk in the real layouts, for reader, loader and tool tests.
enum TinyDatasets {
    /// A recognisable image: the colour encodes the label, a gradient the index.
    static func image(label: Int, index: Int, width: Int = 12, height: Int = 10) -> RGB8Image {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                pixels[i] = UInt8((label * 40 + x * 3) % 256)
                pixels[i + 1] = UInt8((index * 7 + y * 5) % 256)
                pixels[i + 2] = UInt8((x * y + index) % 256)
            }
        }
        return RGB8Image(width: width, height: height, pixels: pixels)
    }

    /// A VTAB-1k task folder `<root>/<name>` with `classes` classes and `perSplit` lines per
    /// split (train800val200 = train800 + val200), images under images/<split>/.
    @discardableResult
    static func vtabTask(in root: URL, name: String, classes: Int, perSplit: [VTAB1kDataset.Split: Int] = [.train800: 8, .val200: 4, .test: 6]) throws -> URL {
        let folder = root.appendingPathComponent(name)
        var lines: [VTAB1kDataset.Split: [String]] = [:]
        for split in [VTAB1kDataset.Split.train800, .val200, .test] {
            let dir = folder.appendingPathComponent("images/\(split.rawValue)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<(perSplit[split] ?? 0) {
                let label = i % classes
                let path = "images/\(split.rawValue)/\(String(format: "%06d", i)).png"
                try writeFile(PNGEncoder.encode(image(label: label, index: i)), to: folder.appendingPathComponent(path))
                lines[split, default: []].append("\(path) \(label)")
            }
        }
        lines[.train800val200] = (lines[.train800] ?? []) + (lines[.val200] ?? [])
        for (split, entries) in lines {
            try writeFile(Data((entries.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("\(split.rawValue).txt"))
        }
        return folder
    }

    /// An image folder `<root>/<class>/<n>.png`.
    static func imageFolder(in root: URL, classes: [String], perClass: Int) throws {
        for (label, name) in classes.enumerated() {
            let dir = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<perClass {
                try writeFile(PNGEncoder.encode(image(label: label, index: i)), to: dir.appendingPathComponent("\(i).png"))
            }
        }
    }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeFile(Data(text.utf8), to: url)
    }

    /// Plain `open`/`write`: Foundation's `Data.write` syncs each file to disk (milliseconds each).
    static func writeFile(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DatasetError(file: url.path, "cannot create") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw DatasetError(file: url.path, "short write") }
    }
}
