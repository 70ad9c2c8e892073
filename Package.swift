// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode comes with the tools version.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "MeshDojo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "productpage", targets: ["productpage"]),
        .executable(name: "details", targets: ["details"]),
        .executable(name: "reviews", targets: ["reviews"]),
        .executable(name: "ratings", targets: ["ratings"]),
        .executable(name: "lab-runner", targets: ["lab-runner"]),
        .executable(name: "labctl", targets: ["labctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // MARK: Bookinfo
        .target(
            name: "BookinfoKit",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "Details", dependencies: ["BookinfoKit"], swiftSettings: swiftSettings),
        .target(
            name: "Ratings",
            dependencies: ["BookinfoKit", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Reviews", dependencies: ["BookinfoKit"], swiftSettings: swiftSettings),
        .target(
            name: "Productpage",
            dependencies: ["BookinfoKit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "productpage", dependencies: ["Productpage"], path: "Sources/Executables/productpage", swiftSettings: swiftSettings),
        .executableTarget(name: "details", dependencies: ["Details"], path: "Sources/Executables/details", swiftSettings: swiftSettings),
        .executableTarget(name: "reviews", dependencies: ["Reviews"], path: "Sources/Executables/reviews", swiftSettings: swiftSettings),
        .executableTarget(name: "ratings", dependencies: ["Ratings"], path: "Sources/Executables/ratings", swiftSettings: swiftSettings),

        // MARK: Mesh
        .target(name: "MeshModel", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        .target(name: "EnvoyConfig", dependencies: ["MeshModel"], swiftSettings: swiftSettings),
        .target(
            name: "LocalCluster",
            dependencies: [
                "MeshModel", "EnvoyConfig", "BookinfoKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Kubernetes
        // The Kubernetes API the lab-runner serves (discovery, OpenAPI, tables, patches, watch,
        // Status errors) over any backend.
        .target(
            name: "KubeAPI",
            dependencies: [
                "MeshModel",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // A small client of a real Kubernetes API server and per-student provisioning.
        .target(
            name: "KubernetesBackend",
            dependencies: [
                "MeshModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Labs
        .target(
            name: "Grading",
            dependencies: [
                "MeshModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "Labs", dependencies: ["MeshModel", "Grading", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        .target(
            name: "LabStore",
            dependencies: [
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LabRunner",
            dependencies: [
                "MeshModel", "LocalCluster", "BookinfoKit", "Grading", "Labs", "LabStore", "KubeAPI", "KubernetesBackend",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "lab-runner",
            dependencies: ["LabRunner", "BookinfoKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Executables/lab-runner", swiftSettings: swiftSettings),
        .executableTarget(
            name: "labctl",
            dependencies: [
                "MeshModel", "BookinfoKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Executables/labctl", swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "GradingTests",
            dependencies: [
                "Grading", "MeshModel", "BookinfoKit", "Productpage", "Reviews", "Details", "Ratings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LabsTests", dependencies: ["Labs", "Grading", "MeshModel"], swiftSettings: swiftSettings),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI", "MeshModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KubernetesBackendTests",
            dependencies: [
                "KubernetesBackend", "MeshModel", .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LabStoreTests", dependencies: ["LabStore"], swiftSettings: swiftSettings),
        .testTarget(name: "MeshModelTests", dependencies: ["MeshModel"], swiftSettings: swiftSettings),
        .testTarget(name: "EnvoyConfigTests", dependencies: ["EnvoyConfig", "MeshModel"], resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .testTarget(
            name: "LocalClusterTests",
            dependencies: [
                "LocalCluster", "LabRunner", "MeshModel", "EnvoyConfig", "BookinfoKit", "Labs", "Grading", "LabStore", "KubeAPI", "KubernetesBackend",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BookinfoTests",
            dependencies: [
                "BookinfoKit", "Details", "Ratings", "Reviews", "Productpage",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
