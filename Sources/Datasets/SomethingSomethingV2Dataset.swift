import Foundation

/// Something-Something-V2 as 20BN distributes it: `labels.json` maps each of the 174 action
/// templates to its index (`{"Approaching something with your camera": "0", …}`), `train.json`
/// and `validation.json` list the videos (`[{"id": "78687", "template": "Holding [something]
/// next to [something]", …}, …]`), and each video is `<id>.webm`. A video's class is its
/// template with the brackets removed. The validation set is the test split, as in VideoMAE.
/// Clips: 16 segments (one frame each); test views 2 × 3 (`VideoTestViews.somethingSomethingV2`).
public enum SomethingSomethingV2Dataset {
    public static let classCount = 174

    /// - Parameters:
    ///   - root: the dataset folder.
    ///   - annotations: folder under `root` holding the three JSON files.
    ///   - videos: folder under `root` holding `<id>.webm` (or `<id>/` frame folders, named in
    ///     `videoName`).
    ///   - frames: frames per clip (VideoMAE: 16; V-PETL: 8).
    public static func load(root: URL, annotations: String = "labels", videos: String = "20bn-something-something-v2",
                            frames: Int = 16, videoName: (String) -> String = { "\($0).webm" }) throws -> VideoDatasetSplits {
        let folder = annotations.isEmpty ? root : root.appendingPathComponent(annotations)
        let labelsFile = folder.appendingPathComponent("labels.json")
        let labels = try readJSON(labelsFile) as? [String: Any] ?? [:]
        var indexOfTemplate: [String: Int] = [:]
        for (template, value) in labels {
            guard let index = (value as? String).flatMap({ Int($0) }) ?? (value as? Int) else {
                throw DatasetError(file: labelsFile.path, "class '\(template)' has index \(value); expected an integer (as a string)")
            }
            indexOfTemplate[template] = index
        }
        guard !indexOfTemplate.isEmpty, Set(indexOfTemplate.values) == Set(0..<indexOfTemplate.count) else {
            throw DatasetError(file: labelsFile.path, "class indices must be 0..<\(indexOfTemplate.count), each once")
        }
        var classNames = [String](repeating: "", count: indexOfTemplate.count)
        for (template, index) in indexOfTemplate { classNames[index] = template }

        func samples(_ name: String) throws -> [LabeledSample] {
            let file = folder.appendingPathComponent(name)
            guard let entries = try readJSON(file) as? [[String: Any]] else {
                throw DatasetError(file: file.path, "expected a list of {\"id\", \"template\", …} objects")
            }
            return try entries.enumerated().map { position, entry in
                guard let id = entry["id"] as? String, !id.isEmpty, id.allSatisfy(\.isNumber) else {
                    throw DatasetError(file: file.path, "entry \(position): 'id' \(entry["id"].map { "\($0)" } ?? "is missing"); expected a numeric string")
                }
                guard let template = entry["template"] as? String else {
                    throw DatasetError(file: file.path, "entry \(position) (id \(id)): 'template' is missing")
                }
                let className = template.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
                guard let label = indexOfTemplate[className] else {
                    throw DatasetError(file: file.path, "entry \(position) (id \(id)): template '\(className)' is not in labels.json")
                }
                let path = videos.isEmpty ? videoName(id) : videos + "/" + videoName(id)
                return LabeledSample(path: path, label: label, listFile: file.path)
            }
        }
        return VideoDatasetSplits(root: root, classNames: classNames, train: try samples("train.json"),
                                  test: try samples("validation.json"), sampling: .segments(count: frames),
                                  testViews: .somethingSomethingV2)
    }

    private static func readJSON(_ url: URL) throws -> Any {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError(file: url.path, "annotation file is missing") }
        do {
            return try JSONSerialization.jsonObject(with: try ImageDecoder.readFile(url))
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError(file: url.path, "not valid JSON: \((error as NSError).localizedDescription)")
        }
    }
}
