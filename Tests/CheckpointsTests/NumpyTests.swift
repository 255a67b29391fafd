import Checkpoints
import Foundation
import Tensor
import XCTest

final class NumpyTests: XCTestCase {
    func testStoredNPZReproducesNumpyValues() throws {
        let arrays = try NPZ.read(CheckpointFixtures.url("arrays.npz"))
        assertBitwiseEqual(arrays.mapValues(\.tensor), CheckpointFixtures.expected(under: "npz."))
        XCTAssertEqual(arrays["f4"]?.dtype, "<f4")
        XCTAssertEqual(arrays["f2"]?.dtype, "<f2")
        XCTAssertEqual(arrays["be_f4"]?.dtype, ">f4")
        XCTAssertEqual(arrays["be_i8"]?.dtype, ">i8")
        XCTAssertEqual(arrays["u1"]?.dtype, "|u1")
        XCTAssertEqual(arrays["b1"]?.dtype, "|b1")
        XCTAssertEqual(arrays["scalar"]?.tensor.shape, [])
        XCTAssertEqual(arrays["empty"]?.tensor.shape, [0, 3])
    }

    func testCompressedNPZReproducesNumpyValues() throws {
        let arrays = try NPZ.read(CheckpointFixtures.url("arrays_compressed.npz"))
        assertBitwiseEqual(arrays.mapValues(\.tensor), CheckpointFixtures.expected(under: "npz."))
    }

    func testFortranOrderIsTransposedToRowMajor() throws {
        let npy = Self.npy(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats: [1, 4, 2, 5, 3, 6])
        let array = try NumpyArray(parsing: npy, file: "f.npy")
        XCTAssertEqual(array.tensor.shape, [2, 3])
        XCTAssertEqual(array.tensor.scalars, [1, 2, 3, 4, 5, 6])
    }

    func testReadsFormatVersions2And3AndPython2Headers() throws {
        let header = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}"
        for version: UInt8 in [1, 2, 3] {
            let array = try NumpyArray(parsing: Self.npy(header: header, floats: [0.5, -2], version: version), file: "v.npy")
            XCTAssertEqual(array.tensor.scalars, [0.5, -2], "version \(version)")
        }
    }

    func testRefusesMalformedArraysWithErrorsNamingTheFile() {
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let cases: [(Data, String)] = [
            (Data("not numpy".utf8), "magic"),
            (Self.npy(header: good, floats: [1]), "needs 8 data bytes"),
            (Self.npy(header: good, floats: [1, 2, 3]), "needs 8 data bytes"),
            (Self.npy(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", floats: [1, 2, 3, 4]), "unsupported dtype"),
            (Self.npy(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", floats: [1, 2]), "descr"),
            (Self.npy(header: "{'descr': '<f4', 'shape': (2,), }", floats: [1, 2]), "fortran_order"),
            (Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", floats: [1, 2]), "dimension"),
            (Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1 << 40,), }", floats: [1, 2]), "Python dict"),
            (Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", floats: [1, 2]), "more elements"),
            (Self.npy(header: String(repeating: "(", count: 5000), floats: []), "Python dict"),
            (Self.npy(header: good, floats: [1, 2], version: 4), "version"),
            (Self.npy(header: good, floats: [1, 2], declaredHeaderLength: 60_000), "runs past the end"),
            (Self.npy(header: good, floats: [1, 2], version: 2, declaredHeaderLength: 4_000_000_000), "limit"),
        ]
        for (bytes, reason) in cases {
            assertFileError(try NumpyArray(parsing: bytes, file: "bad.npy", key: "w"), mentions: ["bad.npy", "'w'", reason])
        }
    }

    func testRefusesNPZEntriesThatAreNotArrays() throws {
        var zip = ZipBytes()
        zip.add("w.npy", Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", floats: [1]))
        zip.add("notes.txt", Data("hello".utf8))
        assertFileError(try NPZ.read(ZipArchive(zip.build(), path: "mixed.npz")), mentions: ["mixed.npz", "notes.txt"])
    }

    /// A `.npy` file with the given header dict literal and little-endian float32 data.
    static func npy(header: String, floats: [Float], version: UInt8 = 1, declaredHeaderLength: Int? = nil) -> Data {
        var bytes = Data([0x93]) + Data("NUMPY".utf8) + Data([version, 0])
        let text = Data((header + "\n").utf8)
        let length = declaredHeaderLength ?? text.count
        bytes.append(version == 1 ? le(UInt16(length)) : le(UInt32(length)))
        bytes.append(text)
        for value in floats { bytes.append(le(value.bitPattern)) }
        return bytes
    }
}
