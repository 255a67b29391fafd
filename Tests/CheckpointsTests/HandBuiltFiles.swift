import Foundation

/// Pickle bytes written opcode by opcode, to build what `torch.save` never writes: views that
/// leave their storage, absurd sizes, unknown opcodes.
struct PickleBytes {
    private(set) var bytes = Data([0x80, 0x02])  // PROTO 2

    mutating func opcode(_ character: Character) { bytes.append(character.asciiValue!) }

    mutating func string(_ text: String) {  // BINUNICODE
        opcode("X")
        append(UInt32(text.utf8.count))
        bytes.append(contentsOf: Array(text.utf8))
    }

    mutating func int(_ value: Int32) {  // BININT
        opcode("J")
        append(UInt32(bitPattern: value))
    }

    mutating func global(_ module: String, _ name: String) {
        opcode("c")
        bytes.append(contentsOf: Array("\(module)\n\(name)\n".utf8))
    }

    mutating func tuple(_ items: [Int32]) {
        opcode("(")
        items.forEach { int($0) }
        opcode("t")
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` of a FloatStorage.
    mutating func tensor(storageKey: String, storageCount: Int32, offset: Int32, size: [Int32], stride: [Int32]) {
        global("torch._utils", "_rebuild_tensor_v2")
        opcode("(")
        opcode("(")
        string("storage"); global("torch", "FloatStorage"); string(storageKey); string("cpu"); int(storageCount)
        opcode("t")
        opcode("Q")  // BINPERSID
        int(offset)
        tuple(size)
        tuple(stride)
        bytes.append(0x89)  // NEWFALSE
        global("collections", "OrderedDict"); opcode(")"); opcode("R")
        opcode("t")
        opcode("R")
    }

    /// A pickle of {name: tensor, …} built by `entries`.
    static func stateDict(_ entries: (inout PickleBytes) -> Void) -> Data {
        var pickle = PickleBytes()
        pickle.opcode("}")
        pickle.opcode("(")
        entries(&pickle)
        pickle.opcode("u")
        pickle.opcode(".")
        return pickle.bytes
    }
}

/// PyTorch's legacy format around a hand-built main pickle: magic number, protocol 1001, an
/// empty sys-info dict, the pickle, the storage keys, then each storage's count and float32 data.
func legacyCheckpoint(main: Data, storages: [(key: String, values: [Float])]) -> Data {
    let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    var file = Data(magic)
    file.append(contentsOf: [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E])  // BININT2 1001
    file.append(contentsOf: [0x80, 0x02, 0x7D, 0x2E])  // {}
    file.append(main)
    var keys = PickleBytes()
    keys.opcode("]")
    keys.opcode("(")
    storages.forEach { keys.string($0.key) }
    keys.opcode("e")
    keys.opcode(".")
    file.append(keys.bytes)
    for storage in storages {
        withUnsafeBytes(of: UInt64(storage.values.count).littleEndian) { file.append(contentsOf: $0) }
        for value in storage.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
    }
    return file
}

/// Zip archives written byte by byte (stored entries only), with the knobs real tools never
/// turn: zip64 fields on small entries, comments, lying sizes, overlapping entries.
struct ZipBytes {
    struct Entry {
        var name: String
        var payload: Data
        /// Overrides for the central directory's fields.
        var declaredUncompressedSize: UInt64?
        var localHeaderOffset: UInt64?
    }

    var entries: [Entry] = []
    var zip64 = false
    var comment = Data()

    mutating func add(_ name: String, _ payload: Data) { entries.append(Entry(name: name, payload: payload)) }

    func build() -> Data {
        var file = Data(), directory = Data()
        for entry in entries {
            let offset = entry.localHeaderOffset ?? UInt64(file.count)
            let crc = Self.crc32(entry.payload)
            let size = UInt64(entry.payload.count), declared = entry.declaredUncompressedSize ?? size
            if entry.localHeaderOffset == nil {
                file.append(Self.localHeader(name: entry.name, crc: crc, size: UInt32(size)))
                file.append(entry.payload)
            }
            directory.append(le(UInt32(0x0201_4B50)), le(UInt16(45)), le(UInt16(45)), le(UInt16(0)), le(UInt16(0)),
                             le(UInt32(0)), le(crc))
            if zip64 {
                directory.append(le(UInt32.max), le(UInt32.max))
            } else {
                directory.append(le(UInt32(size)), le(UInt32(declared)))
            }
            directory.append(le(UInt16(entry.name.utf8.count)), le(UInt16(zip64 ? 28 : 0)), le(UInt16(0)),
                             le(UInt16(0)), le(UInt16(0)), le(UInt32(0)), le(zip64 ? UInt32.max : UInt32(offset)))
            directory.append(Data(entry.name.utf8))
            if zip64 {  // uncompressed size, compressed size, local header offset
                directory.append(le(UInt16(1)), le(UInt16(24)), le(declared), le(size), le(offset))
            }
        }
        let directoryOffset = UInt64(file.count)
        file.append(directory)
        if zip64 {
            let record = UInt64(file.count)
            file.append(le(UInt32(0x0606_4B50)), le(UInt64(44)), le(UInt16(45)), le(UInt16(45)), le(UInt32(0)), le(UInt32(0)),
                        le(UInt64(entries.count)), le(UInt64(entries.count)), le(UInt64(directory.count)), le(directoryOffset))
            file.append(le(UInt32(0x0706_4B50)), le(UInt32(0)), le(record), le(UInt32(1)))
        }
        file.append(le(UInt32(0x0605_4B50)), le(UInt16(0)), le(UInt16(0)))
        let count = zip64 ? UInt16.max : UInt16(entries.count)
        file.append(le(count), le(count), le(zip64 ? UInt32.max : UInt32(directory.count)),
                    le(zip64 ? UInt32.max : UInt32(directoryOffset)), le(UInt16(comment.count)))
        file.append(comment)
        return file
    }

    static func localHeader(name: String, crc: UInt32, size: UInt32) -> Data {
        var header = Data()
        header.append(le(UInt32(0x0403_4B50)), le(UInt16(20)), le(UInt16(0)), le(UInt16(0)), le(UInt32(0)),
                      le(crc), le(size), le(size), le(UInt16(name.utf8.count)), le(UInt16(0)))
        header.append(Data(name.utf8))
        return header
    }

    /// CRC-32 (IEEE, reflected), bit by bit: test payloads are tiny.
    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

func le<T: FixedWidthInteger>(_ value: T) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }

extension Data {
    mutating func append(_ parts: Data...) { parts.forEach { append($0) } }
}
