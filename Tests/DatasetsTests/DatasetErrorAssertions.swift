import Datasets
import XCTest

/// Asserts that `body` throws a `DatasetError` naming `expectedFile` (and `expectedLine`, when
/// given) whose message contains every word of `words`.
func expectDatasetError(_ body: () throws -> Void, file expectedFile: String, line expectedLine: Int? = nil,
                        mentions words: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
        try body()
        XCTFail("expected a DatasetError mentioning \(words)", file: file, line: line)
    } catch let error as DatasetError {
        XCTAssertTrue(error.file.hasSuffix(expectedFile), "file: \(error)", file: file, line: line)
        if let expectedLine { XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line) }
        for word in words { XCTAssertTrue(error.description.contains(word), "'\(word)' not in: \(error)", file: file, line: line) }
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
    }
}
