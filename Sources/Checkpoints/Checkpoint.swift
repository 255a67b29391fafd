import Foundation
import Tensor

public enum CheckpointFormat: String, Sendable {
    case safetensors, npz, torchZip, torchLegacy, onnx
}

/// A checkpoint file of any supported format (safetensors, numpy `.npz`, PyTorch zip or legacy,
/// ONNX initializers), as Float tensors by name. The format is detected from the content, not
/// the file name: `.pth` and `.bin` may be either PyTorch format, and downloads are often renamed.
public struct Checkpoint {
    public var tensors: [String: Tensor]
    /// The stored element type of each tensor, as its format names it: "F32", "BF16", "I64", … for
    /// safetensors, PyTorch and ONNX; numpy's descriptors "<f4", ">i8", "|b1", … for `.npz`.
    public var dtypes: [String: String]
    public var format: CheckpointFormat
    public var path: String
    /// Non-tensor entries of a PyTorch checkpoint (epochs, names, hyper-parameters), by flattened name.
    public var skipped: [String] = []
    /// Top-level entries of a PyTorch checkpoint that were dicts ("state_dict", "optimizer", …).
    public var nestedTopLevelKeys: Set<String> = []
    /// For an ONNX model, its graph: the nodes that name its anonymous initializers.
    public var onnxGraph: ONNXGraph?

    /// Top-level dicts that hold the model in training checkpoints, in order of preference.
    public static let wrapperKeys = ["state_dict", "model", "module", "state_dict_ema"]
    /// Name prefixes added by wrappers: DataParallel's "module.", training frameworks' "model.",
    /// detection/segmentation models' "backbone.".
    public static let wrapperPrefixes = ["module.", "model.", "backbone."]

    public static func read(_ url: URL) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try read(data, path: url.path)
    }

    /// Reads a checkpoint held in memory; `path` names it in errors.
    public static func read(_ data: Data, path: String) throws -> Checkpoint {
        if looksLikeSafeTensors(data) {
            // SafeTensors.read indexes from 0, so hand it a slice's bytes re-based.
            let file = try SafeTensors.read(data.startIndex == 0 ? data : Data(data), name: path)
            return Checkpoint(tensors: file.tensors, dtypes: file.dtypes, format: .safetensors, path: path)
        }
        if data.starts(with: Data("PK".utf8)) {
            let archive = try ZipArchive(data, path: path)
            if NPZ.holdsArrays(archive) {
                let arrays = try NPZ.read(archive)
                return Checkpoint(tensors: arrays.mapValues(\.tensor), dtypes: arrays.mapValues(\.dtype), format: .npz, path: path)
            }
            guard archive.entries.contains(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
                throw TensorFileError(file: path, "zip archive is neither an .npz (only .npy entries) nor a PyTorch checkpoint (data.pkl)")
            }
            return Checkpoint(try TorchPickle.readZip(archive), format: .torchZip, path: path)
        }
        if data.first == 0x80 {  // pickle's PROTO opcode: PyTorch's legacy format starts with a pickle
            return Checkpoint(try TorchPickle.readLegacy(data, path: path), format: .torchLegacy, path: path)
        }
        if data.first == 0x08 {  // field 1 (ir_version) as a varint: serializers write an ONNX ModelProto's fields in number order
            let model = try ONNXModel.read(data, path: path)
            var checkpoint = Checkpoint(tensors: model.graph.initializers.mapValues(\.tensor),
                                        dtypes: model.graph.initializers.mapValues(\.dtype), format: .onnx, path: path)
            checkpoint.onnxGraph = model.graph
            return checkpoint
        }
        throw TensorFileError(file: path, "unrecognised checkpoint format (expected safetensors, .npz, a PyTorch .pth/.bin, or ONNX)")
    }

    public init(tensors: [String: Tensor], dtypes: [String: String], format: CheckpointFormat, path: String) {
        self.tensors = tensors
        self.dtypes = dtypes
        self.format = format
        self.path = path
    }

    private init(_ file: TorchPickle.File, format: CheckpointFormat, path: String) {
        self.init(tensors: file.tensors, dtypes: file.dtypes, format: format, path: path)
        skipped = file.skipped
        nestedTopLevelKeys = file.nestedTopLevelKeys
    }

    /// safetensors starts with an 8-byte little-endian header length and a JSON object; no zip
    /// (PK…) or pickle (0x80 …) file can also have '{' right after a length that fits the file.
    private static func looksLikeSafeTensors(_ data: Data) -> Bool {
        guard let headerLength = data.littleEndian(UInt64.self, at: 0), headerLength >= 2,
              headerLength <= UInt64(data.count - 8) else { return false }
        return data.littleEndian(UInt8.self, at: 8) == UInt8(ascii: "{")
    }

    /// The model's tensors without the wrapping a training script added, so timm-style names
    /// remain: first, when a top-level dict named in `wrapperKeys` exists (the first in that
    /// order), only its tensors are kept, without its name (optimizer state and the like are
    /// dropped); then each prefix in `wrapperPrefixes` is stripped while *all* names share it.
    /// `skipped` keeps the names as stored.
    public func unwrapped() -> Checkpoint {
        var result = self
        if let wrapper = Self.wrapperKeys.first(where: nestedTopLevelKeys.contains) {
            result.keepTensors(under: wrapper + ".")
        }
        while let prefix = Self.wrapperPrefixes.first(where: { prefix in
            !result.tensors.isEmpty && result.tensors.keys.allSatisfy { $0.hasPrefix(prefix) }
        }) {
            result.keepTensors(under: prefix)
        }
        result.nestedTopLevelKeys = []
        return result
    }

    /// Keeps the tensors whose names start with `prefix`, with the prefix removed.
    private mutating func keepTensors(under prefix: String) {
        func strip<Value>(_ values: [String: Value]) -> [String: Value] {
            Dictionary(uniqueKeysWithValues: values.compactMap { name, value in
                name.hasPrefix(prefix) ? (String(name.dropFirst(prefix.count)), value) : nil
            })
        }
        tensors = strip(tensors)
        dtypes = strip(dtypes)
    }
}
