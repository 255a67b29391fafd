// swift-tools-version: 6.0
import PackageDescription

// Layers (see docs in ../shared/docs/ARCHITECTURE.md): arrows point down only.
//   vpeft (CLI) → NN → Tensor → COpenBLAS (system OpenBLAS, cblas)
let package = Package(
    name: "VPEFTBench",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .executable(name: "vpeft", targets: ["vpeft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "Tensor", dependencies: ["COpenBLAS"]),
        .target(name: "NN", dependencies: ["Tensor"]),
        .executableTarget(
            name: "vpeft",
            dependencies: ["Tensor", "NN", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"]),
    ],
    swiftLanguageModes: [.v5]
)
