import Checkpoints
import Foundation
import Tensor
import XCTest

/// tiny.onnx (scripts/reference/make_onnx_fixtures.py) against the values onnx.numpy_helper
/// decoded, and hand-built files for what the exporter never writes.
final class ONNXTests: XCTestCase {
    static let expected: [String: Tensor] = {
        do { return try SafeTensors.read(CheckpointFixtures.url("tiny_onnx_expected.safetensors")).tensors } catch {
            fatalError("cannot read the expected values: \(error); run scripts/reference/make_onnx_fixtures.py")
        }
    }()

    func testEveryInitializerEqualsTheReference() throws {
        let model = try ONNXModel.read(CheckpointFixtures.url("tiny.onnx"))
        assertBitwiseEqual(model.graph.initializers.mapValues(\.tensor), Self.expected)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.producerName, "vpeft-fixtures")
        XCTAssertEqual(model.opsetImports, ["": 17])
        let dtypes = model.graph.initializers.mapValues(\.dtype)
        XCTAssertEqual(dtypes["onnx::MatMul_101"], "F32")
        XCTAssertEqual(dtypes["onnx::MatMul_103"], "F32")
        XCTAssertEqual(dtypes["norm.weight"], "F16")
        XCTAssertEqual(dtypes["onnx::MatMul_105"], "F16")
        XCTAssertEqual(dtypes["doubles"], "F64")
        XCTAssertEqual(dtypes["counts"], "I32")
        XCTAssertEqual(dtypes["onnx::Reshape_106"], "I64")
        XCTAssertEqual(model.graph.initializerNames.first, "onnx::MatMul_101", "file order")
    }

    func testIntegerInitializersAreExact() throws {
        let graph = try ONNXModel.read(CheckpointFixtures.url("tiny.onnx")).graph
        XCTAssertEqual(graph.initializers["onnx::Reshape_106"]?.integers, [-1, 4])
        XCTAssertEqual(graph.initializers["onnx::Slice_109"]?.integers, [Int64.max], "Float would round it to 2^63")
        XCTAssertEqual(graph.initializers["counts"]?.integers, [-7, 0, 2147483647, -2147483648])
        XCTAssertNil(graph.initializers["onnx::MatMul_101"]?.integers)
    }

    func testNodesAndTheirInitializers() throws {
        let graph = try ONNXModel.read(CheckpointFixtures.url("tiny.onnx")).graph
        XCTAssertEqual(graph.name, "main_graph")
        XCTAssertEqual(graph.inputs, ["x"])
        XCTAssertEqual(graph.outputs, ["y"])
        XCTAssertEqual(graph.nodes.count, 13)
        XCTAssertEqual(graph.nodes.first, ONNXNode(name: "/encoder/layer.0/attention/key/MatMul", opType: "MatMul",
                                                   inputs: ["x", "onnx::MatMul_101"], outputs: ["k0"]))
        XCTAssertEqual(graph.nodes.map(\.opType).filter { $0 == "MatMul" }.count, 3)
        XCTAssertEqual(graph.node(named: "/Slice")?.inputs, ["y3", "onnx::Slice_108", "onnx::Slice_109", "onnx::Slice_110"])

        let key = graph.initializer(consumedBy: "/encoder/layer.0/attention/key/MatMul", input: 1)
        XCTAssertEqual(key?.name, "onnx::MatMul_101")
        XCTAssertEqual(key?.tensor.shape, [4, 6])
        XCTAssertEqual(graph.initializer(consumedBy: "/encoder/layer.0/attention/key/Add", input: 0)?.name, "encoder.layer.0.attention.key.bias")
        XCTAssertNil(graph.initializer(consumedBy: "/encoder/layer.0/attention/key/MatMul", input: 0), "input 0 is an activation")
        XCTAssertNil(graph.initializer(consumedBy: "/encoder/layer.0/attention/key/MatMul", input: 2))
        XCTAssertNil(graph.initializer(consumedBy: "/no/such/node", input: 1))

        let shared = graph.consumers(of: "onnx::Mul_107")
        XCTAssertEqual(shared.map(\.node.name), ["/scale/Mul", "/scale/Mul_1"])
        XCTAssertEqual(shared.map(\.input), [1, 1])
        XCTAssertTrue(graph.consumers(of: "counts").isEmpty)
    }

    func testCheckpointReadDetectsONNX() throws {
        let checkpoint = try Checkpoint.read(CheckpointFixtures.url("tiny.onnx"))
        XCTAssertEqual(checkpoint.format, .onnx)
        assertBitwiseEqual(checkpoint.tensors, Self.expected)
        XCTAssertEqual(checkpoint.dtypes["norm.weight"], "F16")
        XCTAssertEqual(checkpoint.onnxGraph?.nodes.count, 13)
        let bytes = try CheckpointFixtures.data("tiny.onnx")
        let slice = (Data(repeating: 0xAB, count: 5) + bytes)[5...]
        assertBitwiseEqual(try Checkpoint.read(slice, path: "tiny.onnx").tensors, Self.expected)
    }

    /// What `vpeft convert model.onnx out.safetensors` writes.
    func testStateDictNamesAnonymousLinearsByTheirNode() throws {
        let graph = try ONNXModel.read(CheckpointFixtures.url("tiny.onnx")).graph
        let state = ONNXParameterNames.stateDict(graph)
        let e = Self.expected
        assertBitwiseEqual(state, [
            "/encoder/layer.0/attention/key/MatMul.weight": e["onnx::MatMul_101"]!.transposed(),
            "encoder.layer.0.attention.key.bias": e["encoder.layer.0.attention.key.bias"]!,
            "/encoder/layer.0/mlp/fc1/MatMul.weight": e["onnx::MatMul_103"]!.transposed(),
            "/encoder/layer.0/mlp/fc1/Add.bias": e["onnx::Add_104"]!,
            // Read by a Cast, not a MatMul: not a Linear's weight as stored, so left alone.
            "onnx::MatMul_105": e["onnx::MatMul_105"]!,
            "norm.weight": e["norm.weight"]!,
            "onnx::Mul_107": e["onnx::Mul_107"]!,  // read by two nodes
            "onnx::Reshape_106": e["onnx::Reshape_106"]!,
            "onnx::Slice_108": e["onnx::Slice_108"]!, "onnx::Slice_109": e["onnx::Slice_109"]!,
            "onnx::Slice_110": e["onnx::Slice_110"]!,
            "counts": e["counts"]!, "doubles": e["doubles"]!,
        ])
        XCTAssertEqual(state["/encoder/layer.0/attention/key/MatMul.weight"]?.shape, [6, 4], "[out, in] as a Linear stores it")

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(state, to: url)
        assertBitwiseEqual(try SafeTensors.read(url).tensors, state)
    }

    func testNewNamesThatCollideAreNotUsed() throws {
        func matMul(_ name: String, _ weight: String) -> ProtobufBytes {
            var node = ProtobufBytes()
            node.string(1, "x")
            node.string(1, weight)
            node.string(2, name + "_out")
            node.string(3, name)
            node.string(4, "MatMul")
            return node
        }
        func weight(_ name: String) -> ProtobufBytes {
            var tensor = ProtobufBytes()
            tensor.varint(1, 1)
            tensor.varint(1, 1)
            tensor.varint(2, 1)
            tensor.fixed32(4, Float(2).bitPattern)
            tensor.string(8, name)
            return tensor
        }
        var graph = ProtobufBytes()
        graph.message(1, matMul("/a/MatMul", "onnx::MatMul_1"))
        graph.message(1, matMul("/a/MatMul", "onnx::MatMul_2"))  // a duplicate node name
        graph.message(1, matMul("/b/MatMul", "onnx::MatMul_3"))
        for name in ["onnx::MatMul_1", "onnx::MatMul_2", "onnx::MatMul_3", "/b/MatMul.weight"] { graph.message(5, weight(name)) }
        let state = ONNXParameterNames.stateDict(try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "dup.onnx").graph)
        XCTAssertEqual(state.keys.sorted(), ["/b/MatMul.weight", "onnx::MatMul_1", "onnx::MatMul_2", "onnx::MatMul_3"])
    }

    /// A Constant's small integer tensor is kept (head counts live there); a float or string
    /// tensor attribute is skipped without failing the file.
    func testConstantIntegerTensorsAreReadOtherTensorAttributesSkipped() throws {
        func constant(_ name: String, dataType: Int64, _ fill: (inout ProtobufBytes) -> Void) -> ProtobufBytes {
            var tensor = ProtobufBytes(), attribute = ProtobufBytes(), node = ProtobufBytes()
            tensor.varint(1, 1)
            tensor.varint(2, dataType)
            fill(&tensor)
            attribute.string(1, "value")
            attribute.message(5, tensor)
            attribute.varint(20, 4)  // TENSOR
            node.string(2, name + "_output_0")
            node.string(3, name)
            node.string(4, "Constant")
            node.message(5, attribute)
            return node
        }
        var graph = ProtobufBytes()
        graph.message(1, constant("/heads", dataType: 7) { $0.varint(7, 6) })                        // INT64 [6]
        graph.message(1, constant("/scale", dataType: 1) { $0.fixed32(4, Float(0.125).bitPattern) })  // FLOAT
        graph.message(1, constant("/label", dataType: 8) { $0.bytes(6, Data("cat".utf8)) })            // STRING
        let read = try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "constants.onnx").graph
        XCTAssertEqual(read.node(named: "/heads")?.attributes["value"], .integerTensor([6]))
        XCTAssertNil(read.node(named: "/scale")?.attributes["value"])
        XCTAssertNil(read.node(named: "/label")?.attributes["value"])
        XCTAssertEqual(read.producer(of: "/heads_output_0")?.name, "/heads")
        XCTAssertNil(read.producer(of: "x"))
    }

    /// Typed fields one element per field (proto2 without `packed`), and double_data.
    func testUnpackedTypedFields() throws {
        var tensor = ProtobufBytes()
        tensor.varint(1, 3)
        tensor.varint(2, 1)  // FLOAT
        for value: Float in [1.5, -2, .infinity] { tensor.fixed32(4, value.bitPattern) }
        tensor.string(8, "unpacked")
        var doubles = ProtobufBytes()
        doubles.varint(1, 2)
        doubles.varint(2, 11)  // DOUBLE
        doubles.fixed64(10, (0.25).bitPattern)
        doubles.fixed64(10, (-1e300).bitPattern)
        doubles.string(8, "doubles")
        var graph = ProtobufBytes.graph(initializer: tensor)
        graph.message(5, doubles)
        let initializers = try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "unpacked.onnx").graph.initializers
        XCTAssertEqual(initializers["unpacked"]?.tensor.scalars, [1.5, -2, .infinity])
        XCTAssertEqual(initializers["doubles"]?.tensor.scalars, [0.25, -.infinity])
        XCTAssertEqual(initializers["doubles"]?.dtype, "F64")
    }

    func testScalarsAndEmptyTensors() throws {
        var scalar = ProtobufBytes()
        scalar.varint(2, 1)
        scalar.fixed32(4, Float(7).bitPattern)
        scalar.string(8, "scalar")
        var empty = ProtobufBytes()
        empty.varint(1, 0)
        empty.varint(1, 5)
        empty.varint(2, 10)
        empty.string(8, "empty")
        var graph = ProtobufBytes.graph(initializer: scalar)
        graph.message(5, empty)
        let initializers = try ONNXModel.read(ProtobufBytes.model(graph: graph), path: "small.onnx").graph.initializers
        XCTAssertEqual(initializers["scalar"]?.tensor.shape, [])
        XCTAssertEqual(initializers["scalar"]?.tensor.scalars, [7])
        XCTAssertEqual(initializers["empty"]?.tensor.shape, [0, 5])
    }

    func testExternalDataIsAClearError() {
        var tensor = ProtobufBytes(), location = ProtobufBytes()
        tensor.varint(1, 768)
        tensor.varint(2, 1)
        tensor.string(8, "encoder.layer.0.weight")
        location.string(1, "location")
        location.string(2, "model.onnx.data")
        tensor.message(13, location)
        tensor.varint(14, 1)  // EXTERNAL
        assertFileError(try Checkpoint.read(ProtobufBytes.model(graph: .graph(initializer: tensor)), path: "big.onnx"),
                        mentions: ["big.onnx", "encoder.layer.0.weight", "outside the .onnx file", "model.onnx.data"])
    }

    func testUnsupportedDataTypesNameTheTensor() {
        var tensor = ProtobufBytes()
        tensor.varint(1, 1)
        tensor.varint(2, 8)  // STRING
        tensor.bytes(6, Data("hello".utf8))
        tensor.string(8, "labels")
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: tensor)), path: "s.onnx"),
                        mentions: ["s.onnx", "labels", "data type 8 (STRING) is not supported"])
    }

    func testValuesMustMatchTheShape() {
        var raw = ProtobufBytes()
        raw.varint(1, 2)
        raw.varint(1, 3)
        raw.varint(2, 1)
        raw.string(8, "short")
        raw.bytes(9, Data(count: 20))
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: raw)), path: "r.onnx"),
                        mentions: ["r.onnx", "short", "needs 6 elements, raw_data holds 20 bytes"])
        var typed = ProtobufBytes()
        typed.varint(1, 2)
        typed.varint(2, 7)  // INT64 …
        typed.fixed32(4, 0)  // … in float_data
        typed.fixed32(4, 0)
        typed.string(8, "misplaced")
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: typed)), path: "t.onnx"),
                        mentions: ["misplaced", "fields that I64 does not use"])
        var huge = ProtobufBytes()
        for _ in 0..<4 { huge.varint(1, 1 << 20) }
        huge.varint(2, 1)
        huge.string(8, "huge")
        assertFileError(try ONNXModel.read(ProtobufBytes.model(graph: .graph(initializer: huge)), path: "h.onnx"),
                        mentions: ["huge", "invalid shape"])
    }
}
