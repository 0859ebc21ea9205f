// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "PackLedger",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "packledger", targets: ["packledger"]),
        .library(name: "PackLedgerKit", targets: ["PackLedgerKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "PackLedgerKit",
            dependencies: ["CSQLite", "COpenSSL"]
        ),
        .executableTarget(
            name: "packledger",
            dependencies: [
                "PackLedgerKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "packledger-bench",
            dependencies: ["PackLedgerKit", "CSQLite"],
            path: "Tools/bench"
        ),
        .executableTarget(name: "packledger-generate-fleet", dependencies: ["PackLedgerKit"], path: "Tools/generate-fleet"),
        .testTarget(
            name: "PackLedgerKitTests",
            dependencies: ["PackLedgerKit", "packledger", "packledger-generate-fleet"]
        ),
    ]
)

// Language settings shared by every target, in the manner of swift-log: one place decides them.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.treatAllWarnings(as: .error))
    target.swiftSettings = settings
}
