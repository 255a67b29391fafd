import Checkpoints
import Foundation
import Tensor
import XCTest

final class ZipArchiveTests: XCTestCase {
    func testReadsStoredEntriesThroughZip64Records() throws {
        var zip = ZipBytes()
        zip.zip64 = true
        zip.add("a.bin", Data("first".utf8))
        zip.add("dir/b.bin", Data(repeating: 7, count: 300))
        let archive = try ZipArchive(zip.build(), path: "zip64.zip")
        XCTAssertEqual(archive.entries.map(\.name), ["a.bin", "dir/b.bin"])
        XCTAssertEqual(try archive.data(for: "a.bin"), Data("first".utf8))
        XCTAssertEqual(try archive.data(for: "dir/b.bin"), Data(repeating: 7, count: 300))
    }

    func testFindsTheEndRecordBeforeAComment() throws {
        var zip = ZipBytes()
        zip.add("x", Data("payload".utf8))
        zip.comment = Data(repeating: UInt8(ascii: "c"), count: 1000)
        XCTAssertEqual(try ZipArchive(zip.build(), path: "comment.zip").data(for: "x"), Data("payload".utf8))
    }

    func testInflatesDeflatedEntries() throws {
        let archive = try ZipArchive(contentsOf: CheckpointFixtures.url("arrays_compressed.npz"))
        XCTAssertTrue(archive.entries.allSatisfy { $0.method == 8 })
        let stored = try ZipArchive(contentsOf: CheckpointFixtures.url("arrays.npz"))
        for entry in stored.entries {
            XCTAssertEqual(try archive.data(for: entry.name), try stored.data(for: entry.name), entry.name)
        }
    }

    func testRefusesACorruptEntryByItsCRC() throws {
        var zip = ZipBytes()
        zip.add("weights", Data("0123456789".utf8))
        var bytes = zip.build()
        bytes[30 + "weights".utf8.count + 3] ^= 0x01  // a byte of the payload
        assertFileError(try ZipArchive(bytes, path: "crc.zip").data(for: "weights"), mentions: ["crc.zip", "weights", "CRC-32"])
    }

    func testRefusesAbsurdDeclaredSizes() throws {
        var huge = ZipBytes()
        huge.zip64 = true
        huge.entries = [.init(name: "big", payload: Data("tiny".utf8), declaredUncompressedSize: 1 << 50)]
        assertFileError(try ZipArchive(huge.build(), path: "huge.zip"), mentions: ["huge.zip", "big", "limit"])

        // A deflated entry may not declare more than deflate's 1032:1 ratio allows.
        var bytes = try CheckpointFixtures.data("arrays_compressed.npz")
        let archive = try ZipArchive(bytes, path: "ratio.npz")
        let entry = archive.entries[0]
        let central = try XCTUnwrap(bytes.range(of: Data([0x50, 0x4B, 0x01, 0x02])))
        bytes.replaceSubrange(central.lowerBound + 24 ..< central.lowerBound + 28, with: le(UInt32(entry.compressedSize * 2000)))
        assertFileError(try ZipArchive(bytes, path: "ratio.npz").data(for: entry.name), mentions: ["ratio.npz", entry.name, "1032:1"])

        // Declaring fewer bytes than the stream holds is caught while inflating.
        bytes.replaceSubrange(central.lowerBound + 24 ..< central.lowerBound + 28, with: le(UInt32(entry.uncompressedSize - 1)))
        assertFileError(try ZipArchive(bytes, path: "short.npz").data(for: entry.name), mentions: ["more than"])
    }

    func testRefusesOverlappingEntries() throws {
        // Entry "outer" stores a complete local header + payload for "inner": reading both would
        // decompress the same bytes twice, the trick behind non-recursive zip bombs.
        let innerPayload = Data("inner data".utf8)
        let innerLocal = ZipBytes.localHeader(name: "inner", crc: ZipBytes.crc32(innerPayload), size: UInt32(innerPayload.count))
        var zip = ZipBytes()
        zip.add("outer", innerLocal + innerPayload)
        zip.entries.append(.init(name: "inner", payload: innerPayload, localHeaderOffset: UInt64(30 + "outer".utf8.count)))
        assertFileError(try ZipArchive(zip.build(), path: "overlap.zip"), mentions: ["overlap.zip", "overlaps"])
    }

    func testNamesTheMissingEntry() throws {
        let archive = try ZipArchive(contentsOf: CheckpointFixtures.url("arrays.npz"))
        assertFileError(try archive.data(for: "absent.npy"), mentions: ["arrays.npz", "absent.npy"])
    }

    func testRefusesFilesWithoutAnEndRecord() {
        assertFileError(try ZipArchive(Data("PK\u{3}\u{4} not really a zip archive".utf8), path: "fake.zip"),
                        mentions: ["fake.zip", "end-of-central-directory"])
    }
}
