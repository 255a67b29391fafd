import Foundation

/// torchvision's `ImageFolder` layout: `<root>/<class>/…/<image>`, classes = sorted
/// sub-folder names (by code point, as Python's `sorted`), images found recursively in sorted
/// order. Only JPEG and PNG files are taken (the formats we decode); hidden entries (`.git`,
/// `.DS_Store`) are skipped.
public enum ImageFolderDataset {
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    public static func load(_ root: URL) throws -> ImageFileList {
        let classes = try DirectoryListing.sortedEntries(root).filter { DirectoryListing.isDirectory(root.appendingPathComponent($0)) }
        guard !classes.isEmpty else { throw DatasetError(file: root.path, "no class folders (expected <root>/<class>/<image>)") }
        var samples: [LabeledSample] = []
        var visited = Set<String>()
        for (label, name) in classes.enumerated() {
            let images = try imageFiles(in: root.appendingPathComponent(name), relative: name, visited: &visited)
            guard !images.isEmpty else {
                throw DatasetError(file: root.appendingPathComponent(name).path, "class folder '\(name)' has no JPEG or PNG images")
            }
            samples += images.map { LabeledSample(path: $0, label: label) }
        }
        return try ImageFileList(root: root, samples: samples, classCount: classes.count, classNames: classes)
    }

    /// Images under `folder`; `visited` holds the real paths of folders already walked, so a
    /// symlink loop is entered once instead of forever.
    private static func imageFiles(in folder: URL, relative: String, visited: inout Set<String>) throws -> [String] {
        guard let real = DirectoryListing.realPath(folder), visited.insert(real).inserted else { return [] }
        var found: [String] = []
        for name in try DirectoryListing.sortedEntries(folder) {
            let url = folder.appendingPathComponent(name)
            if DirectoryListing.isDirectory(url) {
                found += try imageFiles(in: url, relative: relative + "/" + name, visited: &visited)
            } else if extensions.contains(url.pathExtension.lowercased()) {
                found.append(relative + "/" + name)
            }
        }
        return found
    }
}
