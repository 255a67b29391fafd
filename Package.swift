// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Code for the CPU that builds it (SwiftPM builds from source where it runs), so the
/// elementwise kernels become AVX2/AVX-512 code rather than baseline SSE2: GELU, softmax and the
/// bfloat16 rounding took ~35 % of a ViT-B/16 bf16 training step without it. `VPEFT_PORTABLE=1`
/// builds for the baseline of the architecture instead (a binary to copy to other machines).
let nativeCode: [SwiftSetting] = ProcessInfo.processInfo.environment["VPEFT_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "native"])] : []

// Layers (see docs in ../shared/docs/ARCHITECTURE.md): arrows point down only.
//   vpeft (CLI) → Models → NN → Tensor → COpenBLAS (system OpenBLAS, cblas), CDNNL (system oneDNN matmul)
//                 Models → Checkpoints (safetensors/npz/pth readers) → CZlib (system zlib)
//   PEFT (methods attach at the model's sites) → Models
//   Datasets (decoding via CTurboJPEG/CPNG, transforms, loaders) → Tensor
//   Viz (PNG/SVG plots, t-SNE, attention overlays) → Tensor, CPNG
//   Reports (paper-style tables and plots from run records) → Viz
//   Training (trainer, protocols, configs, checkpoints, runs) → PEFT, Datasets
let package = Package(
    name: "VPEFTBench",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Checkpoints", targets: ["Checkpoints"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "PEFT", targets: ["PEFT"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Viz", targets: ["Viz"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Training", targets: ["Training"]),
        .executable(name: "vpeft", targets: ["vpeft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CDNNL"], swiftSettings: nativeCode),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: nativeCode),
        .target(name: "Checkpoints", dependencies: ["Tensor", "CZlib"], swiftSettings: nativeCode),
        .target(name: "Models", dependencies: ["Tensor", "NN", "Checkpoints"], swiftSettings: nativeCode),
        .target(name: "PEFT", dependencies: ["Tensor", "NN", "Models"], swiftSettings: nativeCode),
        .target(name: "Datasets", dependencies: ["Tensor", "CTurboJPEG", "CPNG", "CZlib"], swiftSettings: nativeCode),
        .target(name: "Viz", dependencies: ["Tensor", "CPNG", "CZlib"], swiftSettings: nativeCode),
        .target(name: "Reports", dependencies: ["Viz"], swiftSettings: nativeCode),
        .target(name: "Training", dependencies: ["Tensor", "NN", "Models", "PEFT", "Datasets", "Yams"], swiftSettings: nativeCode),
        .executableTarget(
            name: "vpeft",
            dependencies: ["Tensor", "NN", "Checkpoints", "Models", "PEFT", "Datasets", "Viz", "Reports", "Training", "COpenBLAS", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: nativeCode
        ),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Checkpoints", "NN", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "PEFTTests", dependencies: ["PEFT", "Models", "NN", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "VizTests", dependencies: ["Viz", "Tensor", "CPNG"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Viz"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Reports", "Datasets", "PEFT", "Models", "NN", "Tensor"]),
    ],
    swiftLanguageModes: [.v5]
)
