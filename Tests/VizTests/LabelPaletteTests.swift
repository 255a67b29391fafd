import Viz
import XCTest

final class LabelPaletteTests: XCTestCase {
    /// Pascal VOC's palette as its SegmentationClass PNGs store it.
    func testColoursArePascalVOCs() {
        let expected: [Int: (UInt8, UInt8, UInt8)] = [0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128),
                                                      8: (64, 0, 0), 15: (192, 128, 128), 20: (0, 64, 128), 255: (255, 255, 255)]
        for (label, rgb) in expected {
            let c = LabelPalette.color(label)
            XCTAssertEqual([c.red, c.green, c.blue], [rgb.0, rgb.1, rgb.2], "label \(label)")
        }
    }

    func testLabelMapsBecomeImagesAndMagnifyByBlocks() {
        let image = LabelPalette.image(labels: [0, 1, 2, 255], width: 2, height: 2)
        XCTAssertEqual(image.pixels, [0, 0, 0, 128, 0, 0, 0, 128, 0, 255, 255, 255])
        let big = image.magnified(by: 2)
        XCTAssertEqual([big.width, big.height], [4, 4])
        XCTAssertTrue(big[1, 1] == (0, 0, 0) && big[2, 1] == (128, 0, 0) && big[3, 3] == (255, 255, 255) && big[0, 2] == (0, 128, 0))
    }
}
