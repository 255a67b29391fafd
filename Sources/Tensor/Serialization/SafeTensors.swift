import Foundation

/// An error in a tensor file, naming the file and (where known) the tensor key.
public struct TensorFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let key: String?
    public let reason: String

    public init(file: String, key: String? = nil, _ reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(file)\(key.map { ": tensor '\($0)'" } ?? ""): \(reason)" }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`, then the raw little-endian data.
/// Every header field is validated against the file before any tensor is read, so a corrupt or
/// hostile file gives an error naming the file and key, never a crash or a huge allocation.
public enum SafeTensors {
    /// Headers larger than this are refused (real ones are a few hundred KB).
    public static let maxHeaderBytes = 100 << 20

    public struct File {
        /// Every tensor converted to Float32 (F16, BF16, F64, I64, I32, U8, BOOL are converted).
        public var tensors: [String: Tensor]
        /// The original dtype of each tensor ("F32", "I64", …).
        public var dtypes: [String: String]
        public var metadata: [String: String]
        /// Names in file order (by data offset).
        public var names: [String]
    }

    public static func read(_ url: URL) throws -> File {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try read(data, name: url.path)
    }

    public static func read(_ data: Data, name: String) throws -> File {
        // Indices below are offsets from the start: rebase a slice of a larger Data.
        let data = data.startIndex == 0 ? data : Data(data)
        func fail(_ reason: String, key: String? = nil) -> TensorFileError { TensorFileError(file: name, key: key, reason) }
        guard data.count >= 8 else { throw fail("too short for a safetensors header (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(maxHeaderBytes) else { throw fail("header length \(headerLength) exceeds the \(maxHeaderBytes)-byte limit") }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) runs past the end of the file (\(data.count) bytes)") }
        let headerEnd = 8 + Int(headerLength)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) } catch {
            throw fail("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("header is not a JSON object") }
        let payload = data.count - headerEnd
        var file = File(tensors: [:], dtypes: [:], metadata: [:], names: [])
        var entries: [(name: String, begin: Int, end: Int, dtype: String, shape: [Int])] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard let meta = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in meta {
                    guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                    file.metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2
            else { throw fail("entry needs dtype, shape and two data_offsets", key: key) }
            guard let encoding = Self.encodings[dtype] else {
                throw fail("unsupported dtype \(dtype) (supported: \(Self.encodings.keys.sorted().joined(separator: ", ")))", key: key)
            }
            let elementSize = encoding.byteCount
            let shape = try shapeAny.map { d -> Int in
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n < 1 << 32 else { throw fail("invalid dimension \(d) in shape", key: key) }
                return n
            }
            let offsets = try offsetsAny.map { o -> Int in
                guard let n = (o as? NSNumber)?.int64Value, n >= 0, n <= Int64(payload) else {
                    throw fail("data offset \(o) outside the \(payload)-byte data section", key: key)
                }
                return Int(n)
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= payload else { throw fail("shape \(shape) is larger than the file", key: key) }
                elements = product
            }
            guard offsets[1] >= offsets[0], offsets[1] - offsets[0] == elements * elementSize else {
                throw fail("data_offsets \(offsets) hold \(offsets[1] - offsets[0]) bytes, shape \(shape) of \(dtype) needs \(elements * elementSize)", key: key)
            }
            entries.append((key, offsets[0], offsets[1], dtype, shape))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw fail("overlaps tensor '\(a.name)'", key: b.name)
        }
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + headerEnd
            for e in entries {
                let t = Tensor(uninitializedShape: e.shape)
                Self.encodings[e.dtype]!.convert(base + e.begin, byteStride: Self.encodings[e.dtype]!.byteCount, count: t.count, into: t.data)
                file.tensors[e.name] = t
                file.dtypes[e.name] = e.dtype
                file.names.append(e.name)
            }
        }
        return file
    }

    /// safetensors dtype names → how their elements are stored (little-endian).
    static let encodings: [String: ElementEncoding] = [
        "F32": .init(.float32), "F16": .init(.float16), "BF16": .init(.bfloat16), "F64": .init(.float64), "I64": .init(.int64),
        "I32": .init(.int32), "I16": .init(.int16), "I8": .init(.int8), "U8": .init(.uint8), "BOOL": .init(.bool),
    ]

    /// IEEE half → single, including subnormals, infinities and NaN.
    public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31, exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            return Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mantissa) * 0x1p-24
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// Writes tensors as F32 (names sorted, so the bytes depend only on the contents),
    /// atomically: a temporary file in the same folder is renamed over `url`.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerData.count % 8 != 0 { headerData.append(0x20) } // pad with spaces, as the reference writer
        var out = Data(capacity: 8 + headerData.count + offset)
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerData)
        for name in names {
            let t = tensors[name]!
            var le = [UInt32](repeating: 0, count: t.count)
            for i in 0..<t.count { le[i] = t.data[i].bitPattern.littleEndian }
            le.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        try AtomicFile.write(out, to: url)
    }
}

/// Writes a file so that readers see the old or the new contents, never a partial one:
/// temporary file in the same folder, fsync, rename.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw TensorFileError(file: temp.path, "cannot create")
        }
        let handle = try FileHandle(forWritingTo: temp)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw TensorFileError(file: url.path, "write failed: \(error.localizedDescription)")
        }
        if rename(temp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: temp)
            throw TensorFileError(file: url.path, "rename failed (errno \(errno))")
        }
    }
}
