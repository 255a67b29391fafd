import Viz
import XCTest

final class BitmapTextTests: XCTestCase {
    /// Bounding box of pixels that differ from the white background.
    private func inkBox(_ image: RGBImage) -> (minX: Int, minY: Int, maxX: Int, maxY: Int)? {
        var box: (Int, Int, Int, Int)?
        for y in 0..<image.height {
            for x in 0..<image.width where image.color(x: x, y: y) != .white {
                box = box.map { (min($0.0, x), min($0.1, y), max($0.2, x), max($0.3, y)) } ?? (x, y, x, y)
            }
        }
        return box.map { (minX: $0.0, minY: $0.1, maxX: $0.2, maxY: $0.3) }
    }

    func testTextInksOnlyInsideItsBoxAndScales() throws {
        var image = RGBImage(width: 120, height: 40)
        BitmapFont.draw("Hi 42", on: &image, x: 10, y: 5, scale: 2, color: .black)
        let box = try XCTUnwrap(inkBox(image))
        XCTAssertEqual(BitmapFont.width(of: "Hi 42", scale: 2), 58)
        XCTAssertEqual(box.minX, 10)              // 'H' starts with a full column
        XCTAssertEqual(box.minY, 5)               // and a full-height stem
        XCTAssertLessThanOrEqual(box.maxX, 10 + 58 - 1)
        XCTAssertEqual(box.maxY, 5 + 7 * 2 - 1)   // no descenders: ink ends at the baseline
        let inked = (0..<(image.width * image.height)).filter { image.pixels[3 * $0] == 0 }.count
        XCTAssertGreaterThan(inked, 100)
        XCTAssertEqual(inked % 4, 0)              // every font pixel is a 2×2 block
    }

    func testDescendersGoBelowTheBaseline() throws {
        var image = RGBImage(width: 20, height: 20)
        BitmapFont.draw("g", on: &image, x: 0, y: 0, scale: 1, color: .black)
        XCTAssertEqual(try XCTUnwrap(inkBox(image)).maxY, 7)
    }

    func testVerticalTextReadsBottomToTop() throws {
        var image = RGBImage(width: 40, height: 80)
        BitmapFont.draw("L", on: &image, x: 5, y: 60, scale: 2, color: .black, vertical: true)
        let box = try XCTUnwrap(inkBox(image))
        // Rotated anticlockwise: the glyph's height runs along x, its width up from y = 60.
        XCTAssertEqual(box.minX, 5)
        XCTAssertEqual(box.maxX, 5 + 14 - 1)
        XCTAssertEqual(box.maxY, 59)
        XCTAssertGreaterThanOrEqual(box.minY, 60 - 10)
        // L's foot (bottom row of the glyph) lies along the right edge after rotation.
        XCTAssertEqual(image.color(x: 5 + 13, y: 59 - 8), .black)
    }

    func testUnknownCharactersDrawAsQuestionMark() {
        XCTAssertEqual(BitmapFont.glyph("€"), BitmapFont.glyph("?"))
        XCTAssertNotEqual(BitmapFont.glyph("±"), BitmapFont.glyph("?"))
    }

    func testTextStyleBoundsFollowAnchors() {
        let style = TextStyle(scale: 2, anchor: .end, baseline: .middle)
        let box = style.bounds(of: "abc", at: CanvasPoint(x: 100, y: 50))
        XCTAssertEqual(box, CanvasRect(x: 100 - 34, y: 50 - 7, width: 34, height: 14))
        let vertical = TextStyle(scale: 1, anchor: .middle, baseline: .top, vertical: true)
        XCTAssertEqual(vertical.bounds(of: "abcd", at: CanvasPoint(x: 10, y: 50)),
                       CanvasRect(x: 10, y: 50 - 11.5, width: 7, height: 23))
    }
}
