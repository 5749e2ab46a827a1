import Crypto
import Foundation

/// What a source file looked like when a build or patch compiled it. Size and mtime answer
/// "unchanged?" without reading the file; the content hash answers it when they differ (a touched
/// or re-saved file with the same bytes is not a change).
public struct SourceFingerprint: Codable, Sendable, Equatable {
    public var size: UInt64
    /// Modification time, nanoseconds since 1970.
    public var modifiedNs: Int64
    /// SHA-256 of the content, lowercase hex; nil when the content the compiler read is not known
    /// (the file changed while the compiler may have been reading it), which counts as changed.
    public var sha256: String?

    public init(size: UInt64, modifiedNs: Int64, sha256: String?) {
        self.size = size
        self.modifiedNs = modifiedNs
        self.sha256 = sha256
    }

    /// Size and mtime of `path`, or nil when it doesn't exist (a deleted file).
    public static func fileStatus(_ path: String) -> (size: UInt64, modifiedNs: Int64)? {
        FileStatus(path: path).map { ($0.size, $0.modifiedNs) }
    }

    public static func sha256(ofFile path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return SHA256.hash(data: data).lowercaseHex
    }

    /// Measures `path` now. `compiledAfterNs` is when the compiler started: a file modified after
    /// that (minus a margin for the kernel's coarse file clock) may differ from what it read, so
    /// its hash is left unknown.
    public static func measure(_ path: String, compiledAfterNs: Int64? = nil) -> SourceFingerprint? {
        guard let (size, modified) = fileStatus(path) else { return nil }
        let margin: Int64 = 20_000_000
        if let start = compiledAfterNs, modified >= start - margin {
            return SourceFingerprint(size: size, modifiedNs: modified, sha256: nil)
        }
        return SourceFingerprint(size: size, modifiedNs: modified, sha256: sha256(ofFile: path))
    }
}

/// One source file of a crate and its fingerprint (nil: the file did not exist).
public struct TrackedFile: Codable, Sendable, Equatable {
    /// Absolute path.
    public var path: String
    public var fingerprint: SourceFingerprint?

    public init(path: String, fingerprint: SourceFingerprint?) {
        self.path = path
        self.fingerprint = fingerprint
    }
}

/// A workspace crate whose sources are watched for changes: its capture, and every file its
/// dep-info lists, fingerprinted when it was last compiled (fat build or patch).
public struct TrackedCrate: Codable, Sendable, Equatable {
    public var crateName: String
    public var crateTypes: [String]
    /// `captures/rustc/<file>` in the build that captured it.
    public var captureFile: String
    public var isBinary: Bool
    public var files: [TrackedFile]

    public init(crateName: String, crateTypes: [String], captureFile: String, isBinary: Bool, files: [TrackedFile]) {
        self.crateName = crateName
        self.crateTypes = crateTypes
        self.captureFile = captureFile
        self.isBinary = isBinary
        self.files = files
    }

    /// Tracks `capture`'s crate from the dep-info file rustc wrote (`depInfo`, defaulting to the
    /// capture's `depInfoPath`), fingerprinting each listed file relative to the capture's cwd.
    /// `compiledAfter` is when that rustc started (default: when the shim captured it).
    /// `known` are fingerprints taken before rustc started: a file whose size and mtime still
    /// match one of them was not touched since, so its hash is the content rustc read.
    public static func measure(_ capture: CapturedRustcInvocation, depInfo: URL? = nil, compiledAfter: Date? = nil, known: [TrackedFile] = []) throws -> TrackedCrate {
        guard let depInfoURL = depInfo ?? capture.depInfoPath.map(URL.init(fileURLWithPath:)) else {
            throw ThinBuildError.noDepInfo(crate: capture.crateName)
        }
        guard let data = FileManager.default.contents(atPath: depInfoURL.path) else {
            throw FileError.cannotRead(path: depInfoURL.path, reason: "rustc's dep-info file is missing")
        }
        let startNs = Int64((compiledAfter?.timeIntervalSince1970 ?? capture.capturedAt) * 1e9)
        let before = Dictionary(known.compactMap { file in file.fingerprint.map { (file.path, $0) } }, uniquingKeysWith: { _, last in last })
        let files = DepInfo(parsing: String(decoding: data, as: UTF8.self)).files.map { file in
            let path = CapturedRustcInvocation.absolute(file, in: capture.workingDirectory)
            if let old = before[path], old.sha256 != nil, let now = SourceFingerprint.fileStatus(path),
               now.size == old.size, now.modifiedNs == old.modifiedNs {
                return TrackedFile(path: path, fingerprint: old)
            }
            return TrackedFile(path: path, fingerprint: SourceFingerprint.measure(path, compiledAfterNs: startNs))
        }
        return TrackedCrate(crateName: capture.crateName, crateTypes: capture.crateTypes, captureFile: capture.captureFilename, isBinary: capture.isBinary, files: files)
    }
}
