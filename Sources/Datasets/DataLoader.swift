import Foundation
import Tensor

/// Settings of a `DataLoader`.
public struct DataLoaderOptions: Sendable {
    public var batchSize: Int
    public var shuffle: Bool
    /// Drop the last, smaller batch of an epoch.
    public var dropLast: Bool
    public var seed: UInt64
    /// Background threads decoding batches; 0 builds each batch on the caller's thread.
    public var workers: Int
    /// How many batches may be ready or being built ahead of the consumer (the queue bound).
    public var prefetchBatches: Int
    /// Memory for prepared images (0 disables the cache).
    public var cacheBudgetBytes: Int
    public var badSamples: BadSamplePolicy

    public init(batchSize: Int, shuffle: Bool, dropLast: Bool = false, seed: UInt64 = 42, workers: Int = 2,
                prefetchBatches: Int? = nil, cacheBudgetBytes: Int = 1 << 30, badSamples: BadSamplePolicy = .fail) {
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.workers = workers
        self.prefetchBatches = prefetchBatches ?? Swift.max(2, 2 * workers)
        self.cacheBudgetBytes = cacheBudgetBytes
        self.badSamples = badSamples
    }
}

/// Turns a labelled image source into batches: a deterministic order per epoch, per-sample
/// augmentation streams derived from (seed, epoch, sample), prepared images cached in memory,
/// and batches built by worker threads while the model computes on the previous ones.
///
/// Batches are identical across runs, worker counts and cache budgets: every random draw is
/// keyed by sample and epoch, never by thread or timing, and the cache stores exactly what
/// recomputation would produce.
public final class DataLoader: @unchecked Sendable {
    public let source: any LabeledImageSource
    public let pipeline: ImagePipeline
    public let options: DataLoaderOptions
    /// Samples left out under `BadSamplePolicy.skip`.
    public let skipped = SkipReport()
    public let outputSize: (width: Int, height: Int)
    let cache: DecodedImageCache
    private let packer: TensorPacker

    public init(source: any LabeledImageSource, pipeline: ImagePipeline, options: DataLoaderOptions) throws {
        guard options.batchSize > 0, options.workers >= 0, options.prefetchBatches > 0 else {
            throw DatasetError(file: "<loader>", "batch size and prefetch must be positive and workers not negative (got \(options.batchSize), \(options.prefetchBatches), \(options.workers))")
        }
        guard source.count > 0 else { throw DatasetError(file: "<loader>", "the dataset has no samples") }
        guard let size = pipeline.outputSize else {
            throw DatasetError(file: "<loader>", "the pipeline must end with a fixed size (resize to W×H or a crop) to batch images")
        }
        self.source = source
        self.pipeline = pipeline
        self.options = options
        self.outputSize = size
        cache = DecodedImageCache(budgetBytes: options.cacheBudgetBytes)
        packer = TensorPacker(normalization: pipeline.normalization)
    }

    /// The sample indices of each batch of `epoch`.
    public func batchIndices(epoch: Int) -> [[Int]] {
        let order = EpochOrder.permutation(count: source.count, seed: options.seed, epoch: epoch, shuffle: options.shuffle)
        var batches = stride(from: 0, to: order.count, by: options.batchSize).map { Array(order[$0..<Swift.min($0 + options.batchSize, order.count)]) }
        if options.dropLast, let last = batches.last, last.count < options.batchSize { batches.removeLast() }
        return batches
    }

    /// The batches of `epoch`, built in the background; iterate with `next()`.
    public func epoch(_ epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch, batches: batchIndices(epoch: epoch))
    }

    /// The cache key of sample `index`'s input, or nil when the pipeline augments.
    public func featureCacheKey(sample index: Int) -> FeatureCacheKey? {
        guard pipeline.isDeterministic else { return nil }
        return FeatureCacheKey(sample: source.identity(at: index), preprocessing: pipeline.preparationJSON)
    }

    /// Prepared images currently cached, and their bytes.
    public var cacheUsage: (images: Int, bytes: Int) { (cache.count, cache.usedBytes) }

    /// Sample `index` decoded and through the deterministic steps, from the cache if present.
    func preparedImage(_ index: Int) throws -> RGB8Image {
        if let cached = cache.image(index) { return cached }
        let prepared = try pipeline.prepare(try source.loadImage(at: index), source: source.identity(at: index))
        cache.insert(prepared, at: index)
        return prepared
    }

    /// Builds one batch; nil when every sample of it was skipped as bad.
    func makeBatch(_ indices: [Int], epoch: Int, number: Int) throws -> ImageBatch? {
        var images: [RGB8Image] = [], labels: [Int] = [], kept: [Int] = []
        for index in indices {
            let image = try options.badSamples.attempt(skipped) { () throws -> RGB8Image in
                var rng = EpochOrder.augmentationRandom(seed: options.seed, epoch: epoch, index: index)
                let name = source.identity(at: index)
                let output = try pipeline.augment(try preparedImage(index), using: &rng, source: name)
                guard output.width == outputSize.width, output.height == outputSize.height else {
                    throw DatasetError(file: name, "the pipeline produced \(output.width)×\(output.height), expected \(outputSize.width)×\(outputSize.height)")
                }
                return output
            }
            guard let image else { continue }
            images.append(image)
            labels.append(source.label(at: index))
            kept.append(index)
        }
        guard !images.isEmpty else { return nil }
        let (w, h) = outputSize
        let tensor = Tensor(uninitializedShape: [images.count, 3, h, w])
        for (slot, image) in images.enumerated() { packer.write(image, to: tensor.data + slot * 3 * h * w) }
        return ImageBatch(images: tensor, labels: labels, indices: kept, epoch: epoch, number: number)
    }
}

/// The batches of one epoch. Worker threads build batches ahead of the consumer, at most
/// `prefetchBatches` ahead; `next()` hands them out in order. Dropping the value (or an error)
/// stops the workers.
public final class EpochBatches {
    private let work: EpochWork

    init(loader: DataLoader, epoch: Int, batches: [[Int]]) {
        work = EpochWork(loader: loader, epoch: epoch, batches: batches)
        for _ in 0..<Swift.min(loader.options.workers, batches.count) { work.startWorker() }
    }

    deinit { work.stop() }

    public var batchCount: Int { work.batches.count }

    /// The next batch in order, nil at the end of the epoch; rethrows the first error of a
    /// batch (under `BadSamplePolicy.fail`).
    public func next() throws -> ImageBatch? {
        while let result = work.take() {
            switch result {
            case let .success(batch?): return batch
            case .success(nil): continue   // every sample of this batch was skipped
            case let .failure(error):
                work.stop()
                throw error
            }
        }
        return nil
    }
}

/// Shared state of one epoch's workers and consumer, guarded by one condition variable.
private final class EpochWork: @unchecked Sendable {
    let loader: DataLoader
    let epoch: Int
    let batches: [[Int]]
    private let condition = NSCondition()
    private var nextToBuild = 0
    private var nextToHand = 0
    private var ready: [Int: Result<ImageBatch?, Error>] = [:]
    private var stopped = false
    private var runningWorkers = 0

    init(loader: DataLoader, epoch: Int, batches: [[Int]]) {
        self.loader = loader
        self.epoch = epoch
        self.batches = batches
    }

    func startWorker() {
        condition.lock()
        runningWorkers += 1
        condition.unlock()
        let thread = Thread { [self] in runWorker() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func build(_ number: Int) -> Result<ImageBatch?, Error> {
        Result { try loader.makeBatch(batches[number], epoch: epoch, number: number) }
    }

    private func runWorker() {
        condition.lock()
        defer {
            runningWorkers -= 1
            condition.broadcast()
            condition.unlock()
        }
        while !stopped && nextToBuild < batches.count {
            guard nextToBuild < nextToHand + loader.options.prefetchBatches else {
                condition.wait()
                continue
            }
            let number = nextToBuild
            nextToBuild += 1
            condition.unlock()
            let result = build(number)
            condition.lock()
            ready[number] = result
            condition.broadcast()
        }
    }

    /// The next result in order, waiting for workers; built here when there are none.
    func take() -> Result<ImageBatch?, Error>? {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, nextToHand < batches.count else { return nil }
        let number = nextToHand
        if loader.options.workers == 0 {
            nextToHand += 1
            nextToBuild = nextToHand
            condition.unlock()
            let result = build(number)
            condition.lock()
            return result
        }
        while ready[number] == nil && !stopped { condition.wait() }
        guard let result = ready.removeValue(forKey: number) else { return nil }
        nextToHand += 1
        condition.broadcast()
        return result
    }

    /// Stops the workers and waits until none is running (a batch being built is finished).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while runningWorkers > 0 { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }
}
