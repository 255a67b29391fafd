import Viz
import XCTest

final class DrawingTests: XCTestCase {
    func testRectangleCoversWholePixelsExactlyAndBlendsPartialOnes() {
        var image = RGBImage(width: 10, height: 10)
        image.fillRectangle(CanvasRect(x: 2, y: 2, width: 3, height: 2), color: .black)
        XCTAssertEqual(image.color(x: 2, y: 2), .black)
        XCTAssertEqual(image.color(x: 4, y: 3), .black)
        XCTAssertEqual(image.color(x: 5, y: 3), .white)
        XCTAssertEqual(image.color(x: 4, y: 4), .white)
        image.fillRectangle(CanvasRect(x: 7, y: 7, width: 0.5, height: 1), color: .black)
        XCTAssertEqual(image.color(x: 7, y: 7), RGBColor(red: 128, green: 128, blue: 128))
    }

    func testClipKeepsDrawingInsideTheRectangle() {
        var image = RGBImage(width: 20, height: 20)
        image.strokeSegments([(CanvasPoint(x: 0, y: 10), CanvasPoint(x: 20, y: 10))], width: 2, color: .black,
                             clip: CanvasRect(x: 5, y: 0, width: 10, height: 20))
        XCTAssertEqual(image.color(x: 10, y: 10), .black)
        XCTAssertEqual(image.color(x: 2, y: 10), .white)
        XCTAssertEqual(image.color(x: 17, y: 10), .white)
    }

    func testLineIsAntialiasedAtItsEdges() {
        var image = RGBImage(width: 20, height: 20)
        image.strokeSegments([(CanvasPoint(x: 2, y: 2), CanvasPoint(x: 18, y: 12))], width: 1.5, color: .black)
        let values = Set(image.pixels)
        XCTAssertTrue(values.contains(0))
        XCTAssertTrue(values.contains { $0 > 0 && $0 < 255 }, "expected partially covered pixels")
    }

    func testMarkersFillTheirCentreAndStayInTheirBox() {
        for shape in MarkerShape.allCases {
            var surface = RasterSurface(width: 30, height: 30)
            surface.marker(shape, at: CanvasPoint(x: 15, y: 15), size: 10, color: .black, outline: nil)
            XCTAssertEqual(surface.image.color(x: 15, y: 15), .black, "\(shape)")
            XCTAssertEqual(surface.image.color(x: 2, y: 2), .white, "\(shape)")
            XCTAssertEqual(surface.image.color(x: 27, y: 27), .white, "\(shape)")
        }
    }

    func testColormapsRunFromLowToHigh() {
        XCTAssertEqual(Colormap.viridis.color(at: 0), RGBColor(hex: 0x440154))
        XCTAssertEqual(Colormap.viridis.color(at: 1), RGBColor(hex: 0xFDE725))
        let lumas = stride(from: 0.0, through: 1.0, by: 0.05).map { Colormap.viridis.color(at: $0).luma }
        XCTAssertEqual(lumas, lumas.sorted(), "viridis brightness must rise monotonically")
        XCTAssertEqual(Colormap.jet.color(at: 0), RGBColor(red: 0, green: 0, blue: 128))
        XCTAssertEqual(Colormap.jet.color(at: 1), RGBColor(red: 128, green: 0, blue: 0))
    }
}
