// swift-tools-version:6.1
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "WhiskerHotpatch",
    // macOS 15: `Synchronization.Mutex`, the one lock of the session and of the HTTP layer.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "whisker-dev", targets: ["whisker-dev"]),
        .executable(name: "whisker-rustc-shim", targets: ["whisker-rustc-shim"]),
        .executable(name: "whisker-linker-shim", targets: ["whisker-linker-shim"]),
        .executable(name: "whisker-bench", targets: ["whisker-bench"]),
        .library(name: "ObjectFile", targets: ["ObjectFile"]),
        .library(name: "Hotpatch", targets: ["Hotpatch"]),
        .library(name: "HTTP", targets: ["HTTP"]),
        .library(name: "DevServer", targets: ["DevServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // C dependencies, found through pkg-config; `scripts/setup.sh` installs the apt packages.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),

        // The one error model every module's errors conform to (kind, identifier, message, hint, diagnostics).
        .target(name: "ErrorModel"),

        // Pure Swift ELF / Mach-O readers: no C, no Foundation-only tricks, every read bounds-checked.
        .target(name: "ObjectFile", dependencies: ["ErrorModel"]),

        // The hot-patch pipeline: symbol tables, cache, capture shims, fat/thin builds, stub, link, jump table.
        .target(name: "Hotpatch", dependencies: ["ErrorModel", "ObjectFile", crypto, logging]),

        // The transport, knowing nothing of patching: libmicrohttpd server, router, deferred
        // responses and SSE, jansson JSON, bearer auth, static files.
        .target(name: "HTTP", dependencies: ["CMicroHTTPD", "CJansson", "ErrorModel", logging]),

        // The dev server: the project session (builds, patches, devices, journal), its routes and
        // `serve`.
        .target(name: "DevServer", dependencies: ["ErrorModel", "HTTP", "Hotpatch", logging]),

        .executableTarget(name: "whisker-dev", dependencies: ["ErrorModel", "Hotpatch", "DevServer", "HTTP", "ObjectFile", argumentParser, logging]),
        .executableTarget(name: "whisker-rustc-shim", dependencies: ["Hotpatch"]),
        .executableTarget(name: "whisker-linker-shim", dependencies: ["Hotpatch"]),
        .executableTarget(name: "whisker-bench", dependencies: ["Hotpatch", "ObjectFile", argumentParser]),

        .testTarget(name: "CDependencyTests", dependencies: ["CMicroHTTPD", "CJansson"]),
        .testTarget(name: "ObjectFileTests", dependencies: ["ObjectFile"]),
        .testTarget(name: "HotpatchTests", dependencies: ["Hotpatch", "ObjectFile"]),
        .testTarget(name: "DevServerTests", dependencies: ["DevServer", "ErrorModel", "HTTP", "Hotpatch", "ObjectFile"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Hotpatch", crypto, "whisker-dev", "whisker-rustc-shim", "whisker-linker-shim"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
