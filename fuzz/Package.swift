// swift-tools-version:6.1
// The coverage-guided fuzz targets (libFuzzer) of the Swift parsers. Built only by
// `scripts/fuzz.sh` (`swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -enable-testing`),
// never by the project's own `swift build`: this package sits outside its Sources/ and Tests/, and
// every target here needs libFuzzer's `LLVMFuzzerRunDriver`, which only `-sanitize=fuzzer` links.
import PackageDescription

let package = Package(
    name: "WhiskerFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "WhiskerHotpatch", path: "..")],
    targets: [
        // The libFuzzer entry points every target shares.
        .target(name: "FuzzDriver"),
        // What the object-file targets do with an image that opened: everything a stage reads.
        .target(name: "FuzzObjects", dependencies: [
            "FuzzDriver", .product(name: "ObjectFile", package: "WhiskerHotpatch"),
            .product(name: "Hotpatch", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-elf", dependencies: [
            "FuzzDriver", "FuzzObjects", .product(name: "ObjectFile", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-macho", dependencies: [
            "FuzzDriver", "FuzzObjects", .product(name: "ObjectFile", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-universal", dependencies: [
            "FuzzDriver", "FuzzObjects", .product(name: "ObjectFile", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-relocate", dependencies: [
            "FuzzDriver", .product(name: "ObjectFile", package: "WhiskerHotpatch"),
            .product(name: "Hotpatch", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-json", dependencies: [
            "FuzzDriver", .product(name: "HTTP", package: "WhiskerHotpatch"),
        ]),
        .executableTarget(name: "fuzz-request-bodies", dependencies: [
            "FuzzDriver", .product(name: "HTTP", package: "WhiskerHotpatch"),
            .product(name: "DevServer", package: "WhiskerHotpatch"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
