import CDNNL
import Foundation

/// oneDNN's matmul primitive as a gemm backend (Debian's libdnnl, JIT-compiled for the CPU it
/// runs on). On this project's Zen 4 machine it reaches ~450 GFLOP/s in fp32 on the ViT-B shapes
/// where OpenBLAS with the workplace's forced Haswell kernel gives ~240 (measured with a C
/// driver at M 6304, N 2304, K 768 and M 6304, N 768, K 3072). A primitive is built once per
/// shape, layout, alpha and beta and cached; operands are wrapped in place (strides express
/// the leading dimensions and transposes, nothing is copied).
enum OneDNN {
    /// oneDNN's argument indices (`DNNL_ARG_SRC`, `DNNL_ARG_DST`, `DNNL_ARG_WEIGHTS`: C macros
    /// that alias other macros, which Swift does not import).
    private static let argSource: Int32 = 1, argDestination: Int32 = 17, argWeights: Int32 = 33

    private struct Key: Hashable {
        let m, n, k, lda, ldb, ldc: Int
        let transA, transB: Bool
        let alpha, beta: UInt32
        let bf16: Bool
        /// A grid of products (two batch axes; (1, 1) for one product) and each operand's
        /// strides along those axes.
        var batch = [1, 1], aBatchStrides = [0, 0], bBatchStrides = [0, 0], cBatchStrides = [0, 0]
    }

    private final class Primitive {
        let primitive: dnnl_primitive_t
        let descriptors: [dnnl_memory_desc_t]   // source, weights, destination
        init(primitive: dnnl_primitive_t, descriptors: [dnnl_memory_desc_t]) { (self.primitive, self.descriptors) = (primitive, descriptors) }
    }

    private struct Runtime {
        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
    }

    /// The CPU engine and its stream; nil when oneDNN cannot start (the caller falls back).
    nonisolated(unsafe) private static let runtime: Runtime? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else { return nil }
        return Runtime(engine: engine, stream: stream)
    }()
    nonisolated(unsafe) private static var primitives: [Key: Primitive] = [:]
    private static let lock = NSLock()

    static var isAvailable: Bool { runtime != nil }

    /// "major.minor.patch" of the loaded libdnnl.
    static var version: String? {
        guard let v = dnnl_version()?.pointee else { return nil }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN's JIT generates code for (the CPU's best, or less where
    /// `ONEDNN_MAX_CPU_ISA` caps it), by oneDNN's own name.
    static var effectiveISA: String? {
        guard isAvailable else { return nil }
        let isa = dnnl_get_effective_cpu_isa()
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_sse41, "sse41"), (dnnl_cpu_isa_avx, "avx"), (dnnl_cpu_isa_avx2, "avx2"), (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"),
            (dnnl_cpu_isa_avx512_mic, "avx512_mic"), (dnnl_cpu_isa_avx512_mic_4ops, "avx512_mic_4ops"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"),
        ]
        return names.first { $0.0 == isa }?.1 ?? "isa 0x\(String(isa.rawValue, radix: 16))"
    }

    /// Whether oneDNN's instruction set `isa` has bfloat16 dot products.
    static func isaHasBF16(_ isa: String) -> Bool { ["avx512_core_bf16", "avx512_core_amx"].contains(isa) }

    /// The implementation oneDNN picks for a bf16 matmul (e.g. "brg:avx512_core_bf16"); nil when
    /// it has none for this CPU. A name starting with "ref" is its slow reference code.
    static var bf16MatmulImplementation: String? {
        guard let runtime else { return nil }
        var dims: [Int64] = [64, 64]
        var source = dnnl_memory_desc_t(), weights = dnnl_memory_desc_t(), destination = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&source, 2, &dims, dnnl_bf16, dnnl_ab) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&weights, 2, &dims, dnnl_bf16, dnnl_ab) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&destination, 2, &dims, dnnl_f32, dnnl_ab) == dnnl_success else { return nil }
        var matmul = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&matmul, &source, &weights, nil, &destination) == dnnl_success else { return nil }
        var descriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&descriptor, &matmul, nil, runtime.engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return nil }
        return String(cString: name)
    }

    static func setThreadCount(_ n: Int) { omp_set_num_threads(Int32(n)) }

    /// `C = alpha·op(A)·op(B) + beta·C` (row-major); false when oneDNN is unavailable or
    /// refuses the case (the caller then uses BLAS). With `bf16`, A and B are rounded to
    /// bfloat16 (nearest even) for the product, which accumulates and writes fp32; `roundedA` /
    /// `roundedB`, when given, are those roundings already made (same layout as `a` / `b`).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bf16: Bool = false,
                     roundedA: UnsafePointer<UInt16>? = nil, roundedB: UnsafePointer<UInt16>? = nil,
                     batch: [Int] = [1, 1], aBatchStrides: [Int] = [0, 0], bBatchStrides: [Int] = [0, 0], cBatchStrides: [Int] = [0, 0]) -> Bool {
        guard let runtime else { return false }
        var key = Key(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, transA: transA, transB: transB, alpha: alpha.bitPattern, beta: beta.bitPattern, bf16: bf16)
        (key.batch, key.aBatchStrides, key.bBatchStrides, key.cBatchStrides) = (batch, aBatchStrides, bBatchStrides, cBatchStrides)
        lock.lock()
        let cached = primitives[key] ?? makePrimitive(key, runtime)
        if let cached { primitives[key] = cached }
        lock.unlock()
        guard let primitive = cached else { return false }
        var memories: [dnnl_memory_t?] = [nil, nil, nil]
        defer { for memory in memories where memory != nil { dnnl_memory_destroy(memory) } }
        var pointers = [UnsafeMutableRawPointer(mutating: a), UnsafeMutableRawPointer(mutating: b), UnsafeMutableRawPointer(c)]
        var converted: [BFloat16.Buffer] = []
        defer { withExtendedLifetime(converted) {} }   // the rounded operands outlive the product
        if bf16 {
            // Operands in their own layout (rows × leading dimension), rounded to bfloat16.
            func rounded(_ given: UnsafePointer<UInt16>?, _ source: UnsafePointer<Float>, _ count: @autoclosure () -> Int) -> UnsafeMutableRawPointer {
                if let given { return UnsafeMutableRawPointer(mutating: given) }
                converted.append(BFloat16.rounded(source, count: count()))
                return UnsafeMutableRawPointer(converted.last!.pointer)
            }
            pointers[0] = rounded(roundedA, a, BFloat16.span(rows: transA ? k : m, ld: lda, columns: transA ? m : k, batch: batch, strides: aBatchStrides))
            pointers[1] = rounded(roundedB, b, BFloat16.span(rows: transB ? n : k, ld: ldb, columns: transB ? k : n, batch: batch, strides: bBatchStrides))
        }
        for i in 0..<3 {
            var descriptor = primitive.descriptors[i]
            guard dnnl_memory_create(&memories[i], &descriptor, runtime.engine, pointers[i]) == dnnl_success else { return false }
        }
        let args = [dnnl_exec_arg_t(arg: argSource, memory: memories[0]), dnnl_exec_arg_t(arg: argWeights, memory: memories[1]),
                    dnnl_exec_arg_t(arg: argDestination, memory: memories[2])]
        guard dnnl_primitive_execute(primitive.primitive, runtime.stream, 3, args) == dnnl_success else { return false }
        return dnnl_stream_wait(runtime.stream) == dnnl_success
    }

    private static func makePrimitive(_ key: Key, _ runtime: Runtime) -> Primitive? {
        let batched = key.batch != [1, 1]
        func descriptor(_ rows: Int, _ columns: Int, rowStride: Int, columnStride: Int, batchStrides: [Int], type: dnnl_data_type_t) -> dnnl_memory_desc_t? {
            var md = dnnl_memory_desc_t()
            let dims = ((batched ? key.batch : []) + [rows, columns]).map { Int64($0) }
            let strides = ((batched ? batchStrides : []) + [rowStride, columnStride]).map { Int64($0) }
            return dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), dims, type, strides) == dnnl_success ? md : nil
        }
        // op(A) [m×k], op(B) [k×n], C [m×n] (each behind the batch axes); a transposed operand
        // swaps its strides.
        let operand = key.bf16 ? dnnl_bf16 : dnnl_f32
        guard var source = descriptor(key.m, key.k, rowStride: key.transA ? 1 : key.lda, columnStride: key.transA ? key.lda : 1,
                                      batchStrides: key.aBatchStrides, type: operand),
              var weights = descriptor(key.k, key.n, rowStride: key.transB ? 1 : key.ldb, columnStride: key.transB ? key.ldb : 1,
                                       batchStrides: key.bBatchStrides, type: operand),
              var destination = descriptor(key.m, key.n, rowStride: key.ldc, columnStride: 1, batchStrides: key.cBatchStrides, type: dnnl_f32)
        else { return nil }
        var matmul = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&matmul, &source, &weights, nil, &destination) == dnnl_success else { return nil }
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        var alpha = Float(bitPattern: key.alpha)
        if alpha != 1, dnnl_primitive_attr_set_output_scales(attributes, 1, 0, &alpha) != dnnl_success { return nil }
        let beta = Float(bitPattern: key.beta)
        if beta != 0 {
            var postOps: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOps) == dnnl_success else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_sum(postOps, beta) == dnnl_success, dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success else { return nil }
        }
        var descriptorHandle: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&descriptorHandle, &matmul, attributes, runtime.engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(descriptorHandle) }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, descriptorHandle) == dnnl_success, let primitive else { return nil }
        return Primitive(primitive: primitive, descriptors: [source, weights, destination])
    }
}

/// bfloat16: the upper half of an IEEE float, rounded to nearest even (NaNs stay NaN).
enum BFloat16 {
    /// Branch-free, so the conversion loop vectorises.
    @inline(__always) static func round(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let nearestEven = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
        let quietNaN = (bits >> 16) | 0x40
        return UInt16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? quietNaN : nearestEven)
    }

    /// `count` bfloat16 values widened to fp32 (exact).
    static func expand(_ source: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        Parallel.chunks(count, grain: 1 << 16) { range in
            for i in range { out[i] = Float(bitPattern: UInt32(source[i]) << 16) }
        }
    }

    /// bfloat16 values in pooled tensor memory (a fresh system allocation per product would
    /// page-fault its whole size every step).
    final class Buffer {
        private let storage: TensorStorage
        let pointer: UnsafeMutablePointer<UInt16>
        init(count: Int) {
            storage = TensorStorage(uninitializedCount: (count + 1) / 2)
            pointer = UnsafeMutableRawPointer(storage.pointer).bindMemory(to: UInt16.self, capacity: count)
        }
    }

    /// The elements an operand of `rows` rows `ld` apart occupies, from its first element to its
    /// last (padding included); for a grid of products, from the first product's first to the
    /// last product's last.
    static func span(rows: Int, ld: Int, columns: Int, batch: [Int] = [1, 1], strides: [Int] = [0, 0]) -> Int {
        (batch[0] - 1) * strides[0] + (batch[1] - 1) * strides[1] + (rows - 1) * ld + columns
    }

    /// An operand rounded to bfloat16 and widened back to fp32 (what a bfloat16 product sees),
    /// for the emulated route: from `given` (its bfloat16 rounding, already made) or from `source`.
    static func roundedFloats(_ source: UnsafePointer<Float>, given: UnsafePointer<UInt16>?, count: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [count]), p = out.data
        if let given {
            expand(given, count: count, into: p)
        } else {
            Parallel.chunks(count, grain: 1 << 16) { range in
                for i in range { p[i] = Float(bitPattern: UInt32(round(source[i])) << 16) }
            }
        }
        return out
    }

    /// The `count` values from `source` on (an operand's whole span, padding included: every
    /// value in it lies inside the operand's storage), rounded into a buffer of the same layout.
    static func rounded(_ source: UnsafePointer<Float>, count: Int) -> Buffer {
        let out = Buffer(count: count), p = out.pointer
        Parallel.chunks(count, grain: 1 << 16) { range in
            for i in range { p[i] = round(source[i]) }
        }
        return out
    }
}

