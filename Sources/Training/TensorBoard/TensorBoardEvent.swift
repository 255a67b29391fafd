import Checkpoints
/// One TensorBoard event (`tensorflow.Event`, tensorboard/compat/proto/event.proto) and its
/// protobuf encoding. Only what a training run writes is modelled: the file-version header,
/// a session start (on resume it makes TensorBoard drop what a crashed process logged after its
/// last checkpoint), scalar summaries, and the hyper-parameters as the HParams plugin's
/// `session_start_info` — the summary `torch.utils.tensorboard`'s `add_hparams` writes.
///
/// Fields appear in field-number order and proto3 scalars at their default are left out unless
/// they sit in a oneof, as the reference serializer does, so the bytes equal the `tensorboard`
/// package's (`Tests/TrainingTests/Fixtures/tensorboard`, scripts/reference/make_tensorboard_fixtures.py).
public struct TensorBoardEvent: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// "brain.Event:2": the first event of every file.
        case fileVersion(String)
        /// `SessionLog` with status START: TensorBoard discards earlier events at this step or later.
        case sessionStart
        /// `Summary` values with `simple_value` (TensorBoard stores scalars as float32).
        case scalars([Scalar])
        /// The HParams plugin's `session_start_info`, keys as given (the encoding sorts them).
        case hyperparameters([String: Hyperparameter])
    }

    public struct Scalar: Equatable, Sendable {
        public var tag: String
        public var value: Float

        public init(_ tag: String, _ value: Float) {
            self.tag = tag
            self.value = value
        }
    }

    /// A `google.protobuf.Value` of the hyper-parameter map.
    public enum Hyperparameter: Equatable, Sendable {
        case number(Double), string(String), bool(Bool)
    }

    public static let fileVersion = "brain.Event:2"
    /// The HParams plugin's names (tensorboard/plugins/hparams/metadata.py).
    public static let hparamsPlugin = "hparams", sessionStartInfoTag = "_hparams_/session_start_info"

    public var wallTime: Double
    public var step: Int64
    public var content: Content

    public init(wallTime: Double, step: Int64, content: Content) {
        self.wallTime = wallTime
        self.step = step
        self.content = content
    }

    /// The serialized `tensorflow.Event`.
    public var encoded: [UInt8] {
        var event = ProtobufMessage()
        if wallTime != 0 { event.double(1, wallTime) }
        if step != 0 { event.signed(2, step) }
        switch content {
        case .fileVersion(let version):
            event.string(3, version)
        case .sessionStart:
            var log = ProtobufMessage()
            log.unsigned(1, 1)   // SessionLog.SessionStatus.START
            event.message(7, log)
        case .scalars(let scalars):
            var summary = ProtobufMessage()
            for scalar in scalars {
                var value = ProtobufMessage()
                value.string(1, scalar.tag)
                value.float(2, scalar.value)
                summary.message(1, value)
            }
            event.message(5, summary)
        case .hyperparameters(let values):
            event.message(5, Self.sessionStartInfoSummary(values))
        }
        return event.bytes
    }

    /// Map entries in the order Python's protobuf (upb) writes them with `deterministic=True`:
    /// by key bytes, except that a key follows the keys it is a prefix of ("method_options.rank"
    /// before "method": upb sorts descending and encodes back to front, with prefix ties broken
    /// the other way). Any order is valid protobuf; this one makes our bytes comparable with
    /// the reference's.
    private static func referenceMapOrder(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        if let (p, q) = zip(x, y).first(where: { $0 != $1 }) { return p < q }
        return x.count > y.count
    }

    /// Summary { value { tag; metadata { plugin_data { plugin_name: "hparams"; content:
    /// HParamsPluginData { session_start_info { hparams: map<string, Value> } } } } } }.
    private static func sessionStartInfoSummary(_ values: [String: Hyperparameter]) -> ProtobufMessage {
        var startInfo = ProtobufMessage()
        for key in values.keys.sorted(by: Self.referenceMapOrder) {
            var value = ProtobufMessage()
            switch values[key]! {
            case .number(let number): value.double(2, number)
            case .string(let text): value.string(3, text)
            case .bool(let flag): value.bool(4, flag)
            }
            var entry = ProtobufMessage()
            entry.string(1, key)
            entry.message(2, value)
            startInfo.message(1, entry)
        }
        var pluginContent = ProtobufMessage()   // HParamsPluginData, version 0 (the default, so absent)
        pluginContent.message(3, startInfo)
        var pluginData = ProtobufMessage()
        pluginData.string(1, hparamsPlugin)
        pluginData.byteString(2, pluginContent.bytes)
        var metadata = ProtobufMessage()
        metadata.message(1, pluginData)
        var value = ProtobufMessage()
        value.string(1, sessionStartInfoTag)
        value.message(9, metadata)
        var summary = ProtobufMessage()
        summary.message(1, value)
        return summary
    }
}
