// swift-tools-version: 6.0
// A separate package that depends on LocalStorage by path, as a user's package would, and runs
// the seed document's examples through exactly the public surface.
import PackageDescription

let package = Package(
    name: "SeedUsage",
    dependencies: [.package(name: "LocalStorage", path: "../..")],
    targets: [
        .executableTarget(
            name: "SeedUsage",
            dependencies: [.product(name: "LocalStorage", package: "LocalStorage")]
        )
    ]
)
