import Foundation

/// Finds and reads every run record under a results folder.
public enum RunRecordLoader {
    /// All `vpeft-run/1` records in `directory` and its subfolders (`*.json`, hidden files and
    /// folders skipped, files in path order so output is reproducible). Other JSON files are
    /// ignored; a broken record is an error naming the file, because silently dropping a cell
    /// would change a table's means without anyone noticing.
    public static func load(from directory: URL) throws -> [RunRecord] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunRecordError(file: directory, reason: "no such results folder")
        }
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: [.skipsHiddenFiles]) else {
            throw RunRecordError(file: directory, reason: "cannot list the folder")
        }
        let files = enumerator.compactMap { $0 as? URL }
            .filter { $0.pathExtension.lowercased() == "json" && (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.path < $1.path }
        var records: [RunRecord] = []
        for file in files {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw RunRecordError(file: file, reason: "cannot read (\(error.localizedDescription))")
            }
            if let record = try RunRecord.decode(data, file: file) { records.append(record) }
        }
        guard !records.isEmpty else {
            throw RunRecordError(file: directory, reason: "no run records (\"schema\": \"\(RunRecord.schema)\") found")
        }
        return records
    }
}
