import Foundation
import Tensor

/// A view of stored elements: a shape with a stride per axis and a starting offset, all counted
/// in elements, as PyTorch tensors (arbitrary strides and storage offsets) and Fortran-order numpy
/// arrays describe their data. `gather` copies the view into a contiguous row-major Float tensor.
struct StridedLayout {
    var shape: [Int]
    var strides: [Int]
    var offset = 0

    /// The row-major layout of `shape`, or (Fortran order) its column-major one.
    init(shape: [Int], columnMajor: Bool = false) {
        self.shape = shape
        var strides = [Int](repeating: 0, count: shape.count)
        var step = 1
        for axis in (columnMajor ? Array(shape.indices) : shape.indices.reversed()) {
            strides[axis] = step
            step &*= max(shape[axis], 1)
        }
        self.strides = strides
    }

    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Checks that the view is well formed and that every element it addresses lies inside a
    /// storage of `storageCount` elements, and that it has at most `maxElements` elements (a
    /// stride-0 view may address few stored elements yet expand to many). Returns the element count.
    func validatedCount(storageCount: Int, maxElements: Int, fail: (String) -> TensorFileError) throws -> Int {
        guard shape.count == strides.count else { throw fail("shape \(shape) and strides \(strides) differ in rank") }
        guard shape.allSatisfy({ $0 >= 0 }), offset >= 0 else { throw fail("negative size or offset (shape \(shape), offset \(offset))") }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxElements else { throw fail("shape \(shape) has more elements than the file can hold") }
            count = product
        }
        guard count > 0 else { return 0 }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw fail("negative stride in \(strides)") }
        var last = offset  // the highest element addressed: every index at its maximum
        for (size, stride) in zip(shape, strides) {
            let (step, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflow2) = last.addingReportingOverflow(step)
            guard !overflow1, !overflow2 else { throw fail("strides \(strides) overflow") }
            last = sum
        }
        guard last < storageCount else {
            throw fail("view (shape \(shape), strides \(strides), offset \(offset)) reaches element \(last) of a \(storageCount)-element storage")
        }
        return count
    }

    /// Copies the view into a new contiguous tensor. Call `validatedCount` first.
    func gather(from storage: UnsafeRawPointer, encoding: ElementEncoding) -> Tensor {
        let tensor = Tensor(uninitializedShape: shape)
        guard tensor.count > 0 else { return tensor }
        let size = encoding.byteCount
        guard let innermost = shape.indices.last else {
            encoding.convert(storage + offset * size, byteStride: size, count: 1, into: tensor.data)
            return tensor
        }
        // Walk the outer axes like an odometer and convert one innermost row at a time.
        let rowLength = shape[innermost], rowStride = strides[innermost] * size
        var index = [Int](repeating: 0, count: innermost)
        var start = offset
        for row in 0..<(tensor.count / rowLength) {
            encoding.convert(storage + start * size, byteStride: rowStride, count: rowLength, into: tensor.data + row * rowLength)
            var axis = innermost - 1
            while axis >= 0 {
                index[axis] += 1
                start += strides[axis]
                if index[axis] < shape[axis] { break }
                start -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return tensor
    }
}
