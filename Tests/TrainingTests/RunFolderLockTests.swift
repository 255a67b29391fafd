import Foundation
import Training
import XCTest

/// A run folder is trained in by one process at a time, and a folder that cannot be made says so
/// in one plain sentence.
final class RunFolderLockTests: XCTestCase {
    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-lock-\(UUID())")
    }

    func testASecondHolderIsRefusedAndToldWhoHoldsIt() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var first: RunFolderLock? = try RunFolderLock(folder: folder)
        // flock locks belong to an open file, so a second open in this process conflicts as another process would.
        XCTAssertThrowsError(try RunFolderLock(folder: folder)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("is in use by another vpeft process (pid \(getpid())"), message)
            XCTAssertTrue(message.contains("choose another --out"), message)
        }
        withExtendedLifetime(first) {}
        first = nil
        XCTAssertNoThrow(try RunFolderLock(folder: folder), "released when the holder goes away")
    }

    func testAFolderThatCannotBeMadeIsOnePlainSentence() throws {
        let parent = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: parent) }
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let file = parent.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try RunFolderLock(folder: file.appendingPathComponent("run"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("cannot create the run folder \(file.path)/run: "), message)
            XCTAssertFalse(message.contains("NSCocoaErrorDomain") || message.contains("Error Domain"), message)
        }
    }
}
