import ArgumentParser
import Foundation
import Tensor

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the BLAS library, threads, CPU features and versions this build uses.")

    func run() throws {
        print("vpeft doctor")
        print("  swift            \(swiftVersion)")
        print("  os               \(ProcessInfo.processInfo.operatingSystemVersionString)")
        print("  cpu              \(CPUInfo.modelName)")
        print("  cores            \(ProcessInfo.processInfo.activeProcessorCount)")
        print("  cpu features     \(CPUInfo.features.joined(separator: " "))")
        print("  engine threads   \(Parallel.threadCount)")
        print("  blas             OpenBLAS (\(BLAS.configuration.trimmingCharacters(in: .whitespaces)))")
        print("  blas core        \(BLAS.coreName)")
        print("  blas threads     \(BLAS.threadCount)")
        print("  large products   \(BLAS.backend == .onednn ? "oneDNN matmul (libdnnl)" : "OpenBLAS")\(ProcessInfo.processInfo.environment["VPEFT_GEMM"].map { " (VPEFT_GEMM=\($0))" } ?? "")")
        let spin = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"]
        print("  omp wait policy  \(spin ?? "unset (active): set OMP_WAIT_POLICY=passive so oneDNN's threads do not spin between products")")
    }

    private var swiftVersion: String {
        #if swift(>=6.3)
        "6.3+"
        #elseif swift(>=6.0)
        "6.x"
        #else
        "5.x"
        #endif
    }
}

/// CPU facts read from /proc/cpuinfo (Linux); empty elsewhere.
enum CPUInfo {
    private static let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""

    static var modelName: String {
        text.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    /// The vector features that matter for the kernels.
    static var features: [String] {
        let flags = Set((text.split(separator: "\n").first { $0.hasPrefix("flags") } ?? "").split(separator: " ").map(String.init))
        return ["avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "amx_bf16"].filter(flags.contains)
    }
}
