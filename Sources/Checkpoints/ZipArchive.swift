import CZlib
import Foundation
import Tensor

/// A read-only ZIP archive (PKWARE APPNOTE 6.3) held as memory-mapped bytes: the container of
/// numpy `.npz` files and of PyTorch's zip checkpoints (torch ≥ 1.6 writes zip64 records always).
///
/// Opening an archive reads and validates the whole directory — end record, zip64 records,
/// central directory, every local header — so a corrupt or hostile file fails there, with an
/// error naming the archive and entry, before any entry is decompressed. Entries whose bytes
/// overlap are refused: that is how "zip bombs" reuse one compressed stream many times.
/// Not supported (refused with an error): encryption, multi-disk archives, compression methods
/// other than stored and deflate, archives with bytes prepended (self-extracting stubs).
public struct ZipArchive {
    public struct Entry {
        public let name: String
        /// 0 = stored, 8 = deflate; others are listed but cannot be read.
        public let method: UInt16
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let flags: UInt16
        let localHeaderOffset: Int
        /// Where the (possibly compressed) bytes start: after the local header's name and extra field.
        let dataOffset: Int
    }

    /// Declared entry sizes above this are refused before anything is allocated.
    public static let maxEntryBytes = 64 << 30
    /// Deflate can shrink data at most 1032:1 (a 258-byte match coded in about two bits), so an
    /// entry declaring more than this many times its compressed size is lying about its size.
    public static let maxDeflateRatio = 1032

    /// The archive's path, used in every error message.
    public let path: String
    /// Entries in central-directory order.
    public let entries: [Entry]
    private let bytes: Data
    private let entryIndex: [String: Int]

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorFileError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        try self.init(data, path: url.path)
    }

    public init(_ data: Data, path: String) throws {
        self.path = path
        bytes = data
        let directory = try Self.locateCentralDirectory(data, path: path)
        entries = try Self.readCentralDirectory(data, directory, path: path)
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            guard index.updateValue(i, forKey: entry.name) == nil else {
                throw TensorFileError(file: path, key: entry.name, "the zip archive holds this entry twice")
            }
        }
        entryIndex = index
        try Self.checkEntriesDoNotOverlap(entries, path: path)
    }

    public func entry(named name: String) -> Entry? { entryIndex[name].map { entries[$0] } }

    /// The entry's uncompressed bytes, checked against its declared size and CRC-32.
    public func data(for name: String) throws -> Data {
        func fail(_ reason: String) -> TensorFileError { TensorFileError(file: path, key: name, reason) }
        guard let entry = entry(named: name) else { throw fail("no such entry in the zip archive") }
        guard entry.flags & 1 == 0 else { throw fail("entry is encrypted") }
        let output: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail("stored entry declares \(entry.compressedSize) bytes stored but \(entry.uncompressedSize) uncompressed")
            }
            output = bytes.bytes(at: entry.dataOffset, length: entry.compressedSize)!  // validated in init
        case 8:
            let (limit, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Self.maxDeflateRatio)
            guard overflow || entry.uncompressedSize <= limit else {
                throw fail("declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed, beyond deflate's \(Self.maxDeflateRatio):1 limit")
            }
            output = try inflateRaw(bytes.bytes(at: entry.dataOffset, length: entry.compressedSize)!,
                                    expectedSize: entry.uncompressedSize, fail: fail)
        default:
            throw fail("unsupported compression method \(entry.method) (only stored and deflate)")
        }
        guard Self.crc32(of: output) == entry.crc32 else { throw fail("CRC-32 mismatch: the entry is corrupt") }
        return output
    }

    // MARK: - Directory

    private struct CentralDirectory {
        var offset: Int
        var size: Int
        var entryCount: Int
    }

    /// Finds the central directory through the end-of-central-directory record and, when present,
    /// the zip64 end record (whose 64-bit fields replace the classic 16/32-bit ones).
    private static func locateCentralDirectory(_ data: Data, path: String) throws -> CentralDirectory {
        func fail(_ reason: String) -> TensorFileError { TensorFileError(file: path, reason) }
        // The end record is 22 bytes plus a comment of up to 65,535 bytes, and nothing marks where
        // the comment starts, so scan backwards from the last place the record could begin; take
        // the first signature whose declared comment fits in the rest of the file.
        let endRecordSize = 22
        guard data.count >= endRecordSize else { throw fail("too short for a zip archive (\(data.count) bytes)") }
        var endRecord: Int?
        for position in stride(from: data.count - endRecordSize, through: max(0, data.count - endRecordSize - 65_535), by: -1)
        where data.littleEndian(UInt32.self, at: position) == 0x0605_4B50 {
            let commentLength = Int(data.littleEndian(UInt16.self, at: position + 20)!)
            if position + endRecordSize + commentLength <= data.count { endRecord = position; break }
        }
        guard let end = endRecord else { throw fail("no zip end-of-central-directory record") }
        var directory = CentralDirectory(offset: Int(data.littleEndian(UInt32.self, at: end + 16)!),
                                         size: Int(data.littleEndian(UInt32.self, at: end + 12)!),
                                         entryCount: Int(data.littleEndian(UInt16.self, at: end + 10)!))
        guard data.littleEndian(UInt16.self, at: end + 4) == 0, data.littleEndian(UInt16.self, at: end + 6) == 0 else {
            throw fail("multi-disk zip archives are not supported")
        }
        var directoryLimit = end  // the central directory must end before the records that describe it
        // The zip64 locator, when present, sits immediately before the classic end record.
        if end >= 20, data.littleEndian(UInt32.self, at: end - 20) == 0x0706_4B50 {
            let zip64End = data.littleEndian(UInt64.self, at: end - 12)!
            guard end - 20 >= 56, zip64End <= UInt64(end - 20 - 56),
                  data.littleEndian(UInt32.self, at: Int(zip64End)) == 0x0606_4B50 else {
                throw fail("zip64 end-of-central-directory locator points outside the file")
            }
            let record = Int(zip64End)
            let count = data.littleEndian(UInt64.self, at: record + 32)!
            let size = data.littleEndian(UInt64.self, at: record + 40)!
            let offset = data.littleEndian(UInt64.self, at: record + 48)!
            guard size <= UInt64(record), offset <= UInt64(record) - size else {
                throw fail("zip64 central directory (offset \(offset), \(size) bytes) lies outside the file")
            }
            directory = CentralDirectory(offset: Int(offset), size: Int(size), entryCount: Int(min(count, UInt64(Int.max))))
            directoryLimit = record
        }
        guard directory.offset <= directoryLimit, directory.size <= directoryLimit - directory.offset else {
            throw fail("central directory (offset \(directory.offset), \(directory.size) bytes) lies outside the file")
        }
        let minimumEntrySize = 46
        guard directory.entryCount <= directory.size / minimumEntrySize else {
            throw fail("central directory of \(directory.size) bytes cannot hold the \(directory.entryCount) entries it declares")
        }
        return directory
    }

    private static func readCentralDirectory(_ data: Data, _ directory: CentralDirectory, path: String) throws -> [Entry] {
        let end = directory.offset + directory.size
        var position = directory.offset
        var entries: [Entry] = []
        entries.reserveCapacity(directory.entryCount)
        for number in 0..<directory.entryCount {
            func fail(_ reason: String, name: String? = nil) -> TensorFileError {
                TensorFileError(file: path, key: name ?? "central directory entry \(number)", reason)
            }
            guard position + 46 <= end, data.littleEndian(UInt32.self, at: position) == 0x0201_4B50 else {
                throw fail("bad central directory entry signature")
            }
            let field16 = { (offset: Int) in Int(data.littleEndian(UInt16.self, at: position + offset)!) }
            let field32 = { (offset: Int) in data.littleEndian(UInt32.self, at: position + offset)! }
            let nameLength = field16(28), extraLength = field16(30), commentLength = field16(32)
            let entrySize = 46 + nameLength + extraLength + commentLength
            guard position + entrySize <= end else { throw fail("central directory entry runs past the directory") }
            let nameBytes = data.bytes(at: position + 46, length: nameLength)!
            // Names are UTF-8 (flag bit 11) or, from old tools, CP437; ASCII names read the same either way.
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard field16(34) == 0 || field16(34) == 0xFFFF else { throw fail("multi-disk zip archives are not supported", name: name) }
            let sizes = try applyZip64Extra(data.bytes(at: position + 46 + nameLength, length: extraLength)!,
                                            to: [UInt64(field32(24)), UInt64(field32(20)), UInt64(field32(42))],
                                            fail: { fail($0, name: name) })
            let (uncompressedSize, compressedSize, localHeaderOffset) = (sizes[0], sizes[1], sizes[2])
            guard uncompressedSize <= UInt64(maxEntryBytes) else {
                throw fail("declares \(uncompressedSize) uncompressed bytes, beyond the \(maxEntryBytes)-byte limit", name: name)
            }
            guard localHeaderOffset <= UInt64(directory.offset), compressedSize <= UInt64(directory.offset) else {
                throw fail("entry (offset \(localHeaderOffset), \(compressedSize) bytes) lies outside the file", name: name)
            }
            let dataOffset = try localDataOffset(data, headerOffset: Int(localHeaderOffset), centralName: nameBytes,
                                                 fail: { fail($0, name: name) })
            guard dataOffset <= directory.offset, Int(compressedSize) <= directory.offset - dataOffset else {
                throw fail("entry's \(compressedSize) bytes run into the central directory", name: name)
            }
            entries.append(Entry(name: name, method: UInt16(field16(10)), crc32: field32(16),
                                 compressedSize: Int(compressedSize), uncompressedSize: Int(uncompressedSize),
                                 flags: UInt16(field16(8)), localHeaderOffset: Int(localHeaderOffset), dataOffset: dataOffset))
            position += entrySize
        }
        return entries
    }

    /// Applies the zip64 extended-information extra field (id 1) to `fields` = (uncompressed size,
    /// compressed size, local header offset): it holds, in that order, the 64-bit value of each
    /// field whose 32-bit slot is 0xFFFFFFFF.
    private static func applyZip64Extra(_ extra: Data, to fields: [UInt64], fail: (String) -> TensorFileError) throws -> [UInt64] {
        var fields = fields
        var position = 0
        while position + 4 <= extra.count {
            let id = extra.littleEndian(UInt16.self, at: position)!
            let size = Int(extra.littleEndian(UInt16.self, at: position + 2)!)
            guard position + 4 + size <= extra.count else { throw fail("extra field runs past its entry") }
            if id == 1 {
                var field = position + 4
                for i in fields.indices where fields[i] == 0xFFFF_FFFF {
                    guard field + 8 <= position + 4 + size else { throw fail("zip64 extra field is too short") }
                    fields[i] = extra.littleEndian(UInt64.self, at: field)!
                    field += 8
                }
            }
            position += 4 + size
        }
        return fields
    }

    /// Validates the local header at `headerOffset` (signature, same name as the central
    /// directory) and returns where the entry's bytes begin. Sizes come from the central
    /// directory: local ones may be zero when a data descriptor follows the bytes.
    private static func localDataOffset(_ data: Data, headerOffset: Int, centralName: Data,
                                        fail: (String) -> TensorFileError) throws -> Int {
        guard data.littleEndian(UInt32.self, at: headerOffset) == 0x0403_4B50,
              let nameLength = data.littleEndian(UInt16.self, at: headerOffset + 26),
              let extraLength = data.littleEndian(UInt16.self, at: headerOffset + 28) else {
            throw fail("no local header at offset \(headerOffset)")
        }
        guard data.bytes(at: headerOffset + 30, length: Int(nameLength)) == centralName else {
            throw fail("local header names a different entry than the central directory")
        }
        let dataOffset = headerOffset + 30 + Int(nameLength) + Int(extraLength)
        guard dataOffset <= data.count else { throw fail("local header runs past the end of the file") }
        return dataOffset
    }

    private static func checkEntriesDoNotOverlap(_ entries: [Entry], path: String) throws {
        let ordered = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(ordered, ordered.dropFirst()) where a.dataOffset + a.compressedSize > b.localHeaderOffset {
            throw TensorFileError(file: path, key: b.name, "overlaps entry '\(a.name)' in the zip archive")
        }
    }

    // MARK: - zlib

    /// Inflates a raw deflate stream (zip stores no zlib header: window bits -15) into exactly
    /// `expectedSize` bytes; a stream that ends early or would produce more is an error.
    private func inflateRaw(_ input: Data, expectedSize: Int, fail: (String) -> TensorFileError) throws -> Data {
        // zlib refuses a nil output pointer even when no output is due, so never hand it an empty buffer.
        var output = Data(count: max(expectedSize, 1))
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let chunk = Int(UInt32.max)  // zlib counts bytes in 32-bit unsigned ints: feed large entries in chunks
        let status: Int32 = input.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            output.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
                var given = 0, room = 0
                var status = Z_OK
                while status == Z_OK {
                    if stream.avail_in == 0, given < source.count {
                        let n = min(chunk, source.count - given)
                        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress!.advanced(by: given).assumingMemoryBound(to: Bytef.self))
                        stream.avail_in = uInt(n)
                        given += n
                    }
                    if stream.avail_out == 0, room < target.count {
                        let n = min(chunk, target.count - room)
                        stream.next_out = target.baseAddress!.advanced(by: room).assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(n)
                        room += n
                    }
                    status = inflate(&stream, Z_NO_FLUSH)
                }
                return status
            }
        }
        let produced = Int(stream.total_out)
        switch status {
        case Z_STREAM_END where produced == expectedSize:
            return expectedSize == 0 ? Data() : output
        case Z_STREAM_END:
            throw fail("inflates to \(produced) bytes, but declares \(expectedSize)")
        case Z_BUF_ERROR where produced >= expectedSize:
            throw fail("inflates to more than the \(expectedSize) bytes it declares")
        case Z_BUF_ERROR:
            throw fail("deflate stream is truncated")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
            throw fail("deflate stream is corrupt (\(message))")
        }
    }

    static func crc32(of data: Data) -> UInt32 {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> UInt32 in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let n = min(Int(UInt32.max), buffer.count - offset)
                crc = CZlib.crc32(crc, buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(n))
                offset += n
            }
            return UInt32(crc)
        }
    }
}
