// swift-tools-version: 6.2
import PackageDescription

// Settings every target of ours shares: Swift 6 language mode (strict concurrency) comes with the
// tools version; `any` is spelled out for existentials; an import is internal unless it says
// `public import` (so a module's public API names exactly the modules it exposes); and a file
// uses only members of the modules it imports itself.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "stepworker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepworker", targets: ["stepworker"]),
        .library(name: "StepFunctions", targets: ["StepFunctions"]),
        .library(name: "StepFunctionsLocal", targets: ["StepFunctionsLocal"]),
        .library(name: "StepWorker", targets: ["StepWorker"]),
        .library(name: "Systemd", targets: ["Systemd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The read/write loops (EINTR, short writes) and conversions every module needs, once.
        .target(
            name: "POSIXSupport",
            swiftSettings: strict
        ),
        // The accept side the three HTTP servers share: every connection owned by a task at once.
        .target(
            name: "HTTPServing",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The Step Functions service client: endpoints, SigV4, JSON 1.0 transport, errors, retries.
        .target(
            name: "StepFunctions",
            dependencies: [
                "POSIXSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // A local Step Functions activity endpoint for development, demos and tests.
        .target(
            name: "StepFunctionsLocal",
            dependencies: [
                "HTTPServing",
                "POSIXSupport",
                "StepFunctions",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The worker core: configuration, handler runner, outcome mapping, supervisor.
        .target(
            name: "StepWorker",
            dependencies: [
                "CChecksum",
                "CSockDiag",
                "CSpawn",
                "HTTPServing",
                "POSIXSupport",
                "StepFunctions",
                "Systemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The handler spawn (clone with CLONE_VM|CLONE_VFORK, identity by raw syscalls,
        // PR_SET_PDEATHSIG): what posix_spawn and swift-subprocess cannot do before exec.
        .target(name: "CSpawn"),
        // CRC-32C of journal frames with the CPU's crc32 instruction.
        .target(name: "CChecksum"),
        // Who owns the peer's end of a loopback TCP connection: one NETLINK_SOCK_DIAG request
        // for that exact 4-tuple (the Runtime API's admission).
        .target(name: "CSockDiag"),
        // libsystemd, through pkg-config (apt: libsystemd-dev).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "Systemd",
            dependencies: [
                "CSystemd",
                "POSIXSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The one binary: argument parsing and wiring only.
        .executableTarget(
            name: "stepworker",
            dependencies: [
                "POSIXSupport",
                "StepFunctions",
                "StepFunctionsLocal",
                "StepWorker",
                "Systemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            // The static-stdlib link (`--static-swift-stdlib`: make bench, make deb) passes
            // -export-dynamic, which put 34,000 of our symbols (4 MB) in the dynamic symbol table:
            // nothing looks them up (the runtime finds its metadata through sections, and the
            // static archives' symbols stay hidden, --exclude-libs ALL). Issue 12: binary size.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))]
        ),
        // `make demo`: drives the real binary against the local endpoint and prints each step.
        .executableTarget(
            name: "stepworker-demo",
            dependencies: [
                "StepFunctions",
                "StepFunctionsLocal",
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // `make bench`: runs the real binary against the in-process local endpoint and prints
        // throughput, per-task overhead, idle CPU/RSS and time to READY (docs/benchmark.md).
        .executableTarget(
            name: "stepworker-bench",
            dependencies: [
                "StepFunctions",
                "StepFunctionsLocal",
            ],
            swiftSettings: strict
        ),
        // What the StepWorker test suites share: scripted fakes of the boundaries (the service,
        // the process runner, the clock) that publish what happened as events, one wait helper,
        // temporary directories and a recording log handler. Test targets only.
        .target(
            name: "StepWorkerTestKit",
            dependencies: [
                "StepWorker",
                "StepFunctions",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StepFunctionsTests",
            dependencies: [
                "StepWorkerTestKit",
                "StepFunctions",
                "StepFunctionsLocal",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StepFunctionsLocalTests",
            dependencies: [
                "HTTPServing",
                "StepWorkerTestKit",
                "StepFunctions",
                "StepFunctionsLocal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Fast and in-process: pure decisions, scripted fakes, the real local endpoint and real
        // handler processes.
        .testTarget(
            name: "StepWorkerTests",
            dependencies: [
                "POSIXSupport",
                "StepWorker",
                "StepWorkerTestKit",
                "StepFunctions",
                "Systemd",
                "StepFunctionsLocal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // The real `stepworker` binary: the command line, and the daemon against the local
        // endpoint with a real NOTIFY_SOCKET (load, faults, signals, reload, metrics).
        .testTarget(
            name: "StepWorkerIntegrationTests",
            dependencies: [
                "StepWorker",
                "StepWorkerTestKit",
                "StepFunctions",
                "StepFunctionsLocal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SystemdTests",
            dependencies: ["Systemd"],
            swiftSettings: strict
        ),
    ]
)
