import Foundation
import Tensor

/// PyTorch checkpoints (`torch.save` of a state dict, possibly nested), read without executing
/// anything: the pickle runs on `PickleMachine` with a loader that knows only tensor-rebuild
/// records, storages, `OrderedDict` and dtype names, and refuses every other class by name.
///
/// Two container formats:
/// - zip (torch ≥ 1.6): `<prefix>/data.pkl` is the pickle, storage `k` is the entry
///   `<prefix>/data/k`, and `<prefix>/byteorder` ("little"/"big", absent = little) gives the
///   byte order of the storages.
/// - legacy (`_use_new_zipfile_serialization=False`): consecutive pickles — the magic number
///   0x1950a86a20f9469cfc6c, the protocol version, a sys-info dict (byte order), the main
///   object, the list of storage keys — then, per key in that order, an 8-byte little-endian
///   element count and the storage's raw bytes. (The pre-0.4 tar format is not supported.)
///
/// Tensors are views: `_rebuild_tensor_v2(storage, offset, size, stride, …)`. Views with any
/// offset and strides (permuted, sliced, expanded) are gathered into contiguous Float tensors,
/// after checking that every element they address lies inside their storage.
public enum TorchPickle {
    public struct File {
        /// Every tensor, converted to Float32, by flattened name ({"model": {"a.weight": t}} → "model.a.weight").
        public var tensors: [String: Tensor]
        /// The stored element type of each tensor, in safetensors' names ("F32", "F16", "BF16", "I64", …).
        public var dtypes: [String: String]
        /// Entries that are not tensors (epochs, strings, hyper-parameters), by flattened name.
        public var skipped: [String]
        /// Top-level entries that were themselves dicts ("state_dict", "optimizer", …).
        public var nestedTopLevelKeys: Set<String>
    }

    /// Storage classes by name, with the element type and safetensors dtype name of their elements.
    static let storageTypes: [String: (kind: ElementEncoding.Kind, dtype: String)] = [
        "FloatStorage": (.float32, "F32"), "HalfStorage": (.float16, "F16"), "BFloat16Storage": (.bfloat16, "BF16"),
        "DoubleStorage": (.float64, "F64"), "LongStorage": (.int64, "I64"), "IntStorage": (.int32, "I32"),
        "ShortStorage": (.int16, "I16"), "CharStorage": (.int8, "I8"), "ByteStorage": (.uint8, "U8"),
        "BoolStorage": (.bool, "BOOL"),
    ]
    /// `torch.<dtype>` objects, allowed because metadata may name them; they are never tensors.
    static let dtypeNames: Set<String> = ["float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]
    /// Nested dicts and lists deeper than this are refused.
    static let maxNesting = 64
    static let legacyMagicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c, little-endian

    public static func read(_ url: URL) throws -> File {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try data.starts(with: Data("PK".utf8)) ? readZip(ZipArchive(data, path: url.path)) : readLegacy(data, path: url.path)
    }

    // MARK: Formats

    public static func readZip(_ archive: ZipArchive) throws -> File {
        let pickles = archive.entries.map(\.name).filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw TensorFileError(file: archive.path, "a PyTorch zip checkpoint holds one data.pkl, this archive holds \(pickles.count)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        var bigEndian = false
        if archive.entry(named: prefix + "byteorder") != nil {
            switch String(decoding: try archive.data(for: prefix + "byteorder"), as: UTF8.self) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            case let other: throw TensorFileError(file: archive.path, key: prefix + "byteorder", "unknown byte order '\(other.prefix(20))'")
            }
        }
        let loader = TensorRecordLoader(file: archive.path)
        let machine = PickleMachine(try archive.data(for: pickleName), file: archive.path)
        let root = try machine.load(with: loader)
        let contentBytes = archive.entries.reduce(0) { $0 + $1.uncompressedSize }
        return try loader.materialize(root, machine: machine, bigEndian: bigEndian, fileSize: contentBytes) { storage in
            try archive.data(for: prefix + "data/" + storage.key)
        }
    }

    public static func readLegacy(_ data: Data, path: String) throws -> File {
        func fail(_ reason: String) -> TensorFileError { TensorFileError(file: path, reason) }
        let loader = TensorRecordLoader(file: path)
        let machine = PickleMachine(data, file: path)
        guard case .bigInt(legacyMagicNumber) = try machine.load(with: loader) else {
            throw fail("not a PyTorch checkpoint (no legacy magic number, and not a zip archive)")
        }
        guard case .int(let protocolVersion) = try machine.load(with: loader), protocolVersion == 1001 else {
            throw fail("unsupported legacy PyTorch protocol version (expected 1001)")
        }
        let systemInfo = try machine.load(with: loader)
        var bigEndian = false
        if case .dict(let id) = systemInfo {
            for (key, value) in machine.dicts[id] {
                if case .string("little_endian") = key, case .bool(let little) = value { bigEndian = !little }
            }
        }
        let root = try machine.load(with: loader)
        guard let keyValues = machine.items(of: try machine.load(with: loader)) else { throw fail("the storage key list is not a list") }

        // The storages follow the last pickle, in the order of the key list.
        var ranges: [String: Range<Int>] = [:]
        var position = machine.position
        for keyValue in keyValues {
            guard case .string(let key) = keyValue else { throw fail("a storage key is not a string") }
            guard let storage = loader.storages[key] else { throw TensorFileError(file: path, key: "storage \(key)", "storage is listed but never used") }
            guard let rawCount = data.littleEndian(UInt64.self, at: position) else {
                throw TensorFileError(file: path, key: "storage \(key)", "truncated before the storage's element count")
            }
            let count = bigEndian ? rawCount.byteSwapped : rawCount
            let size = UInt64(storage.encoding.byteCount)
            guard count <= UInt64(data.count - position - 8) / size else {
                throw TensorFileError(file: path, key: "storage \(key)", "\(count) elements run past the end of the file")
            }
            position += 8
            guard ranges.updateValue(position ..< position + Int(count * size), forKey: key) == nil else {
                throw TensorFileError(file: path, key: "storage \(key)", "storage is listed twice")
            }
            position += Int(count * size)
        }
        return try loader.materialize(root, machine: machine, bigEndian: bigEndian, fileSize: data.count) { storage in
            guard let range = ranges[storage.key] else {
                throw TensorFileError(file: path, key: "storage \(storage.key)", "storage is used but missing from the file")
            }
            return data.bytes(at: range.lowerBound, length: range.count)!
        }
    }
}

// MARK: - The loader

/// A storage named by a persistent id: its key, element type and declared element count.
final class StorageReference {
    let key: String
    let encoding: ElementEncoding
    let dtype: String
    let declaredCount: Int

    init(key: String, encoding: ElementEncoding, dtype: String, declaredCount: Int) {
        self.key = key
        self.encoding = encoding
        self.dtype = dtype
        self.declaredCount = declaredCount
    }
}

/// A part of a storage (legacy checkpoints of old torch versions can name storage views);
/// tensor offsets count from `offset`.
final class StorageView {
    let storage: StorageReference
    let offset: Int
    let count: Int

    init(storage: StorageReference, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }
}

/// A tensor as the pickle describes it: a strided view of a storage, read once the storages are available.
final class TensorRecord {
    let view: StorageView
    let layout: StridedLayout

    init(view: StorageView, layout: StridedLayout) {
        self.view = view
        self.layout = layout
    }
}

/// The allow-list: what PyTorch's tensor records need, and nothing else.
final class TensorRecordLoader: PickleLoader {
    let file: String
    private(set) var storages: [String: StorageReference] = [:]

    init(file: String) { self.file = file }

    func findGlobal(module: String, name: String) throws -> PickleValue {
        let allowed: Bool
        switch module {
        case "collections": allowed = name == "OrderedDict"
        case "torch._utils": allowed = ["_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_parameter"].contains(name)
        case "torch": allowed = TorchPickle.storageTypes[name] != nil || TorchPickle.dtypeNames.contains(name)
        default: allowed = false
        }
        guard allowed else {
            throw TensorFileError(file: file, "refuses to load class \(module).\(name): a checkpoint is read only for its tensors, and this class is not one of them")
        }
        return .global(module: module, name: name)
    }

    func call(_ callable: PickleValue, _ arguments: [PickleValue], machine: PickleMachine) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw machine.fail("calls something that is not a class or function") }
        switch (module, name) {
        case ("collections", "OrderedDict"):
            guard arguments.isEmpty else { throw machine.fail("OrderedDict with arguments is not supported") }
            return try machine.makeDict()
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
            guard arguments.count >= 4, case .object(let object) = arguments[0], let view = object as? StorageView,
                  case .int(let offset) = arguments[1],
                  let shape = integers(machine.items(of: arguments[2])), let strides = integers(machine.items(of: arguments[3])) else {
                throw machine.fail("\(name) needs (storage, offset, size, stride)")
            }
            return .object(TensorRecord(view: view, layout: StridedLayout(shape: shape, strides: strides, offset: offset)))
        case ("torch._utils", "_rebuild_parameter"):
            // (data, requires_grad, backward_hooks): a Parameter is its data here.
            guard let data = arguments.first, case .object(let object) = data, object is TensorRecord else {
                throw machine.fail("_rebuild_parameter needs a tensor")
            }
            return data
        default:
            throw machine.fail("cannot call \(module).\(name)")
        }
    }

    func build(_ object: PickleValue, state: PickleValue, machine: PickleMachine) throws -> PickleValue {
        // An OrderedDict's state holds attributes such as `_metadata` (module versions), not entries.
        guard case .dict = object else { throw machine.fail("cannot set state on this object") }
        return object
    }

    /// ('storage', storage_type, key, location, numel[, view_metadata]); legacy view metadata is
    /// (view_key, offset, size) or None.
    func persistentLoad(_ id: PickleValue, machine: PickleMachine) throws -> PickleValue {
        guard let fields = machine.items(of: id), fields.count >= 5, case .string("storage") = fields[0],
              case .global("torch", let typeName) = fields[1], let type = TorchPickle.storageTypes[typeName],
              case .string(let key) = fields[2], case .int(let count) = fields[4], count >= 0 else {
            throw machine.fail("unsupported persistent id (expected a typed storage record)")
        }
        let storage = storages[key] ?? StorageReference(key: key, encoding: ElementEncoding(type.kind), dtype: type.dtype, declaredCount: count)
        guard storage.dtype == type.dtype, storage.declaredCount == count else {
            throw machine.fail("storage \(key) is named twice with different types or sizes")
        }
        storages[key] = storage
        if fields.count >= 6, let viewFields = machine.items(of: fields[5]) {
            guard viewFields.count == 3, case .int(let offset) = viewFields[1], case .int(let viewCount) = viewFields[2],
                  offset >= 0, viewCount >= 0, offset <= count, viewCount <= count - offset else {
                throw machine.fail("storage view of \(key) lies outside its storage")
            }
            return .object(StorageView(storage: storage, offset: offset, count: viewCount))
        }
        return .object(StorageView(storage: storage, offset: 0, count: count))
    }

    /// The values as integers, nil unless every one is an int.
    private func integers(_ values: [PickleValue]?) -> [Int]? {
        guard let values else { return nil }
        var integers: [Int] = []
        for value in values {
            guard case .int(let n) = value else { return nil }
            integers.append(n)
        }
        return integers
    }

    // MARK: Flattening and reading the tensors

    /// Flattens the pickled object into named tensor records, then reads each tensor from its
    /// storage. The tensors may hold at most `fileSize + 2²⁴` elements in all: stride-0 (expanded)
    /// views and tied weights legitimately exceed their storages, but not by more than that.
    func materialize(_ root: PickleValue, machine: PickleMachine, bigEndian: Bool, fileSize: Int,
                     storageBytes: (StorageReference) throws -> Data) throws -> TorchPickle.File {
        var records: [(name: String, record: TensorRecord)] = []
        var file = TorchPickle.File(tensors: [:], dtypes: [:], skipped: [], nestedTopLevelKeys: [])
        var visited = Set<Int>()
        switch root {
        case .dict(let id):
            for (key, value) in machine.dicts[id] {
                if case .dict = value, let name = Self.name(of: key) { file.nestedTopLevelKeys.insert(name) }
            }
        case .list, .tuple: break
        default: throw TensorFileError(file: self.file, "the checkpoint is not a dict of tensors")
        }
        try flatten(root, name: "", depth: 0, machine: machine, visited: &visited, records: &records, skipped: &file.skipped)

        var budget = fileSize + (1 << 24)
        var loaded: [String: Data] = [:]
        for (name, record) in records {
            func fail(_ reason: String) -> TensorFileError { TensorFileError(file: self.file, key: name, reason) }
            let storage = record.view.storage
            let bytes: Data
            if let cached = loaded[storage.key] { bytes = cached } else {
                bytes = try storageBytes(storage)
                let (expected, overflow) = storage.declaredCount.multipliedReportingOverflow(by: storage.encoding.byteCount)
                guard !overflow, bytes.count == expected else {
                    throw fail("storage \(storage.key) holds \(bytes.count) bytes, its record declares \(storage.declaredCount) elements of \(storage.dtype)")
                }
                loaded[storage.key] = bytes
            }
            let count = try record.layout.validatedCount(storageCount: record.view.count, maxElements: budget, fail: fail)
            budget -= count
            var encoding = storage.encoding
            encoding.bigEndian = bigEndian
            file.tensors[name] = bytes.withUnsafeBytes {
                record.layout.gather(from: $0.baseAddress! + record.view.offset * encoding.byteCount, encoding: encoding)
            }
            file.dtypes[name] = storage.dtype
        }
        return file
    }

    /// Dict keys become name parts; PyTorch state dicts use strings, optimizer states use ints.
    private static func name(of key: PickleValue) -> String? {
        switch key {
        case .string(let s): s
        case .int(let n): String(n)
        default: nil
        }
    }

    private func flatten(_ value: PickleValue, name: String, depth: Int, machine: PickleMachine, visited: inout Set<Int>,
                         records: inout [(name: String, record: TensorRecord)], skipped: inout [String]) throws {
        guard depth <= TorchPickle.maxNesting else {
            throw TensorFileError(file: file, key: name, "nested deeper than \(TorchPickle.maxNesting) levels")
        }
        let children: [(key: String, value: PickleValue)]
        switch value {
        case .object(let object as TensorRecord):
            records.append((name, object))
            return
        case .dict(let id):
            // A container reached twice (shared or cyclic) is read once; dicts and sequences have separate ids.
            guard visited.insert(-1 - id).inserted else { skipped.append(name); return }
            children = machine.dicts[id].map { (Self.name(of: $0.key) ?? "<key>", $0.value) }
        case .tuple(let id), .list(let id):
            guard visited.insert(id).inserted else { skipped.append(name); return }
            children = machine.sequences[id].enumerated().map { (String($0.offset), $0.element) }
        default:
            skipped.append(name)
            return
        }
        for (key, child) in children {
            try flatten(child, name: name.isEmpty ? key : name + "." + key, depth: depth + 1, machine: machine,
                        visited: &visited, records: &records, skipped: &skipped)
        }
    }
}
