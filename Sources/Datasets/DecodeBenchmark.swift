import Foundation
import Tensor

/// Throughput of the input pipeline on real files held in memory (so disk speed is left
/// out): decode only, decode + the deterministic steps (resize), and the whole pipeline
/// (augmentation included, if any) normalised into a tensor, on a given number of threads; and
/// the `DataLoader` end to end. Used by `vpeft data bench`.
public enum DecodeBenchmark {
    public enum Stage: String, CaseIterable, Sendable {
        case decode = "decode"
        case decodeResize = "decode+resize"
        /// Everything: resize, the random steps if the pipeline has any, normalisation.
        case decodeResizeNormalize = "decode+resize+normalise"
    }

    public struct Measurement: Sendable {
        public let stage: String
        public let threads: Int
        public let images: Int
        public let seconds: Double
        public var imagesPerSecond: Double { Double(images) / seconds }
    }

    /// Runs `stage` over `files` (encoded images) on `threads` threads, repeating the set until
    /// at least `minimumSeconds` have passed.
    public static func measure(_ stage: Stage, files: [Data], pipeline: ImagePipeline, threads: Int,
                               minimumSeconds: Double) throws -> Measurement {
        let packer = TensorPacker(normalization: pipeline.normalization)
        let firstError = NSLock()
        var failure: Error?
        func work(_ data: Data, _ index: Int) {
            do {
                let name = "image \(index)"
                let image = try ImageDecoder.decode(data, source: name)
                guard stage != .decode else { return }
                let prepared = try pipeline.prepare(image, source: name)
                guard stage == .decodeResizeNormalize else { return }
                var rng = EpochOrder.augmentationRandom(seed: 0, epoch: 0, index: index)
                _ = packer.tensor(try pipeline.augment(prepared, using: &rng, source: name))
            } catch {
                firstError.lock(); if failure == nil { failure = error }; firstError.unlock()
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var processed = 0
        repeat {
            let workers = Swift.max(1, threads)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for i in stride(from: worker, to: files.count, by: workers) { work(files[i], i) }
            }
            processed += files.count
        } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minimumSeconds
        if let failure { throw failure }
        return Measurement(stage: stage.rawValue, threads: threads, images: processed,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// One epoch of a `DataLoader` (no cache) over `source` with `workers` threads.
    public static func measureLoader(source: any LabeledImageSource, pipeline: ImagePipeline, workers: Int,
                                     batchSize: Int) throws -> Measurement {
        let loader = try DataLoader(source: source, pipeline: pipeline,
                                    options: DataLoaderOptions(batchSize: batchSize, shuffle: true, workers: workers, cacheBudgetBytes: 0))
        let start = DispatchTime.now().uptimeNanoseconds
        let batches = loader.epoch(0)
        var images = 0
        while let batch = try batches.next() { images += batch.count }
        return Measurement(stage: "loader (batch \(batchSize))", threads: workers, images: images,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
