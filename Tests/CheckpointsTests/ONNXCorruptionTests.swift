import Checkpoints
import Foundation
import Tensor
import XCTest

/// Damaged and hostile ONNX files: the reader throws a `TensorFileError` naming the file, or (for
/// a harmless change such as a flipped bit in a weight) returns tensors — never traps, never
/// allocates more than the file could hold. Unlike a zip, protobuf has no checksums, so much
/// damage is harmless and only the absence of traps and foreign errors is asserted.
final class ONNXCorruptionTests: XCTestCase {
    static let mutationsPerFile = 3000

    func testEveryTruncationThrows() throws {
        let original = try CheckpointFixtures.data("tiny.onnx")
        for length in 0 ..< original.count {
            XCTAssertThrowsError(try ONNXModel.read(original.prefix(length), path: "tiny.onnx"), "cut to \(length) bytes") { error in
                XCTAssertTrue(error is TensorFileError, "cut to \(length) bytes: \(error)")
            }
        }
        // Through the format detection too (a cut file must not pass as another format).
        for length in stride(from: 1, to: original.count, by: 7) {
            assertFileError(try Checkpoint.read(original.prefix(length), path: "tiny.onnx"), mentions: ["tiny.onnx"])
        }
    }

    func testSurvivesMutations() throws {
        let original = try CheckpointFixtures.data("tiny.onnx")
        var random = SeededRandom(seed: 17)
        var detected = 0
        for trial in 0..<Self.mutationsPerFile {
            if read(CorruptionTests.mutation(of: original, using: &random), trial) { detected += 1 }
        }
        XCTAssertGreaterThan(detected, Self.mutationsPerFile / 10)
    }

    /// Flips every byte of the file in turn to each of a few values that lie hardest: 0x00, 0xFF
    /// (a varint that never ends), 0x80 and 0x7F.
    func testSurvivesEveryByteReplaced() throws {
        let original = try CheckpointFixtures.data("tiny.onnx")
        for position in original.indices {
            for value: UInt8 in [0x00, 0xFF, 0x80, 0x7F] where original[position] != value {
                var damaged = original
                damaged[position] = value
                _ = read(damaged, position)
            }
        }
    }

    func testLyingLengthsAndHugeVarints() {
        var graph = ProtobufBytes()
        graph.tag(5, 2)  // an initializer claiming 2^40 bytes
        graph.bytes += ProtobufBytes.varint(1 << 40)
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "lie.onnx"),
                        mentions: ["lie.onnx", "ModelProto.graph", "runs past the end of the message"])

        var tensor = ProtobufBytes()
        tensor.tag(1, 0)
        tensor.bytes += Data(repeating: 0xFF, count: 11) + Data([0x01])  // an eleven-byte varint
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: tensor)), path: "v.onnx"),
                        mentions: ["v.onnx", "initializer[0]", "varint longer than"])

        var overflow = ProtobufBytes()
        overflow.tag(1, 0)
        overflow.bytes += Data(repeating: 0xFF, count: 9) + Data([0x02])  // ten bytes, 65 bits
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: overflow)), path: "o.onnx"),
                        mentions: ["varint longer than 64 bits"])

        var packed = ProtobufBytes()
        packed.varint(1, 3)
        packed.varint(2, 1)
        packed.bytes(4, Data(count: 10))  // packed floats: 10 bytes is not a whole number of them
        packed.string(8, "ragged")
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: packed)), path: "p.onnx"),
                        mentions: ["truncated 32-bit value"])

        var wrongType = ProtobufBytes()
        wrongType.fixed64(8, 0)  // name as a 64-bit value
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: wrongType)), path: "w.onnx"),
                        mentions: ["field 8 is 64-bit, its schema says length-delimited"])

        var group = ProtobufBytes()
        group.tag(9, 3)
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: group), path: "g.onnx"), mentions: ["unsupported wire type 3"])

        assertFileError(try ONNXModel.read(Data([0x08, 0x08]), path: "bare.onnx"), mentions: ["no graph"])
        var noOpset = ProtobufBytes()
        noOpset.varint(1, 8)
        noOpset.message(7, ProtobufBytes())
        assertFileError(try ONNXModel.read(noOpset.bytes, path: "cut.onnx"), mentions: ["no opset_import"])
    }

    /// Deep nesting inside fields the reader skips costs nothing (skipping never recurses); the
    /// reader's own sub-messages stop at `ProtobufReader.maxDepth`.
    func testDeepNesting() throws {
        // A million levels of an unknown field 99, written outside-in from the lengths computed inside-out.
        let levels = 1_000_000, tag = ProtobufBytes.varint(UInt64(99) << 3 | 2)
        var lengths = [Int](repeating: 0, count: levels + 1)
        for level in stride(from: levels - 1, through: 0, by: -1) {
            lengths[level] = tag.count + ProtobufBytes.varint(UInt64(lengths[level + 1])).count + lengths[level + 1]
        }
        var graph = ProtobufBytes()
        for level in 0..<levels { graph.bytes += tag + ProtobufBytes.varint(UInt64(lengths[level + 1])) }
        XCTAssertEqual(try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "deep.onnx").graph.nodes, [])

        var bytes = Data()
        for _ in 0...ProtobufReader.maxDepth { bytes = ProtobufBytes.varint(1 << 3 | 2) + ProtobufBytes.varint(UInt64(bytes.count)) + bytes }
        var reader = ProtobufReader(bytes, file: "deep.bin", path: "M")
        func descend(_ reader: inout ProtobufReader) throws {
            while let (_, _) = try reader.nextField() {
                var inner = try reader.message("m")
                try descend(&inner)
            }
        }
        assertFileError(try descend(&reader), mentions: ["deep.bin", "nested deeper than \(ProtobufReader.maxDepth)"])
    }

    /// Reads damaged bytes; true when the reader threw a `TensorFileError` that names the file.
    private func read(_ damaged: Data, _ trial: Int) -> Bool {
        do {
            _ = try Checkpoint.read(damaged, path: "tiny.onnx")
            return false
        } catch let error as TensorFileError {
            XCTAssertEqual(error.file, "tiny.onnx", "mutation \(trial)")
            return true
        } catch {
            XCTFail("mutation \(trial): not a TensorFileError: \(error)")
            return true
        }
    }
}
