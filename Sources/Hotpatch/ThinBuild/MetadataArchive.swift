import Foundation

/// A metadata-only rlib: an `ar` archive whose one member, `lib.rmeta`, is an incremental library
/// step's rmeta. rustc before the 1.7x releases refuses to compile a crate that links (a bin)
/// against a dependency's bare `.rmeta` ("required to be available in rlib format") even with
/// `--emit=obj`, where nothing is linked; it reads the same metadata from an rlib's `lib.rmeta`
/// member, and newer rustc accepts either. The patch links objects, never this archive.
enum MetadataArchive {
    /// Crate types rustc makes a linkable output for, so it asks for rlibs of dependencies.
    static func isNeeded(forCrateTypes crateTypes: [String]) -> Bool {
        crateTypes.isEmpty || crateTypes.contains { ["bin", "dylib", "cdylib", "staticlib", "proc-macro"].contains($0) }
    }

    /// Writes the archive at `archive` holding the rmeta at `metadata` (GNU `ar` format).
    static func write(wrapping metadata: String, to archive: String) throws {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: metadata))
        } catch {
            throw FileError.cannotRead(path: metadata, reason: (error as NSError).localizedDescription)
        }
        try JSONFile.writeAtomically(bytes(member: "lib.rmeta", contents: contents), to: URL(fileURLWithPath: archive))
    }

    /// `!<arch>\n`, one 60-byte member header, the member padded to an even length.
    static func bytes(member name: String, contents: Data) -> Data {
        func field(_ value: String, _ width: Int) -> String {
            value.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        let header = field(name + "/", 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("644", 8)
            + field(String(contents.count), 10) + "`\n"
        var data = Data("!<arch>\n".utf8)
        data.append(Data(header.utf8))
        data.append(contents)
        if contents.count % 2 == 1 { data.append(0x0a) }
        return data
    }
}
