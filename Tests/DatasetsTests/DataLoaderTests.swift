import Datasets
import Foundation
import Tensor
import XCTest

/// The loader's promises: identical batches across runs, worker counts and cache budgets;
/// epoch e depends only on (seed, e); drop-last; bounded prefetch; feature-cache keys.
final class DataLoaderTests: XCTestCase {
    private var train: ImageFileList!

    override func setUpWithError() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "dtd", classes: 47, perSplit: [.train800: 47, .val200: 3, .test: 0])
        train = try VTAB1kDataset(folder: folder).split(.train800val200)
    }

    /// The VTAB training pipeline (flip + RandAugment) at a small size.
    private func augmented() throws -> ImagePipeline {
        try .vtab1k(augment: true, interpolation: .bicubic, size: 16)
    }

    private func epoch(_ loader: DataLoader, _ e: Int) throws -> [ImageBatch] {
        let batches = loader.epoch(e)
        var all: [ImageBatch] = []
        while let b = try batches.next() { all.append(b) }
        return all
    }

    private func fingerprint(_ batches: [ImageBatch]) -> [[Float]] {
        batches.map { $0.images.scalars + $0.labels.map(Float.init) + $0.indices.map(Float.init) }
    }

    func testBatchesAreIdenticalAcrossRunsWorkersAndCache() throws {
        let pipeline = try augmented()
        var reference: [[[Float]]]?
        for (workers, cache) in [(0, 0), (1, 1 << 30), (2, 0), (3, 1 << 30), (2, 5_000)] {
            let loader = try DataLoader(source: train, pipeline: pipeline,
                                        options: DataLoaderOptions(batchSize: 8, shuffle: true, seed: 7, workers: workers, cacheBudgetBytes: cache))
            let run = try (0..<2).map { try fingerprint(epoch(loader, $0)) }
            if let reference { XCTAssertEqual(run, reference, "workers \(workers), cache \(cache)") } else { reference = run }
        }
    }

    func testEpochDependsOnlyOnSeedAndEpoch() throws {
        let pipeline = try augmented()
        let options = DataLoaderOptions(batchSize: 8, shuffle: true, seed: 7, workers: 2)
        let continuous = try DataLoader(source: train, pipeline: pipeline, options: options)
        _ = try epoch(continuous, 0)
        _ = try epoch(continuous, 1)
        let third = try fingerprint(epoch(continuous, 2))
        let resumed = try DataLoader(source: train, pipeline: pipeline, options: options)
        XCTAssertEqual(try fingerprint(epoch(resumed, 2)), third)
        XCTAssertNotEqual(try fingerprint(epoch(resumed, 3)), third)
        XCTAssertNotEqual(continuous.batchIndices(epoch: 0), continuous.batchIndices(epoch: 1))
        let other = try DataLoader(source: train, pipeline: pipeline, options: DataLoaderOptions(batchSize: 8, shuffle: true, seed: 8, workers: 2))
        XCTAssertNotEqual(other.batchIndices(epoch: 2), continuous.batchIndices(epoch: 2))
    }

    func testBatchShapesLabelsAndDropLast() throws {
        let pipeline = try ImagePipeline.vtab1k(augment: false, interpolation: .bilinear, size: 16)
        let keep = try DataLoader(source: train, pipeline: pipeline, options: DataLoaderOptions(batchSize: 16, shuffle: false, workers: 2))
        let batches = try epoch(keep, 0)
        XCTAssertEqual(batches.map(\.count), [16, 16, 16, 2])
        XCTAssertEqual(batches[0].images.shape, [16, 3, 16, 16])
        XCTAssertEqual(batches.flatMap(\.indices), Array(0..<50))
        XCTAssertEqual(batches.flatMap(\.labels), (0..<50).map { train.label(at: $0) })
        XCTAssertEqual(batches.map(\.number), [0, 1, 2, 3])
        // Unaugmented: each slot is exactly the packed, resized image.
        let expected = TensorPacker(normalization: .imagenet).tensor(try train.loadImage(at: 5).resized(width: 16, height: 16, interpolation: .bilinear))
        XCTAssertEqual(Array(batches[0].images.scalars[(5 * 768)..<(6 * 768)]), expected.scalars)
        let drop = try DataLoader(source: train, pipeline: pipeline, options: DataLoaderOptions(batchSize: 16, shuffle: true, dropLast: true, workers: 1))
        XCTAssertEqual(try epoch(drop, 0).map(\.count), [16, 16, 16])
    }

    func testCacheHoldsPreparedImagesWithinItsBudget() throws {
        let pipeline = try augmented()   // prepared = 16×16×3 = 768 bytes
        let loader = try DataLoader(source: train, pipeline: pipeline,
                                    options: DataLoaderOptions(batchSize: 10, shuffle: true, workers: 2, cacheBudgetBytes: 768 * 20))
        _ = try epoch(loader, 0)
        XCTAssertEqual(loader.cacheUsage.images, 20)
        XCTAssertEqual(loader.cacheUsage.bytes, 768 * 20)
    }

    /// A consumer that stops early (or drops the epoch) must not leave workers running.
    func testAbandonedEpochStopsItsWorkers() throws {
        let loader = try DataLoader(source: train, pipeline: try augmented(), options: DataLoaderOptions(batchSize: 4, shuffle: true, workers: 3, prefetchBatches: 2))
        for _ in 0..<5 {
            let batches = loader.epoch(0)
            XCTAssertNotNil(try batches.next())
        }
    }

    /// Workers stay at most `prefetchBatches` batches ahead of a slow consumer.
    func testPrefetchIsBounded() throws {
        let source = CountingSource(count: 200)
        let loader = try DataLoader(source: source, pipeline: try .vtab1k(augment: false, interpolation: .bilinear, size: 4),
                                    options: DataLoaderOptions(batchSize: 5, shuffle: true, workers: 3, prefetchBatches: 3))
        let batches = loader.epoch(0)
        XCTAssertNotNil(try batches.next())
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertLessThanOrEqual(source.loads, 5 * (1 + 3))
        XCTAssertGreaterThanOrEqual(source.loads, 5 * 2, "workers should have built ahead")
    }

    func testFeatureCacheKeysNameFileAndPreprocessing() throws {
        let bilinear = try DataLoader(source: train, pipeline: try .vtab1k(augment: false, interpolation: .bilinear, size: 16),
                                      options: DataLoaderOptions(batchSize: 4, shuffle: false))
        let bicubic = try DataLoader(source: train, pipeline: try .vtab1k(augment: false, interpolation: .bicubic, size: 16),
                                     options: DataLoaderOptions(batchSize: 4, shuffle: false))
        let key = try XCTUnwrap(bilinear.featureCacheKey(sample: 3))
        XCTAssertTrue(key.sample.hasSuffix("/dtd/images/train800/000003.png"), key.sample)
        XCTAssertTrue(key.preprocessing.contains("bilinear") && key.preprocessing.contains("imagenet"), key.preprocessing)
        XCTAssertEqual(key, bilinear.featureCacheKey(sample: 3))
        XCTAssertNotEqual(key.digest, bicubic.featureCacheKey(sample: 3)?.digest)
        XCTAssertEqual(key.digest.count, 64)
        let augmentedLoader = try DataLoader(source: train, pipeline: try augmented(), options: DataLoaderOptions(batchSize: 4, shuffle: false))
        XCTAssertNil(augmentedLoader.featureCacheKey(sample: 3))
    }

    /// The pipeline description round-trips through JSON and records the normalisation.
    func testPipelineDescriptionIsCodable() throws {
        let pipeline = try ImagePipeline.vtab1k(augment: true, interpolation: .bicubic, normalization: .inception)
        let decoded = try JSONDecoder().decode(ImagePipeline.self, from: Data(pipeline.canonicalJSON.utf8))
        XCTAssertEqual(decoded, pipeline)
        XCTAssertTrue(pipeline.canonicalJSON.contains("\"name\":\"inception\""), pipeline.canonicalJSON)
        XCTAssertTrue(pipeline.canonicalJSON.contains("rand-m9-mstd0.5-inc1"))
        XCTAssertEqual(pipeline.preparationCount, 1)
        let fgvc = try ImagePipeline.fgvc(train: false)
        XCTAssertTrue(fgvc.isDeterministic)
        XCTAssertTrue(fgvc.outputSize! == (224, 224))
        XCTAssertThrowsError(try ImagePipeline(transforms: [.horizontalFlip(probability: 2)], normalization: .none))
        XCTAssertThrowsError(try PixelNormalization.custom(mean: [0.5], std: [1, 1, 1]))
        XCTAssertEqual(try PixelNormalization.custom(mean: [0.1, 0.2, 0.3], std: [1, 2, 3]).name, "custom")
    }

    func testIDXSourceLoads() throws {
        let idx = try IDXDataset(images: DataFixtures.url("idx/images-idx3-ubyte.gz"), labels: DataFixtures.url("idx/labels-idx1-ubyte.gz"))
        let loader = try DataLoader(source: idx, pipeline: try .vtab1k(augment: false, interpolation: .bicubic, size: 8),
                                    options: DataLoaderOptions(batchSize: 5, shuffle: true, workers: 2))
        XCTAssertEqual(try epoch(loader, 0).map(\.count), [5, 5, 2])
        XCTAssertEqual(loader.featureCacheKey(sample: 4)?.sample, "images-idx3-ubyte.gz#4")
    }
}

/// A synthetic source that counts how many images were loaded.
private final class CountingSource: LabeledImageSource, @unchecked Sendable {
    let count: Int
    let classCount = 2
    let classNames: [String]? = nil
    private let lock = NSLock()
    private var loaded = 0

    init(count: Int) { self.count = count }

    var loads: Int {
        lock.lock(); defer { lock.unlock() }
        return loaded
    }

    func label(at index: Int) -> Int { index % 2 }
    func identity(at index: Int) -> String { "synthetic#\(index)" }

    func loadImage(at index: Int) throws -> RGB8Image {
        lock.lock(); loaded += 1; lock.unlock()
        return TinyDatasets.image(label: index % 2, index: index)
    }
}
