import Foundation

/// One run (one grid cell) as read from its `vpeft-run/1` JSON file (docs/RESULTS_SCHEMA.md):
/// the fields tables and plots need, flattened. Optional fields are the ones a record may lack
/// (e.g. merged throughput for a method that cannot merge).
public struct RunRecord: Sendable {
    /// The file it was read from (errors and warnings name it).
    public var file: URL
    public var runID: String?
    /// Method id as the registry spells it ("lora", "vpt_deep", "full", …).
    public var method: String
    /// The method's options, each value as canonical JSON text ("8", "[\"q\",\"v\"]"): two
    /// records are the same configuration when method and options agree.
    public var methodOptions: [String: String]
    public var backbone: String?
    public var dataset: String
    /// VTAB-1k group (natural / specialized / structured) or the suite's own grouping.
    public var datasetGroup: String?
    public var datasetSuite: String?
    /// "vpetl" (best epoch on the test set) or "honest" (validation-selected, final epoch), …
    public var evaluationProtocol: String
    /// The training recipe (vpetl or official); nil in records written before recipes existed.
    public var recipe: String?
    public var seed: Int
    /// The task's score in % under the protocol: the number tables report (top-1 accuracy for
    /// classification, mIoU for segmentation; `metric` says which).
    public var accuracy: Double
    /// What `accuracy` measures: "top1" (records without the field) or "miou".
    public var metric: String = "top1"
    public var reportedKind: String?
    public var perEpoch: [EpochAccuracy]
    /// Trainable parameters without the classification head (the paper's "# Params").
    public var trainableParameters: Int
    public var cost: Cost
    public var cpu: String?
    public var threads: Int?
    /// The resolved training configuration and the environment as recorded, each value as
    /// canonical JSON text (reports show them as they are; their meaning is `Training`'s).
    public var configuration: [String: String] = [:]
    public var environment: [String: String] = [:]

    public struct EpochAccuracy: Equatable, Sendable {
        public var epoch: Int
        public var top1: Double
    }

    public struct Cost: Equatable, Sendable {
        public var adapterBytes: Int?
        public var peakMemoryMB: Double?
        public var trainImagesPerSecond: Double?
        public var evalImagesPerSecond: Double?
        public var mergedEvalImagesPerSecond: Double?
        public var wallSeconds: Double?
    }
}

/// A run-record file that cannot be used, with the file and the reason.
public struct RunRecordError: Error, CustomStringConvertible {
    public let file: URL
    public let reason: String

    public var description: String { "\(file.path): \(reason)" }
}

extension RunRecord {
    /// The schema this reader understands.
    public static let schema = "vpeft-run/1"

    /// Decodes a record. Returns nil for JSON that is not a run record at all (no "schema"
    /// field, or another tool's schema: adapter.json, configs), so a results tree may hold
    /// other files; throws for a record that is broken or of an unknown version.
    public static func decode(_ data: Data, file: URL) throws -> RunRecord? {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw RunRecordError(file: file, reason: "not valid JSON (\(error.localizedDescription)); a run killed while writing?")
        }
        guard let dictionary = object as? [String: Any], let schema = dictionary["schema"] as? String,
              schema.hasPrefix("vpeft-run/") else { return nil }
        guard schema == Self.schema else {
            throw RunRecordError(file: file, reason: "schema '\(schema)' is not supported (this reader knows '\(Self.schema)')")
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as DecodingError {
            throw RunRecordError(file: file, reason: Self.explain(error))
        }
        func canonicalTexts(_ key: String) -> [String: String] {
            var texts: [String: String] = [:]
            for (name, value) in dictionary[key] as? [String: Any] ?? [:] {
                let text = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
                texts[name] = text.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
            return texts
        }
        guard document.accuracy.reported.isFinite, document.params.trainable >= 0 else {
            throw RunRecordError(file: file, reason: "accuracy.reported must be finite and params.trainable ≥ 0")
        }
        return RunRecord(
            file: file, runID: document.runID, method: document.method, methodOptions: canonicalTexts("method_options"),
            backbone: document.backbone?.architecture, dataset: document.dataset.name,
            datasetGroup: document.dataset.group, datasetSuite: document.dataset.suite,
            evaluationProtocol: document.evaluationProtocol, recipe: document.recipe, seed: document.seed,
            accuracy: document.accuracy.reported, metric: document.accuracy.metric ?? "top1", reportedKind: document.accuracy.reportedKind,
            perEpoch: (document.accuracy.perEpoch ?? []).map { EpochAccuracy(epoch: $0.epoch, top1: $0.top1) },
            trainableParameters: document.params.trainable,
            cost: Cost(adapterBytes: document.cost?.adapterBytes, peakMemoryMB: document.cost?.peakMemoryMB,
                       trainImagesPerSecond: document.cost?.trainImagesPerSecond,
                       evalImagesPerSecond: document.cost?.evalImagesPerSecond,
                       mergedEvalImagesPerSecond: document.cost?.mergedEvalImagesPerSecond,
                       wallSeconds: document.cost?.wallSeconds),
            cpu: document.environment?.cpu, threads: document.environment?.threads,
            configuration: canonicalTexts("config"), environment: canonicalTexts("environment"))
    }

    /// "missing field accuracy.reported", "field seed: expected Int" — the JSON path, not
    /// Swift's type names, so the message says what to fix in the file.
    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \(path(context, key))"
        case .valueNotFound(let type, let context): return "field \(path(context)) is null (expected \(type))"
        case .typeMismatch(let type, let context): return "field \(path(context)) has the wrong type (expected \(type))"
        case .dataCorrupted(let context): return "field \(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// The file's shape, as far as reports read it.
    private struct Document: Decodable {
        var runID: String?
        var method: String
        var backbone: Backbone?
        var dataset: Dataset
        var evaluationProtocol: String
        var recipe: String?
        var seed: Int
        var accuracy: Accuracy
        var params: Params
        var cost: CostFields?
        var environment: Environment?

        enum CodingKeys: String, CodingKey {
            case runID = "run_id", method, backbone, dataset, evaluationProtocol = "protocol", recipe, seed, accuracy, params, cost, environment
        }

        struct Backbone: Decodable { var architecture: String? }

        struct Dataset: Decodable {
            var name: String
            var group: String?
            var suite: String?
        }

        struct Accuracy: Decodable {
            var reported: Double
            var metric: String?
            var reportedKind: String?
            var perEpoch: [Epoch]?

            enum CodingKeys: String, CodingKey { case reported, metric, reportedKind = "reported_kind", perEpoch = "per_epoch" }

            struct Epoch: Decodable {
                var epoch: Int
                var top1: Double
            }
        }

        struct Params: Decodable { var trainable: Int }

        struct CostFields: Decodable {
            var adapterBytes: Int?
            var peakMemoryMB: Double?
            var trainImagesPerSecond: Double?
            var evalImagesPerSecond: Double?
            var mergedEvalImagesPerSecond: Double?
            var wallSeconds: Double?

            enum CodingKeys: String, CodingKey {
                case adapterBytes = "adapter_bytes", peakMemoryMB = "peak_memory_mb", trainImagesPerSecond = "train_images_per_s"
                case evalImagesPerSecond = "eval_images_per_s", mergedEvalImagesPerSecond = "merged_eval_images_per_s"
                case wallSeconds = "wall_seconds"
            }
        }

        struct Environment: Decodable {
            var cpu: String?
            var threads: Int?
        }
    }
}
