// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "LocalStorage",
    products: [
        .library(name: "LocalStorage", targets: ["LocalStorage"]),
        .library(name: "S3Storage", targets: ["S3Storage"]),
        .executable(name: "storage-bench", targets: ["StorageBench"]),
        .executable(name: "lstore", targets: ["lstore"]),
    ],
    // Everything beyond the library sits behind a trait that is off by default, so a package that
    // depends on this one for `LocalStorage` fetches and builds nothing else.
    traits: [
        .trait(
            name: "Benchmark",
            description: "Builds storage-bench with its dependencies: `swift run -c release --traits Benchmark storage-bench`."),
        .trait(
            name: "CLI",
            description: "Builds the lstore command-line tool with its dependency: `swift build -c release --traits CLI --product lstore`."),
        .trait(
            name: "S3",
            description: "Builds S3Storage (the same storage on any S3-compatible object store) with async-http-client and swift-crypto."),
    ],
    dependencies: [
        // The library itself depends on nothing but libc. The parser is for storage-bench and
        // lstore, behind their traits.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // storage-bench's NIOFileSystem contender (Benchmark trait) and S3Storage's event loops
        // and buffers (S3 trait).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // S3 trait only.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .target(
            name: "CLocalStorage",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "LocalStorage",
            dependencies: ["CLocalStorage"],
            swiftSettings: [.define("ENABLE_MOCKING", .when(configuration: .debug))]
        ),
        // Compiled empty without the S3 trait: every source is guarded by `#if S3`.
        .target(
            name: "S3Storage",
            dependencies: [
                "LocalStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(traits: ["S3"])),
                .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["S3"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["S3"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["S3"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["S3"])),
            ]
        ),
        .executableTarget(
            name: "StorageBench",
            dependencies: [
                "LocalStorage",
                "CLocalStorage",
                "S3Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Benchmark"])),
                .product(name: "_NIOFileSystem", package: "swift-nio", condition: .when(traits: ["Benchmark"])),
            ],
            path: "Benchmarks/StorageBench",
            exclude: ["Workloads/s3_bench_boto3.py"],
            // The batch rows (checkIfExists of many names) are compiled in: the library has the API.
            swiftSettings: [.define("STORAGE_BENCH_BATCH_API")]
        ),
        // The command-line tool; without the CLI trait it only says how to build it.
        .executableTarget(
            name: "lstore",
            dependencies: [
                "LocalStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["CLI"])),
            ]
        ),
        // Shared by the tests and their child processes: the self-verifying file format.
        .target(
            name: "StorageTestSupport",
            path: "Tests/StorageTestSupport"
        ),
        // Test-only C: a seccomp filter for the child that runs without openat2.
        .target(
            name: "CStorageTestSupport",
            path: "Tests/CStorageTestSupport"
        ),
        // Child processes for tests: peak-memory measurement, the crash harness, rlimits, seccomp.
        .executableTarget(
            name: "StorageTestHelper",
            dependencies: ["LocalStorage", "StorageTestSupport", "CStorageTestSupport"],
            path: "Tests/StorageTestHelper"
        ),
        .testTarget(
            name: "LocalStorageTests",
            dependencies: ["LocalStorage", "CLocalStorage", "StorageTestHelper", "StorageTestSupport"],
            swiftSettings: [.define("ENABLE_MOCKING", .when(configuration: .debug))]
        ),
        // lstore's tests: its parsers in process, the built binary as a child process.
        .testTarget(
            name: "LstoreTests",
            dependencies: ["lstore", "LocalStorage", "CLocalStorage"]
        ),
        // The conformance suite (LocalStorage always; S3Storage with the S3 trait and an endpoint)
        // and the S3-only tests.
        .testTarget(
            name: "S3StorageTests",
            dependencies: [
                "LocalStorage", "S3Storage",
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(traits: ["S3"])),
                .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["S3"])),
            ],
            exclude: ["Python"]
        ),
    ]
)
