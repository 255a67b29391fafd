import Checkpoints
import Foundation
import Tensor
import XCTest

/// Damaged and hostile files: every reader must either throw a `TensorFileError` or (for a
/// harmless change, such as a flipped timestamp) return tensors — never trap, never allocate
/// absurdly. A trap would crash the test process, so finishing is the main assertion.
final class CorruptionTests: XCTestCase {
    static let mutationsPerFile = 3000

    func testZipCheckpointSurvivesMutations() throws { try mutate("tensors.pth", seed: 1) }
    func testLegacyCheckpointSurvivesMutations() throws { try mutate("tensors_legacy.pth", seed: 2) }
    func testStoredNPZSurvivesMutations() throws { try mutate("arrays.npz", seed: 3) }
    func testCompressedNPZSurvivesMutations() throws { try mutate("arrays_compressed.npz", seed: 4) }
    func testZipCheckpointSurvivesMutatedEntries() throws { try mutateEntries("tensors.pth", favourite: "tensors/data.pkl", seed: 5) }
    func testNPZSurvivesMutatedArrays() throws { try mutateEntries("arrays.npz", favourite: nil, seed: 6) }

    func testEveryTruncationThrows() throws {
        for name in ["tensors.pth", "tensors_legacy.pth", "arrays.npz", "arrays_compressed.npz"] {
            let original = try CheckpointFixtures.data(name)
            for length in stride(from: 0, to: original.count, by: max(1, original.count / 400)) {
                XCTAssertThrowsError(try Checkpoint.read(original.prefix(length), path: name), "\(name) cut to \(length) bytes") { error in
                    XCTAssertTrue(error is TensorFileError, "\(name) cut to \(length) bytes: \(error)")
                }
            }
        }
    }

    /// Damages whole files: most damage to a zip archive is caught by its CRCs and sizes.
    private func mutate(_ name: String, seed: UInt64) throws {
        let original = try CheckpointFixtures.data(name)
        var random = SeededRandom(seed: seed)
        var detected = 0
        for trial in 0..<Self.mutationsPerFile {
            if try read(Self.mutation(of: original, using: &random), name, trial) { detected += 1 }
        }
        // Most damage must be detected (CRCs, exact sizes), though some flips are harmless.
        XCTAssertGreaterThan(detected, Self.mutationsPerFile / 2, name)
    }

    /// Damages one entry of an archive and rebuilds it with valid CRCs, so the damage reaches the
    /// pickle and `.npy` parsers instead of being stopped by the zip layer. Half the time the
    /// entry is `favourite` (a checkpoint's data.pkl).
    private func mutateEntries(_ name: String, favourite: String?, seed: UInt64) throws {
        let archive = try ZipArchive(contentsOf: CheckpointFixtures.url(name))
        let entries = try archive.entries.map { (name: $0.name, payload: try archive.data(for: $0.name)) }
        var random = SeededRandom(seed: seed)
        for trial in 0..<Self.mutationsPerFile {
            let target = favourite.flatMap { random.nextInt(2) == 0 ? $0 : nil } ?? entries[random.nextInt(entries.count)].name
            var zip = ZipBytes()
            for entry in entries {
                zip.add(entry.name, entry.name == target ? Self.mutation(of: entry.payload, using: &random) : entry.payload)
            }
            _ = try read(zip.build(), name, trial)
        }
    }

    /// Reads damaged bytes; true when the reader threw a `TensorFileError`.
    private func read(_ damaged: Data, _ name: String, _ trial: Int) throws -> Bool {
        do {
            _ = try Checkpoint.read(damaged, path: name)
            return false
        } catch is TensorFileError {
            return true
        } catch {
            XCTFail("\(name), mutation \(trial): not a TensorFileError: \(error)")
            return true
        }
    }

    /// One random damage: truncation, flipped bits, a lying 32- or 64-bit field, a deleted or
    /// duplicated run of bytes.
    static func mutation(of original: Data, using random: inout SeededRandom) -> Data {
        var bytes = [UInt8](original)
        guard bytes.count > 8 else { return Data(bytes + [UInt8(truncatingIfNeeded: random.next())]) }
        switch random.nextInt(5) {
        case 0:
            bytes.removeLast(1 + random.nextInt(bytes.count))
        case 1:
            for _ in 0...random.nextInt(4) { bytes[random.nextInt(bytes.count)] ^= UInt8(1 << random.nextInt(8)) }
        case 2:
            let width = random.nextInt(2) == 0 ? 4 : 8
            let lies: [UInt64] = [0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 40, 0x7FFF_FFFF_FFFF_FFFF, .max, random.next()]
            let lie = lies[random.nextInt(lies.count)]
            let at = random.nextInt(bytes.count - width)
            for i in 0..<width { bytes[at + i] = UInt8(truncatingIfNeeded: lie >> (8 * UInt64(i))) }
        case 3:
            let at = random.nextInt(bytes.count)
            bytes.removeSubrange(at ..< min(bytes.count, at + 1 + random.nextInt(16)))
        default:
            let at = random.nextInt(bytes.count)
            let run = bytes[at ..< min(bytes.count, at + 1 + random.nextInt(16))]
            bytes.insert(contentsOf: run, at: at)
        }
        return Data(bytes)
    }
}
