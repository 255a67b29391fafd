import Foundation

/// Folder contents in a fixed order, so datasets read from folders number their classes and
/// files the same way on every machine (Python's `sorted`: by Unicode code point).
enum DirectoryListing {
    /// Visible entries of `folder` (hidden `.` files skipped), sorted by code point.
    static func sortedEntries(_ folder: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { !$0.hasPrefix(".") }
                .sorted { $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        } catch {
            throw DatasetError(file: folder.path, "cannot list folder: \((error as NSError).localizedDescription)")
        }
    }

    /// `url` with every symlink resolved, or nil when it does not exist.
    static func realPath(_ url: URL) -> String? {
        guard let resolved = realpath(url.path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }
}
