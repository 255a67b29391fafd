import Checkpoints
import Foundation
import Training
import XCTest

/// The TensorBoard writer against known CRC-32C vectors and against event files the
/// `tensorboard` package wrote itself (scripts/reference/make_tensorboard_fixtures.py).
final class TensorBoardTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tensorboard")

    /// RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)   // rotate right by 15, add (wrapping)
    }

    private struct Description: Decodable {
        struct Event: Decodable {
            var wall_time: Double
            var step: Int64
            var kind: String
            var payload: JSONValue
        }
        struct CRC: Decodable {
            var hex: String
            var crc: UInt32
            var masked: UInt32
        }
        var event_file: String
        var events: [Event]
        var crc32c: [CRC]
    }

    private func description() throws -> Description {
        try JSONDecoder().decode(Description.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("events.json")))
    }

    func testCRCsEqualTensorBoards() throws {
        for entry in try description().crc32c {
            let bytes = stride(from: 0, to: entry.hex.count, by: 2).map { i -> UInt8 in
                let start = entry.hex.index(entry.hex.startIndex, offsetBy: i)
                return UInt8(entry.hex[start..<entry.hex.index(start, offsetBy: 2)], radix: 16)!
            }
            XCTAssertEqual(CRC32C.checksum(bytes), entry.crc, entry.hex)
            XCTAssertEqual(CRC32C.masked(CRC32C.checksum(bytes)), entry.masked, entry.hex)
        }
    }

    func testVarintsAndFieldTags() {
        XCTAssertEqual(ProtobufMessage.varint(0), [0])
        XCTAssertEqual(ProtobufMessage.varint(127), [0x7F])
        XCTAssertEqual(ProtobufMessage.varint(128), [0x80, 0x01])
        XCTAssertEqual(ProtobufMessage.varint(300), [0xAC, 0x02])
        XCTAssertEqual(ProtobufMessage.varint(UInt64.max), [UInt8](repeating: 0xFF, count: 9) + [0x01])
        var message = ProtobufMessage()
        message.double(1, 1)
        message.signed(2, -1)
        message.string(3, "hi")
        message.float(2, 0.5)
        message.bool(4, true)
        var expected: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]   // field 1, fixed64: 1.0
        expected += [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01]   // field 2, varint: −1 takes ten bytes
        expected += [0x1A, 0x02, 0x68, 0x69]                               // field 3, length-delimited "hi"
        expected += [0x15, 0, 0, 0, 0x3F]                                  // field 2, fixed32: 0.5
        expected += [0x20, 0x01]                                           // field 4, varint: true
        XCTAssertEqual(message.bytes, expected)
    }

    /// The fixture's framing checks out (both CRCs of every record) with our CRC, and our
    /// events, framed, are the same bytes the tensorboard package wrote.
    func testEventsEqualTheTensorBoardPackagesBytes() throws {
        let spec = try description()
        let fixture = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(spec.event_file)))
        let records = try TensorBoardReading.records(fixture)
        XCTAssertEqual(records.count, spec.events.count)
        var written: [UInt8] = []
        for (index, entry) in spec.events.enumerated() {
            let content: TensorBoardEvent.Content
            switch (entry.kind, entry.payload) {
            case ("file_version", .string(let version)): content = .fileVersion(version)
            case ("session_start", _): content = .sessionStart
            case ("scalars", .array(let pairs)):
                content = .scalars(pairs.map { pair -> TensorBoardEvent.Scalar in
                    guard case .array(let items) = pair, case .string(let tag) = items[0], case .number(let value) = items[1] else { fatalError("\(pair)") }
                    return TensorBoardEvent.Scalar(tag, Float(value))
                })
            case ("hparams", .object(let values)):
                content = .hyperparameters(values.mapValues { value -> TensorBoardEvent.Hyperparameter in
                    switch value {
                    case .number(let n): return .number(n)
                    case .string(let s): return .string(s)
                    case .bool(let b): return .bool(b)
                    default: fatalError("\(value)")
                    }
                })
            default: return XCTFail("fixture event \(index): \(entry.kind)")
            }
            let event = TensorBoardEvent(wallTime: entry.wall_time, step: entry.step, content: content)
            XCTAssertEqual(event.encoded, records[index], "event \(index) (\(entry.kind)) differs from tensorboard's serialization")
            written += TFRecord.framed(event.encoded)
        }
        XCTAssertEqual(written, fixture, "framed bytes differ from tensorboard's RecordWriter")
    }

    func testAnEventFileIsNewPerProcessAndOpensWithItsVersion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-tb-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Date(timeIntervalSince1970: 1_700_000_000.75)
        let first = try TensorBoardEventFile(folder: folder, now: now, host: "node7")
        try first.write(TensorBoardEvent(wallTime: 1, step: 1, content: .scalars([.init("a", 2)])))
        let second = try TensorBoardEventFile(folder: folder, now: now, host: "node7")
        XCTAssertEqual(first.url.lastPathComponent, "events.out.tfevents.1700000000.node7")
        XCTAssertEqual(second.url.lastPathComponent, "events.out.tfevents.1700000000.node7.1")
        let files = try TensorBoardReading.events(inFolder: folder)
        XCTAssertEqual(files.map(\.count), [2, 1])
        XCTAssertEqual(files[0][0].fileVersion, "brain.Event:2")
        XCTAssertEqual(files[0][0].wallTime, 1_700_000_000.75)
        XCTAssertEqual(files[0][1].scalars, ["a": 2])
    }

    func testHyperparametersFlattenTheResolvedConfiguration() {
        var config = TrainingConfig()
        config.method = "lora"
        config.methodOptions = ["rank": .number(8), "targets": .array([.string("q"), .string("v")])]
        config.evalEpochs = [10, 20]
        let values = TrainingEventLog.hyperparameters(config)
        XCTAssertEqual(values["method"], .string("lora"))
        XCTAssertEqual(values["lr"], .number(1e-3))
        XCTAssertEqual(values["decay_all"], .bool(true))
        XCTAssertEqual(values["method_options.rank"], .number(8))
        XCTAssertEqual(values["method_options.targets"], .string("[\"q\",\"v\"]"))
        XCTAssertEqual(values["eval_epochs"], .string("[10,20]"))
        XCTAssertNil(values["weights"], "unset keys are left out")
    }
}
