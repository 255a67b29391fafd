import Foundation
import Tensor

/// numpy's `.npz`: a zip archive (stored by `np.savez`, deflated by `np.savez_compressed`) of
/// `.npy` arrays, one entry `<name>.npy` per array. Google's ViT checkpoints use it.
public enum NPZ {
    /// The arrays by name (entry names without ".npy").
    public static func read(_ url: URL) throws -> [String: NumpyArray] {
        try read(ZipArchive(contentsOf: url))
    }

    public static func read(_ archive: ZipArchive) throws -> [String: NumpyArray] {
        var arrays: [String: NumpyArray] = [:]
        for entry in archive.entries where !entry.name.hasSuffix("/") {  // directories hold no data
            guard entry.name.hasSuffix(".npy") else {
                throw TensorFileError(file: archive.path, key: entry.name, "an .npz entry must be an .npy array")
            }
            let name = String(entry.name.dropLast(4))
            arrays[name] = try NumpyArray(parsing: archive.data(for: entry.name), file: archive.path, key: name)
        }
        return arrays
    }

    /// Whether a zip archive looks like an `.npz`: at least one entry, all of them `.npy` arrays.
    static func holdsArrays(_ archive: ZipArchive) -> Bool {
        let files = archive.entries.filter { !$0.name.hasSuffix("/") }
        return !files.isEmpty && files.allSatisfy { $0.name.hasSuffix(".npy") }
    }
}
