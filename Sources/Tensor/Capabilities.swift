import Foundation

/// What this CPU and the libraries linked into this build can do, detected once per process.
/// Machines differ (a Zen 4 has AVX-512 with bfloat16 instructions, a Zen 3 stops at AVX2), so
/// the engine asks here instead of assuming, and `vpeft doctor` prints it.
public struct Capabilities: Sendable {
    public let cpuModel: String
    /// The vector features the kernels care about, as /proc/cpuinfo names them.
    public let cpuFeatures: [String]
    /// oneDNN's version ("2.6.3"), nil when libdnnl could not start.
    public let oneDNNVersion: String?
    /// The instruction set oneDNN's JIT uses here (e.g. "avx512_core_bf16"); `ONEDNN_MAX_CPU_ISA`
    /// caps it, which shows on a capable CPU what an older one gets.
    public let oneDNNISA: String?
    /// How `--precision bf16` products run on this machine.
    public let bf16Products: BF16Products

    /// Native: oneDNN multiplies bfloat16 operands with the CPU's bfloat16 instructions (faster
    /// than fp32). Emulated: no such instructions (or no oneDNN), so the engine rounds the
    /// operands to bfloat16 itself and multiplies them in fp32 — every product of two bfloat16
    /// values is exact in fp32, so the numerics are those of the native route (up to the order
    /// of the fp32 sums), with no speed-up.
    public enum BF16Products: Sendable, Equatable, CustomStringConvertible {
        case native(implementation: String)
        case emulated(reason: String)

        public var isNative: Bool { if case .native = self { return true } else { return false } }
        /// Why products are emulated ("" when native).
        public var reason: String { if case .emulated(let reason) = self { return reason } else { return "" } }
        public var description: String {
            switch self {
            case .native(let implementation): "native (oneDNN \(implementation))"
            case .emulated(let reason): "emulated: \(reason)"
            }
        }
    }

    public static let current = detect()

    private static func detect() -> Capabilities {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = cpuinfo.split(separator: "\n")
        func field(_ name: String) -> String? {
            lines.first { $0.hasPrefix(name) }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let features = ["avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "amx_bf16"].filter(flags.contains)
        let hasBF16Instructions = flags.contains("avx512_bf16") || flags.contains("amx_bf16")
        let isa = OneDNN.effectiveISA
        let products: BF16Products
        if !OneDNN.isAvailable {
            products = .emulated(reason: "oneDNN (libdnnl) did not start")
        } else if !hasBF16Instructions {
            products = .emulated(reason: "this CPU has no bfloat16 instructions (avx512_bf16 / amx_bf16)")
        } else if let isa, !OneDNN.isaHasBF16(isa) {
            products = .emulated(reason: "oneDNN's instruction set is capped at \(isa) (ONEDNN_MAX_CPU_ISA)")
        } else if let implementation = OneDNN.bf16MatmulImplementation, !implementation.hasPrefix("ref") {
            products = .native(implementation: implementation)
        } else {
            products = .emulated(reason: "oneDNN \(OneDNN.version ?? "") has no optimised bf16 matmul for \(isa ?? "this CPU")")
        }
        return Capabilities(cpuModel: field("model name") ?? "unknown", cpuFeatures: features,
                            oneDNNVersion: OneDNN.version, oneDNNISA: isa, bf16Products: products)
    }
}
