import Foundation

/// The lines of `cargo build --message-format=json-render-diagnostics` we use (`compiler-artifact`,
/// `build-finished`); other reasons decode with their fields nil.
struct CargoMessage: Decodable {
    struct Target: Decodable {
        var name: String
        var kind: [String]
        var crate_types: [String]
    }

    var reason: String
    var package_id: String?
    var target: Target?
    var filenames: [String]?
    var executable: String?
    var fresh: Bool?
    var success: Bool?

    static func decode(_ line: String) -> CargoMessage? {
        guard line.hasPrefix("{") else { return nil }
        return try? JSONDecoder().decode(CargoMessage.self, from: Data(line.utf8))
    }

    /// The artefact as a `BuiltCrate`, when this is a `compiler-artifact` line.
    var builtCrate: BuiltCrate? {
        guard reason == "compiler-artifact", let target else { return nil }
        return BuiltCrate(
            name: target.name,
            crateName: target.name.replacingOccurrences(of: "-", with: "_"),
            packageId: package_id ?? "",
            kind: target.kind,
            crateTypes: target.crate_types,
            fresh: fresh ?? false,
            capture: nil,
            filenames: filenames
        )
    }
}
