import Tensor
import Training
import XCTest

/// mmseg's IoUMetric on cases small enough to count by hand.
final class SegmentationMetricsTests: XCTestCase {
    /// Two images, 3 classes, one ignored pixel.
    ///   image 1: label [0, 0, 1, 255], prediction [0, 1, 1, 2] → the ignored pixel drops out:
    ///            intersection [1, 1, 0], predicted [1, 2, 0], labelled [2, 1, 0]
    ///   image 2: label [2, 2], prediction [2, 0] → intersection [0, 0, 1], predicted [1, 0, 1], labelled [0, 0, 2]
    ///   totals: intersection [1, 1, 1], predicted [2, 2, 1], labelled [2, 1, 2], union [3, 2, 2]
    ///   IoU [1/3, 1/2, 1/2] → mIoU 4/9; Acc [1/2, 1, 1/2] → mAcc 2/3; aAcc 3/5.
    /// Averaging per-image mIoU instead would give (1/2 + 1/4) / 2 = 3/8.
    func testDatasetTotalsNotPerImageMeans() throws {
        var m = SegmentationMetrics(numClasses: 3)
        try m.add(prediction: [0, 1, 1, 2], label: [0, 0, 1, 255])
        try m.add(prediction: [2, 0], label: [2, 2])
        XCTAssertEqual(m.intersection, [1, 1, 1])
        XCTAssertEqual(m.union, [3, 2, 2])
        XCTAssertEqual(m.labelled, [2, 1, 2])
        XCTAssertEqual(m.meanIoU, 4.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(m.meanAccuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.allAccuracy, 3.0 / 5, accuracy: 1e-12)
    }

    /// Class 3 appears nowhere: IoU and Acc NaN, left out of both means. Class 2 is predicted but
    /// never labelled: IoU 0 (it counts, lowering mIoU), Acc NaN (it does not count in mAcc).
    func testAbsentClassesAreNaNAndSkipped() throws {
        var m = SegmentationMetrics(numClasses: 4)
        try m.add(prediction: [0, 0, 1, 2], label: [0, 0, 1, 1])
        XCTAssertTrue(m.iou[3].isNaN)
        XCTAssertTrue(m.accuracy[3].isNaN)
        XCTAssertEqual(m.iou[2], 0)
        XCTAssertTrue(m.accuracy[2].isNaN)
        XCTAssertEqual(m.iou[0], 1)
        XCTAssertEqual(m.iou[1], 0.5)
        XCTAssertEqual(m.meanIoU, 0.5, accuracy: 1e-12)          // (1 + 1/2 + 0) / 3
        XCTAssertEqual(m.meanAccuracy, 0.75, accuracy: 1e-12)    // (1 + 1/2) / 2
        XCTAssertEqual(m.allAccuracy, 0.75, accuracy: 1e-12)
    }

    func testLogitsUseArgmaxPerSample() throws {
        // [B=2, C=2, H=1, W=2]: sample 0 predicts [1, 0], sample 1 predicts [0, 0] (a tie takes the first class).
        let logits = Tensor(shape: [2, 2, 1, 2], [0, 5, 1, 2, 3, 3, 3, 1])
        var m = SegmentationMetrics(numClasses: 2)
        try m.add(logits: logits, labels: [1, 0, 0, 255])
        XCTAssertEqual(m.images, 2)
        XCTAssertEqual(m.intersection, [2, 1])
        XCTAssertEqual(m.allAccuracy, 1)
    }

    func testOutOfRangeLabelsAreErrors() {
        var m = SegmentationMetrics(numClasses: 3)
        XCTAssertThrowsError(try m.add(prediction: [0], label: [3])) { XCTAssertTrue("\($0)".contains("label 3 outside 0..<3")) }
        XCTAssertThrowsError(try m.add(prediction: [0, 1], label: [0]))
        XCTAssertNoThrow(try m.add(prediction: [0], label: [255]))
        XCTAssertTrue(m.meanIoU.isNaN, "nothing labelled yet: no class has a defined IoU")
    }
}
