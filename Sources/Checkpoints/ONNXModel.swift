import Foundation
import Tensor

/// An ONNX model file (`ModelProto`, onnx.proto), read as a checkpoint: the graph's initializers
/// and nodes. Like the pickle reader it only reads — no operator is ever run — and a truncated or
/// corrupt file is a `TensorFileError` naming the file and what was wrong.
///
/// The wire format has no end marker, so a file cut at a field boundary would still parse; ONNX
/// requires `opset_import`, which serializers write after the graph, so a model without a graph
/// or without an opset import is refused as truncated.
public struct ONNXModel {
    public var irVersion: Int64
    public var producerName: String
    /// Operator sets by domain ("" is the default ai.onnx domain).
    public var opsetImports: [String: Int64]
    public var graph: ONNXGraph

    public static func read(_ url: URL) throws -> ONNXModel {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try read(data, path: url.path)
    }

    /// Reads a model held in memory; `path` names it in errors.
    public static func read(_ data: Data, path: String) throws -> ONNXModel {
        var reader = ProtobufReader(data, file: path, path: "ModelProto")
        var irVersion: Int64?, producerName = "", opsetImports: [String: Int64] = [:], graph: ONNXGraph?
        // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8.
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1:
                try reader.expect(wireType, .varint, field: field)
                irVersion = Int64(bitPattern: try reader.varint())
            case 2:
                try reader.expect(wireType, .lengthDelimited, field: field)
                producerName = try reader.string()
            case 7:
                try reader.expect(wireType, .lengthDelimited, field: field)
                guard graph == nil else { throw reader.error("holds two graphs") }
                var graphReader = try reader.message("graph")
                graph = try ONNXGraph(reading: &graphReader)
            case 8:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var opset = try reader.message("opset_import")
                let (domain, version) = try Self.operatorSet(&opset)
                opsetImports[domain] = version
            default:
                try reader.skip(wireType)
            }
        }
        guard let irVersion else { throw reader.error("no ir_version: not an ONNX model") }
        guard let graph else { throw reader.error("no graph: truncated, or not an ONNX model") }
        guard !opsetImports.isEmpty else { throw reader.error("no opset_import: truncated, or not an ONNX model") }
        return ONNXModel(irVersion: irVersion, producerName: producerName, opsetImports: opsetImports, graph: graph)
    }

    /// An `OperatorSetIdProto`: domain 1, version 2.
    private static func operatorSet(_ reader: inout ProtobufReader) throws -> (String, Int64) {
        var domain = "", version: Int64 = 0
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1:
                try reader.expect(wireType, .lengthDelimited, field: field)
                domain = try reader.string()
            case 2:
                try reader.expect(wireType, .varint, field: field)
                version = Int64(bitPattern: try reader.varint())
            default:
                try reader.skip(wireType)
            }
        }
        return (domain, version)
    }
}
