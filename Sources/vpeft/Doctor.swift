import ArgumentParser
import Foundation
import Tensor

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what this machine and build can do: CPU, vector features, oneDNN and bf16 products, BLAS, threads, compiler.")

    func run() throws {
        let capabilities = Capabilities.current
        print("vpeft doctor")
        print("  compiler         Swift \(compilerVersion) (language mode \(languageMode))")
        print("  compiled for     \(compiledFor)")
        print("  os               \(ProcessInfo.processInfo.operatingSystemVersionString)")
        print("  cpu              \(capabilities.cpuModel)")
        print("  cores            \(ProcessInfo.processInfo.activeProcessorCount)")
        print("  cpu features     \(capabilities.cpuFeatures.isEmpty ? "none of avx2 fma avx512f avx512bw avx512_bf16 amx_bf16" : capabilities.cpuFeatures.joined(separator: " "))")
        print("  onednn           \(capabilities.oneDNNVersion.map { "\($0), instruction set \(capabilities.oneDNNISA ?? "unknown")" } ?? "not available")"
              + (ProcessInfo.processInfo.environment["ONEDNN_MAX_CPU_ISA"].map { " (ONEDNN_MAX_CPU_ISA=\($0))" } ?? ""))
        print("  bf16 products    \(capabilities.bf16Products)")
        print("  large products   \(BLAS.backend == .onednn ? "oneDNN matmul (libdnnl)" : "OpenBLAS")\(ProcessInfo.processInfo.environment["VPEFT_GEMM"].map { " (VPEFT_GEMM=\($0))" } ?? "")")
        print("  blas             OpenBLAS (\(BLAS.configuration.trimmingCharacters(in: .whitespaces)))")
        print("  blas core        \(BLAS.coreName)")
        print("  blas threads     \(BLAS.threadCount)")
        print("  engine threads   \(Parallel.threadCount)")
        let spin = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"]
        print("  omp wait policy  \(spin ?? "unset (active): set OMP_WAIT_POLICY=passive so oneDNN's threads do not spin between products")")
    }

    /// The compiler that built this binary (`#if compiler`: the toolchain; `#if swift` would
    /// give the language mode, 5 in this package).
    private var compilerVersion: String {
        #if compiler(>=6.5)
        "6.5 or later"
        #elseif compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3.2)
        "6.3.2"
        #elseif compiler(>=6.3.1)
        "6.3.1"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #elseif compiler(>=6.0)
        "6.0"
        #else
        "before 6.0"
        #endif
    }

    private var languageMode: String {
        #if swift(>=6)
        "6"
        #else
        "5"
        #endif
    }

    private var compiledFor: String {
        #if VPEFT_NATIVE_BUILD
        "this CPU (-target-cpu native, the Makefile's build)"
        #else
        "the x86-64 baseline (portable build: elementwise kernels without AVX2/AVX-512)"
        #endif
    }
}
