import Datasets
import Tensor
import Foundation
import XCTest

/// SHA-256 against the FIPS 180-4 / NIST example vectors, including block-boundary lengths
/// and streaming in uneven pieces.
final class ChecksumTests: XCTestCase {
    private func hex(_ text: String) -> String { SHA256.hex(SHA256.digest(Data(text.utf8))) }

    func testKnownVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hex(SHA256.digest(Data(repeating: 0x61, count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingEqualsOneShot() {
        var rng = SeededRandom(seed: 1)
        for length in [55, 56, 63, 64, 65, 119, 120, 1000] {
            let data = Data((0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            var hasher = SHA256()
            var offset = 0
            while offset < length {
                let step = 1 + rng.nextInt(70)
                hasher.update(data[offset..<min(length, offset + step)])
                offset += step
            }
            XCTAssertEqual(hasher.finalize(), SHA256.digest(data), "length \(length)")
        }
    }
}
