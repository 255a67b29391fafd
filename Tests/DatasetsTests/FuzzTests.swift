import Datasets
import Foundation
import Tensor
import XCTest

/// Thousands of seeded mutations of real files fed to every reader. A reader may accept a
/// mutant (returning a well-formed result) or throw a `DatasetError`; anything else — a trap,
/// another error type, a malformed image — fails the test, and the seed reproduces it.
final class FuzzTests: XCTestCase {
    private static let seed: UInt64 = 20_240_601

    /// Random damage: flipped bits, overwritten runs, truncation, inserted or deleted bytes.
    static func mutate(_ data: Data, _ rng: inout SeededRandom) -> Data {
        var bytes = [UInt8](data)
        for _ in 0...(rng.nextInt(4)) {
            guard !bytes.isEmpty else { break }
            let at = rng.nextInt(bytes.count)
            switch rng.nextInt(6) {
            case 0: bytes[at] ^= UInt8(1 << rng.nextInt(8))
            case 1: for i in at..<min(bytes.count, at + 1 + rng.nextInt(16)) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: bytes.removeSubrange(at...)
            case 3: bytes.insert(contentsOf: (0..<(1 + rng.nextInt(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.nextInt(32)))
            default: bytes[at] = [0x00, 0xFF, 0x7F, 0x80][rng.nextInt(4)]
            }
        }
        return Data(bytes)
    }

    /// Recomputes every PNG chunk CRC, so mutants get past the CRC check into libpng's
    /// header, palette, inflate and filter code.
    private func fixPNGChecksums(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length <= bytes.count - offset - 12 else { break }
            var crc: UInt32 = 0xFFFF_FFFF
            for b in bytes[(offset + 4)..<(offset + 8 + length)] {
                crc ^= UInt32(b)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            crc ^= 0xFFFF_FFFF
            for k in 0..<4 { bytes[offset + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * k)) }
            offset += 12 + length
        }
        return Data(bytes)
    }

    private func check<T>(_ what: String, _ body: () throws -> T, valid: (T) -> Bool) -> Bool {
        do {
            let result = try body()
            XCTAssertTrue(valid(result), "\(what): accepted but malformed")
            return true
        } catch is DatasetError {
            return false
        } catch {
            XCTFail("\(what): \(type(of: error)) is not a DatasetError: \(error)")
            return false
        }
    }

    func testMutatedImagesNeverTrap() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: DataFixtures.url("images").path).sorted()
        let originals = try names.map { try Data(contentsOf: DataFixtures.url("images/\($0)")) }
        var rng = SeededRandom(seed: Self.seed)
        var accepted = 0
        let rounds = 3000
        for round in 0..<rounds {
            let k = round % originals.count
            var mutant = Self.mutate(originals[k], &rng)
            if names[k].hasSuffix(".png"), round % 2 == 0 { mutant = fixPNGChecksums(mutant) }
            let ok = check("image round \(round) (\(names[k]), seed \(Self.seed))", { try ImageDecoder.decode(mutant, source: names[k]) }) {
                $0.width > 0 && $0.height > 0 && $0.pixels.count == $0.width * $0.height * 3
            }
            if ok { accepted += 1 }
        }
        XCTAssertLessThan(accepted, rounds, "some mutants must be rejected")
    }

    func testMutatedListsAndIDXNeverTrap() throws {
        let dir = try temporaryDirectory(self)
        var rng = SeededRandom(seed: Self.seed + 1)
        let list = Data("images/a.png 0\nimages/b c.png 3\nimages/d.png,4\n../e.png 1\nf.png 2\n".utf8)
        let csv = Data("a.mp4,1\nb.mp4,0\n".utf8)
        let idxFiles = ["idx/images-idx3-ubyte", "idx/images-idx3-ubyte.gz", "idx/labels-idx1-ubyte.gz"]
        let idx = try idxFiles.map { try Data(contentsOf: DataFixtures.url($0)) }
        let json = Data("{\"a/b.jpg\": 3, \"c.jpg\": 7}".utf8)
        let folder = dir.appendingPathComponent("fgvc")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for round in 0..<2000 {
            let listText = Self.mutate(round % 2 == 0 ? list : csv, &rng)
            _ = check("list round \(round)", {
                try SplitListParser.parse(contents: listText, source: "list.txt", classCount: 5, policy: round % 3 == 0 ? .skip : .fail)
            }) { $0.allSatisfy { (0..<5).contains($0.label) && !$0.path.isEmpty && !$0.path.hasPrefix("/") } }
            let idxData = Self.mutate(idx[round % idx.count], &rng)
            _ = check("idx round \(round)", { try IDXFile(fileContents: idxData, source: "data.idx") }) {
                $0.bytes.count == $0.dimensions.reduce(1, *)
            }
            if round % 20 == 0 {
                try TinyDatasets.writeFile(Self.mutate(json, &rng), to: folder.appendingPathComponent("train.json"))
                try TinyDatasets.writeFile(json, to: folder.appendingPathComponent("test.json"))
                _ = check("json round \(round)", { try FGVCDataset(folder: folder, imageFolder: "").classCount }) { $0 > 0 }
            }
        }
    }
}

extension FuzzTests {
    /// Mutated MP4, WebM and AVI clips: opening and decoding every frame either works or throws
    /// a `DatasetError`; FFmpeg's own robustness is what this checks from our side of the API.
    func testMutatedVideosNeverTrap() throws {
        let names = ["h264.mp4", "vp9.webm", "mpeg4.avi"]
        let originals = try names.map { try Data(contentsOf: DataFixtures.url("videos/\($0)")) }
        var rng = SeededRandom(seed: 20_261_206)
        var accepted = 0
        let rounds = 3000
        for round in 0..<rounds {
            let k = round % originals.count
            let mutant = Self.mutate(originals[k], &rng)
            let decoded: [RGB8Image]
            do {
                let video = try VideoDecoder(data: mutant, source: names[k])
                decoded = try video.frames(at: Array(0..<video.frameCount))
            } catch is DatasetError {
                continue
            } catch {
                XCTFail("video round \(round) (\(names[k])): \(type(of: error)) is not a DatasetError: \(error)")
                continue
            }
            XCTAssertTrue(decoded.allSatisfy { $0.pixels.count == $0.width * $0.height * 3 }, "video round \(round): malformed frame")
            accepted += 1
        }
        XCTAssertLessThan(accepted, rounds, "some mutants must be rejected")
        XCTAssertGreaterThan(accepted, 0, "some mutants must still decode")
    }
}
