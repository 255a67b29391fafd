import Foundation

/// A 64-byte aligned block of `Float`s, recycled through `BufferPool` when released.
///
/// Storage is the unit of memory: a `Tensor` views one storage (reshape shares it).
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    /// Floats the block really holds (≥ `count` when the pool handed back a slightly larger one).
    let capacity: Int

    /// Uninitialised storage of `count` floats (contents are whatever the pool hands back).
    public init(uninitializedCount count: Int) {
        self.count = count
        (pointer, capacity) = BufferPool.shared.take(count)
    }

    /// Storage of `count` zeros.
    public convenience init(zeros count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit { BufferPool.shared.give(pointer, capacity: capacity) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// Recycles freed buffers, so a training step that allocates the same shapes every iteration
/// reaches the system allocator only in its first step. A large request takes the smallest
/// cached buffer that fits within `bestFitSlack` of its size — a [B, heads, N, N] scratch
/// buffer serves a [B, N, 3·D] activation of nearly the same size — so fewer idle buffers of
/// other sizes sit in the cache at the step's peak (they were ~300 MB of a ViT-B/16 LoRA step's
/// peak RSS at batch 32; 25 % slack took 40–60 MB of that, 12.5 % nothing measurable, 50 % and
/// more made other steps worse). Tracks live and peak bytes (the "peak memory" of benchmarks
/// and runs).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Cached buffers beyond this many bytes are returned to the system.
    public var cacheLimitBytes = 4 << 30
    /// Requests of at least this many floats may take a larger cached buffer…
    static let bestFitMinimum = 1 << 18
    /// …at most this fraction larger than the request.
    static let bestFitSlack = 0.25

    /// Cached buffers by capacity (floats).
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private var lock = NSLock()
    public private(set) var liveBytes = 0
    public private(set) var peakBytes = 0
    public private(set) var systemAllocations = 0

    /// A buffer of at least `count` floats and its capacity.
    func take(_ count: Int) -> (UnsafeMutablePointer<Float>, capacity: Int) {
        let count = max(count, 1)
        lock.lock()
        defer { lock.unlock() }
        let capacity = cachedCapacity(fitting: count) ?? count
        let bytes = capacity * MemoryLayout<Float>.stride
        liveBytes += bytes
        peakBytes = max(peakBytes, liveBytes)
        if var list = free[capacity], let p = list.popLast() {
            free[capacity] = list.isEmpty ? nil : list
            cachedBytes -= bytes
            return (p, capacity)
        }
        systemAllocations += 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
    }

    /// The capacity of the cached buffer to hand out for `count` floats: an exact match, else
    /// (for large requests) the smallest one within the slack; nil when none fits.
    private func cachedCapacity(fitting count: Int) -> Int? {
        if free[count] != nil { return count }
        guard count >= Self.bestFitMinimum else { return nil }
        let limit = count + Int(Double(count) * Self.bestFitSlack)
        return free.keys.filter { $0 > count && $0 <= limit }.min()
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = capacity * MemoryLayout<Float>.stride
        lock.lock()
        liveBytes -= bytes
        if cachedBytes + bytes <= cacheLimitBytes {
            free[capacity, default: []].append(pointer)
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
