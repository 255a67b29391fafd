// swift-tools-version: 6.0
import PackageDescription

// The package itself builds for the architecture's baseline, so that other packages can depend
// on it (SwiftPM refuses a dependency with unsafe flags). The Makefile builds the README's
// commands for the CPU that runs them (`-target-cpu native`: AVX2/AVX-512 elementwise kernels,
// ~35 % of a bf16 ViT-B/16 step); `VPEFT_PORTABLE=1 make …` keeps the baseline.

// Layers (docs/architecture.md): arrows point down only.
//   vpeft (CLI) → Models → NN → Tensor → COpenBLAS (system OpenBLAS, cblas), CDNNL (system oneDNN matmul)
//                 Models → Checkpoints (safetensors/npz/pth readers) → CZlib (system zlib)
//   Heads (task heads on a backbone's multi-scale maps: UPerNet, FCN) → Models
//   PEFT (methods attach at the model's sites) → Models
//   Datasets (decoding via CTurboJPEG/CPNG/CFFmpeg, transforms, loaders) → Tensor
//   Viz (PNG/SVG plots, t-SNE, attention overlays) → Tensor, CPNG
//   Reports (paper-style tables and plots from run records) → Viz
//   Training (trainer, objectives, protocols, configs, checkpoints, runs) → PEFT, Heads, Datasets
//   VPEFTBench (the library product other packages use) re-exports all of the above
let package = Package(
    name: "VPEFTBench",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "VPEFTBench", targets: ["VPEFTBench"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Checkpoints", targets: ["Checkpoints"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "PEFT", targets: ["PEFT"]),
        .library(name: "Heads", targets: ["Heads"]),
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
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CDNNL"]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Checkpoints", dependencies: ["Tensor", "CZlib"]),
        .target(name: "Models", dependencies: ["Tensor", "NN", "Checkpoints"]),
        .target(name: "PEFT", dependencies: ["Tensor", "NN", "Models"]),
        .target(name: "Heads", dependencies: ["Tensor", "NN", "Checkpoints", "Models"]),
        .target(name: "Datasets", dependencies: ["Tensor", "CTurboJPEG", "CPNG", "CZlib", "CFFmpeg"]),
        .target(name: "Viz", dependencies: ["Tensor", "CPNG", "CZlib"]),
        .target(name: "Reports", dependencies: ["Viz"]),
        .target(name: "Training", dependencies: ["Tensor", "NN", "Checkpoints", "Models", "Heads", "PEFT", "Datasets", "Yams"]),
        .target(name: "VPEFTBench", dependencies: ["Tensor", "NN", "Checkpoints", "Models", "Heads", "PEFT", "Datasets", "Viz", "Reports", "Training"]),
        .executableTarget(
            name: "vpeft",
            dependencies: ["Tensor", "NN", "Checkpoints", "Models", "Heads", "PEFT", "Datasets", "Viz", "Reports", "Training", "COpenBLAS", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Checkpoints", "NN", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "HeadsTests", dependencies: ["Heads", "Models", "NN", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "PEFTTests", dependencies: ["PEFT", "Models", "NN", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "VizTests", dependencies: ["Viz", "Tensor", "CPNG"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Viz"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Reports", "Datasets", "PEFT", "Heads", "Models", "Checkpoints", "NN", "Tensor"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
