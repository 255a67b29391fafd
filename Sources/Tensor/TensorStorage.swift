import Foundation

/// A 64-byte aligned block of `Float`s, recycled through `BufferPool` when released.
///
/// Storage is the unit of memory: a `Tensor` views one storage (reshape shares it).
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Uninitialised storage of `count` floats (contents are whatever the pool hands back).
    public init(uninitializedCount count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
    }

    /// Storage of `count` zeros.
    public convenience init(zeros count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit { BufferPool.shared.give(pointer, count) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// Recycles freed buffers by exact size, so a training step that allocates the same shapes
/// every iteration reaches the system allocator only in its first step. Tracks live and peak
/// bytes of tensor storage (the "peak memory" reported by benchmarks and runs).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Buffers kept for reuse are dropped beyond this many bytes (oldest sizes first).
    public var cacheLimitBytes = 4 << 30

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private var lock = NSLock()
    public private(set) var liveBytes = 0
    public private(set) var peakBytes = 0
    public private(set) var systemAllocations = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        lock.lock()
        liveBytes += bytes
        peakBytes = max(peakBytes, liveBytes)
        if var list = free[count], let p = list.popLast() {
            free[count] = list.isEmpty ? nil : list
            cachedBytes -= bytes
            lock.unlock()
            return p
        }
        systemAllocations += 1
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        lock.lock()
        liveBytes -= bytes
        if cachedBytes + bytes <= cacheLimitBytes {
            free[count, default: []].append(pointer)
            cachedBytes += bytes
            lock.unlock()
        } else {
            lock.unlock()
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// Starts a new peak measurement from the current live bytes.
    public func resetPeak() {
        lock.lock(); peakBytes = liveBytes; lock.unlock()
    }

    /// Returns every cached buffer to the system.
    public func trim() {
        lock.lock()
        for (_, list) in free { for p in list { UnsafeMutableRawPointer(p).deallocate() } }
        free = [:]
        cachedBytes = 0
        lock.unlock()
    }
}
