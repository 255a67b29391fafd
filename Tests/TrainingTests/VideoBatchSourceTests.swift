import Datasets
import Foundation
import Models
import NN
import PEFT
import Tensor
import Training
import XCTest

/// Video clips from real (fixture) files to a training step: a list dataset of the H.264 and VP9
/// clips, VideoMAE-style clips [B, T, 3, S, S] that depend only on (seed, epoch), deterministic
/// test views, and a LoRA step on the tiny VideoMAE of Tests/ModelsTests/Fixtures/videomae.
final class VideoBatchSourceTests: XCTestCase {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    private func splits() throws -> VideoDatasetSplits {
        let root = Self.tests.appendingPathComponent("DatasetsTests/Fixtures/videos")
        let lists = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-video-lists-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: lists) }
        try Data("h264.mp4 1\nvp9.webm 0\nmpeg4.avi 2\n".utf8).write(to: lists.appendingPathComponent("train.txt"))
        try Data("vp9.webm 0\nh264.mp4 1\n".utf8).write(to: lists.appendingPathComponent("test.txt"))
        return try VideoListDataset.load(root: root, trainList: lists.appendingPathComponent("train.txt"), testList: lists.appendingPathComponent("test.txt"),
                                         classCount: 3, sampling: .dense(frames: 4, stride: 2), testViews: .kineticsStyle)
    }

    private func scalars(_ source: VideoBatchSource, epoch: Int) throws -> ([Float], [Int], [[Int]]) {
        let stream = try source.batches(epoch: epoch)
        var values: [Float] = [], labels: [Int] = [], shapes: [[Int]] = []
        while let batch = try stream.next() {
            values += batch.images.scalars
            labels += batch.labels
            shapes.append(batch.images.shape)
        }
        return (values, labels, shapes)
    }

    func testClipsDependOnlyOnSeedAndEpoch() throws {
        let reader = VideoClipReader(splits: try splits(), size: 16, flips: true, seed: 7)
        let training = VideoBatchSource(reader: reader, batchSize: 2)
        XCTAssertFalse(training.isDeterministic)
        let first = try scalars(training, epoch: 0)
        XCTAssertEqual(first.2, [[2, 4, 3, 16, 16], [1, 4, 3, 16, 16]])
        XCTAssertEqual(first.1.sorted(), [0, 1, 2])
        let again = try scalars(training, epoch: 0)
        XCTAssertEqual(first.0, again.0, "same seed and epoch: the same clips")
        XCTAssertEqual(first.1, again.1)
        XCTAssertNotEqual(first.0, try scalars(training, epoch: 1).0, "another epoch: other clips")

        let test = VideoBatchSource(reader: reader, batchSize: 30, test: true)
        XCTAssertTrue(test.isDeterministic)
        XCTAssertEqual(test.viewsPerSample, 15)
        let views = try scalars(test, epoch: 0)
        XCTAssertEqual(views.2, [[30, 4, 3, 16, 16]], "both videos' 5 × 3 views in one batch of 30 clips")
        XCTAssertEqual(views.1, Array(repeating: 0, count: 15) + Array(repeating: 1, count: 15), "test views keep the list's order")
        XCTAssertEqual(views.0, try scalars(test, epoch: 3).0)
        XCTAssertEqual(Array(views.0.prefix(15 * 4 * 3 * 16 * 16)), try reader.testViews(0).scalars)
        let rowIndices = try XCTUnwrap(try test.batches(epoch: 0).next()?.indices)
        XCTAssertEqual(rowIndices, Array(repeating: 0, count: 15) + Array(repeating: 1, count: 15), "rows name their video")
        XCTAssertEqual(try scalars(VideoBatchSource(reader: reader, batchSize: 4, test: true), epoch: 0).2,
                       [[15, 4, 3, 16, 16], [15, 4, 3, 16, 16]], "a batch smaller than the views still holds one whole video")
    }

    func testALoRAStepOnVideoMAE() throws {
        let reader = VideoClipReader(splits: try splits(), size: 16, flips: true, seed: 1)
        let batch = try XCTUnwrap(try VideoBatchSource(reader: reader, batchSize: 3).batches(epoch: 0).next())
        let videoMAE = try VideoMAE.load(model: Self.tests.appendingPathComponent("ModelsTests/Fixtures/videomae/hf").path, numClasses: 3)
        let model = try PEFTModel(backbone: videoMAE, method: try MethodRegistry.method(named: "lora", options: [:]), classes: 3, seed: 2)
        let optimizer = AdamW([ParameterGroup(model.trainableTensors.map(\.tensor), weightDecay: 0.05)], learningRate: 1e-2)
        var losses: [Float] = []
        for _ in 0..<3 {
            let loss = crossEntropy(model(batch.images), targets: batch.labels)
            losses.append(loss.scalars[0])
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
        }
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses[2], losses[0], "three steps on one batch lower its loss: \(losses)")
    }

    /// RandAugment is drawn once per clip: four identical frames stay identical after it, and
    /// some clip differs from its unaugmented twin; random erasing differs frame by frame.
    func testRandAugmentActsAlikeOnEveryFrame() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-video-frames-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("clip")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 3)
        let frame = RGB8Image(width: 24, height: 20, pixels: (0..<(24 * 20 * 3)).map { _ in UInt8(rng.nextInt(256)) })
        for i in 1...4 { try PNGEncoder.encode(frame).write(to: folder.appendingPathComponent(String(format: "img_%05d.jpg", i))) }
        let sample = LabeledSample(path: "clip", label: 0)
        let splits = VideoDatasetSplits(root: root, classNames: ["a"], train: [sample], test: [sample],
                                        sampling: .dense(frames: 4, stride: 1), testViews: .kineticsStyle)
        let augmented = VideoClipReader(splits: splits, size: 16, flips: false, seed: 5, randAugment: VideoClipReader.videoMAERandAugment)
        let plain = VideoClipReader(splits: splits, size: 16, flips: false, seed: 5)
        var differs = false
        for epoch in 0..<4 {
            let clip = try augmented.trainingClip(0, epoch: epoch).scalars
            let plane = 3 * 16 * 16
            for t in 1..<4 { XCTAssertEqual(Array(clip[(t * plane)..<((t + 1) * plane)]), Array(clip[0..<plane]), "epoch \(epoch) frame \(t)") }
            let plainClip = try plain.trainingClip(0, epoch: epoch).scalars
            differs = differs || clip != plainClip
        }
        XCTAssertTrue(differs, "RandAugment changed some clip")

        // Erasing, by contrast, picks each frame's rectangle on its own.
        let erased = try VideoClipReader(splits: splits, size: 16, flips: false, seed: 5, erasing: RandomErasing(probability: 1)).trainingClip(0, epoch: 0).scalars
        let plane = 3 * 16 * 16
        XCTAssertEqual(Set((0..<4).map { Array(erased[($0 * plane)..<(($0 + 1) * plane)]) }).count, 4, "four different erasures")
    }
}
