/// An n-dimensional array of `Float` in contiguous row-major storage, with reverse-mode
/// autodiff state.
///
/// A tensor either is a *leaf* (created by the user; it collects `.grad` when `requiresGrad`)
/// or was made by a differentiable op while gradients were enabled (`gradNode` non-nil).
public final class Tensor: CustomStringConvertible, @unchecked Sendable {
    public let shape: [Int]
    public let storage: TensorStorage
    /// For leaves: whether backward should accumulate into `grad`. Non-leaves: derived.
    public var requiresGrad: Bool {
        get { leafRequiresGrad || gradNode != nil }
        set {
            precondition(gradNode == nil || newValue, "requiresGrad: cannot freeze a non-leaf tensor; use detached()")
            leafRequiresGrad = newValue
        }
    }
    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    /// Optional name (parameters carry their checkpoint key).
    public var name: String?

    private var leafRequiresGrad = false
    /// The op that produced this tensor, when it is part of a recorded graph.
    public internal(set) var gradNode: GradNode?

    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(Shape.count(shape) == storage.count, "Tensor: shape \(shape) needs \(Shape.count(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// An uninitialised tensor (callers overwrite every element).
    public convenience init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: Shape.count(shape)))
    }

    public convenience init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public convenience init(shape: [Int], _ values: [Float]) {
        precondition(values.count == Shape.count(shape), "Tensor(shape:values:): \(values.count) values for shape \(shape)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public convenience init(_ values: [Float]) { self.init(shape: [values.count], values) }

    public convenience init(scalar: Float) { self.init(shape: [], [scalar]) }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    public static func full(_ shape: [Int], _ value: Float) -> Tensor { Tensor(shape: shape, repeating: value) }
    /// The n×n identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        let t = Tensor.zeros([n, n])
        for i in 0..<n { t.data[i * n + i] = 1 }
        return t
    }

    public static func arange(_ n: Int, start: Float = 0, step: Float = 1) -> Tensor {
        Tensor(shape: [n], (0..<n).map { start + Float($0) * step })
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var isLeaf: Bool { gradNode == nil }

    /// Direct access to the elements (no autodiff; for kernels and I/O).
    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { storage.buffer }
    public var scalars: [Float] { Array(storage.buffer) }
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) is not a single value")
        return storage.pointer[0]
    }

    /// The same values, cut from the graph (a new leaf sharing storage).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A deep copy (new storage), cut from the graph.
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Marks a leaf as trainable and returns it (builder style).
    @discardableResult public func trainable(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape)\(count > 8 ? ", [\(preview), …]" : ", [\(preview)]"))"
    }
}

import Foundation
