import Foundation
import Training
import XCTest

/// The reading side of TensorBoard event files, for tests only: TFRecord unframing with both
/// CRCs checked, a protobuf field walker, and the events decoded into what the tests compare.
enum TensorBoardReading {
    struct FramingError: Error, CustomStringConvertible { let description: String }

    /// The records' data, after checking every length and data CRC.
    static func records(_ bytes: [UInt8]) throws -> [[UInt8]] {
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        var out: [[UInt8]] = [], offset = 0
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw FramingError(description: "truncated header at \(offset)") }
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) })
            guard u32(offset + 8) == CRC32C.masked(CRC32C.checksum(bytes[offset..<offset + 8])) else {
                throw FramingError(description: "length CRC mismatch at \(offset)")
            }
            let start = offset + 12, end = start + length
            guard end + 4 <= bytes.count else { throw FramingError(description: "truncated record at \(offset)") }
            guard u32(end) == CRC32C.masked(CRC32C.checksum(bytes[start..<end])) else {
                throw FramingError(description: "data CRC mismatch at \(offset)")
            }
            out.append(Array(bytes[start..<end]))
            offset = end + 4
        }
        return out
    }

    enum FieldValue: Equatable {
        case varint(UInt64), fixed64(UInt64), bytes([UInt8]), fixed32(UInt32)
    }

    /// (field number, value) in wire order.
    static func fields(_ bytes: [UInt8]) throws -> [(Int, FieldValue)] {
        var offset = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else { throw FramingError(description: "bad varint") }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ n: Int) throws -> [UInt8] {
            guard offset + n <= bytes.count else { throw FramingError(description: "field runs past the message") }
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
        func little(_ b: [UInt8]) -> UInt64 { b.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) } }
        var out: [(Int, FieldValue)] = []
        while offset < bytes.count {
            let tag = try varint()
            switch tag & 7 {
            case 0: out.append((Int(tag >> 3), .varint(try varint())))
            case 1: out.append((Int(tag >> 3), .fixed64(little(try take(8)))))
            case 2: out.append((Int(tag >> 3), .bytes(try take(Int(try varint())))))
            case 5: out.append((Int(tag >> 3), .fixed32(UInt32(little(try take(4))))))
            default: throw FramingError(description: "wire type \(tag & 7)")
            }
        }
        return out
    }

    struct Event {
        var wallTime = 0.0
        var step: Int64 = 0
        var fileVersion: String?
        var sessionStart = false
        var scalars: [String: Float] = [:]
        /// Plugin names of summary values that carry metadata (the HParams summary).
        var plugins: [String] = []
        /// The raw plugin content, to look for values in it.
        var pluginContent: [UInt8] = []
    }

    static func event(_ bytes: [UInt8]) throws -> Event {
        var event = Event()
        for (field, value) in try fields(bytes) {
            switch (field, value) {
            case (1, .fixed64(let bits)): event.wallTime = Double(bitPattern: bits)
            case (2, .varint(let step)): event.step = Int64(bitPattern: step)
            case (3, .bytes(let text)): event.fileVersion = String(decoding: text, as: UTF8.self)
            case (7, .bytes(let log)): event.sessionStart = try fields(log).contains { $0.0 == 1 && $0.1 == .varint(1) }
            case (5, .bytes(let summary)):
                for case (1, .bytes(let valueBytes)) in try fields(summary) {
                    var tag = ""
                    for (f, v) in try fields(valueBytes) {
                        if f == 1, case .bytes(let t) = v { tag = String(decoding: t, as: UTF8.self) }
                        if f == 2, case .fixed32(let bits) = v { event.scalars[tag] = Float(bitPattern: bits) }
                        if f == 9, case .bytes(let metadata) = v {
                            for case (1, .bytes(let pluginData)) in try fields(metadata) {
                                for (pf, pv) in try fields(pluginData) {
                                    if pf == 1, case .bytes(let name) = pv { event.plugins.append(String(decoding: name, as: UTF8.self)) }
                                    if pf == 2, case .bytes(let content) = pv { event.pluginContent = content }
                                }
                            }
                        }
                    }
                }
            default: XCTFail("unexpected Event field \(field)")
            }
        }
        return event
    }

    /// The events of every event file in `folder`, files in name order (as TensorBoard reads them).
    static func events(inFolder folder: URL) throws -> [[Event]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        return try names.map { name in
            try records(Array(try Data(contentsOf: folder.appendingPathComponent(name)))).map(event)
        }
    }

    /// Scalars by step as TensorBoard ends up showing them: a session start at step s discards
    /// what was logged at steps ≥ s before it (TensorBoard's purge of orphaned data).
    static func scalarsAfterPurge(_ files: [[Event]]) -> [(step: Int64, scalars: [String: Float])] {
        var kept: [(step: Int64, scalars: [String: Float])] = []
        for event in files.joined() {
            if event.sessionStart { kept.removeAll { $0.step >= event.step } }
            if !event.scalars.isEmpty { kept.append((event.step, event.scalars)) }
        }
        return kept
    }
}
