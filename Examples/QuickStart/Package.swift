// swift-tools-version: 6.0
// A package that uses V-PEFT Bench as a library. Point the URL at your clone of the repository
// (`scripts/check/dependent_package.sh` builds and runs this example against the current commit).
import PackageDescription

let package = Package(
    name: "QuickStart",
    dependencies: [
        .package(url: "https://git.example.org/vpeft-bench.git", branch: "main"),
    ],
    targets: [
        .executableTarget(name: "QuickStart", dependencies: [.product(name: "VPEFTBench", package: "vpeft-bench")]),
    ]
)
