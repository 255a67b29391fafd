import Foundation

/// What a training run shows in TensorBoard. `Trainer` keeps one per process in the run folder,
/// next to `epochs.csv`, so `tensorboard --logdir runs/` lists every run and every bench cell:
///
/// - the resolved configuration as hyper-parameters (HParams dashboard), once, when the run starts;
/// - per finished epoch, at step = epoch (1-based, as in `epochs.csv`): `train/loss`, `train/top1`,
///   `train/lr`, `train/images_per_s`, `train/data_wait_s`, `memory/peak_mb`, and after an
///   evaluation `eval/top1`, `eval/top5`, `eval/loss`, `eval/images_per_s` (segmentation:
///   `eval/miou`, `eval/macc`, `eval/aacc`).
///
/// A resumed run opens a new file that starts with a session start at the first epoch it will log:
/// TensorBoard then drops anything the previous process logged from that epoch on (written after
/// its last checkpoint, before a crash), so every epoch appears once.
public final class TrainingEventLog {
    public let file: TensorBoardEventFile

    /// `firstEpoch`: the 1-based epoch this process finishes first; `freshStart`: no earlier
    /// process worked on the run (then the hyper-parameters are written).
    public init(folder: URL, config: TrainingConfig, firstEpoch: Int, freshStart: Bool, now: Date = Date()) throws {
        file = try TensorBoardEventFile(folder: folder, now: now)
        let time = now.timeIntervalSince1970
        if freshStart {
            try file.write(TensorBoardEvent(wallTime: time, step: 0, content: .hyperparameters(Self.hyperparameters(config))))
        }
        try file.write(TensorBoardEvent(wallTime: time, step: Int64(firstEpoch), content: .sessionStart))
    }

    public func epochFinished(_ record: EpochRecord, at time: Date = Date()) throws {
        try file.write(TensorBoardEvent(wallTime: time.timeIntervalSince1970, step: Int64(record.epoch), content: .scalars(Self.scalars(of: record))))
    }

    public static func scalars(of record: EpochRecord) -> [TensorBoardEvent.Scalar] {
        let values: [(String, Double?)] = [
            ("train/loss", record.trainLoss), ("train/top1", record.trainTop1), ("train/lr", record.lr),
            ("train/images_per_s", record.trainImagesPerSecond), ("train/data_wait_s", record.dataWaitSeconds),
            ("memory/peak_mb", record.peakMemoryMB),
            ("eval/top1", record.evalTop1), ("eval/top5", record.evalTop5), ("eval/loss", record.evalLoss),
            ("eval/images_per_s", record.evalImagesPerSecond),
            ("eval/miou", record.evalMIoU), ("eval/macc", record.evalMAcc), ("eval/aacc", record.evalAAcc),
        ]
        return values.compactMap { tag, value in value.map { TensorBoardEvent.Scalar(tag, Float($0)) } }
    }

    /// The configuration's keys as the record stores them (snake_case); method options as
    /// `method_options.<name>`; lists as their JSON text (the dashboard takes numbers, strings
    /// and booleans only); unset keys left out.
    public static func hyperparameters(_ config: TrainingConfig) -> [String: TensorBoardEvent.Hyperparameter] {
        // Encoding a config of plain values cannot fail.
        let object = try! JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(config))
        var out: [String: TensorBoardEvent.Hyperparameter] = [:]
        func add(_ key: String, _ value: JSONValue) {
            switch value {
            case .number(let number): out[key] = .number(number)
            case .string(let text): out[key] = .string(text)
            case .bool(let flag): out[key] = .bool(flag)
            case .object(let members): for (name, member) in members { add("\(key).\(name)", member) }
            case .array: out[key] = .string(Self.json(value))
            case .null: break
            }
        }
        for (key, value) in object { add(key, value) }
        return out
    }

    private static func json(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
