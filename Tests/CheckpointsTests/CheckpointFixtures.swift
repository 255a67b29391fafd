import Foundation
import Tensor
import XCTest

/// The files written by scripts/reference/make_checkpoint_fixtures.py, and the values the
/// readers must reproduce from them.
enum CheckpointFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    /// Contiguous float32 values: the PyTorch state under "torch.<name>", the numpy arrays under "npz.<name>".
    static let expected: [String: Tensor] = {
        do { return try SafeTensors.read(url("expected.safetensors")).tensors } catch {
            fatalError("cannot read the expected values: \(error); run scripts/reference/make_checkpoint_fixtures.py")
        }
    }()

    /// The expected tensors under one prefix ("torch." or "npz."), with the prefix removed.
    static func expected(under prefix: String) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: expected.compactMap { name, tensor in
            name.hasPrefix(prefix) ? (String(name.dropFirst(prefix.count)), tensor) : nil
        })
    }
}

/// Asserts same names, same shapes and bitwise-identical values (NaN payloads included).
func assertBitwiseEqual(_ actual: [String: Tensor], _ expected: [String: Tensor], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.keys.sorted(), expected.keys.sorted(), "tensor names", file: file, line: line)
    for (name, want) in expected {
        guard let got = actual[name] else { continue }
        XCTAssertEqual(got.shape, want.shape, "shape of \(name)", file: file, line: line)
        guard got.shape == want.shape else { continue }
        let mismatches = (0..<want.count).filter { got.data[$0].bitPattern != want.data[$0].bitPattern }
        XCTAssertTrue(mismatches.isEmpty, "\(name): \(mismatches.count) values differ, first at \(mismatches.first ?? 0)", file: file, line: line)
    }
}

/// Asserts that `body` throws a `TensorFileError` whose message contains every one of `fragments`.
func assertFileError<T>(_ body: @autoclosure () throws -> T, mentions fragments: [String],
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
    } catch let error as TensorFileError {
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a TensorFileError, got \(error)", file: file, line: line)
    }
}
