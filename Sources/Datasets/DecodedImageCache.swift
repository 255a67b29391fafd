import Foundation

/// Prepared (decoded, resized, not yet augmented) images kept in memory while they fit in a
/// byte budget, so epochs after the first skip file reading, decoding and resizing — a VTAB-1k
/// training split is 1,000 images, ~150 MB at 224×224. Nothing is evicted: once the budget is
/// reached, further images are simply recomputed each time (which gives identical pixels, so
/// the cache never changes results).
final class DecodedImageCache: @unchecked Sendable {
    let budgetBytes: Int
    private let lock = NSLock()
    private var images: [Int: RGB8Image] = [:]
    private(set) var usedBytes = 0

    init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    func image(_ index: Int) -> RGB8Image? {
        lock.lock(); defer { lock.unlock() }
        return images[index]
    }

    func insert(_ image: RGB8Image, at index: Int) {
        lock.lock(); defer { lock.unlock() }
        guard images[index] == nil, usedBytes + image.byteCount <= budgetBytes else { return }
        images[index] = image
        usedBytes += image.byteCount
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return images.count
    }
}
