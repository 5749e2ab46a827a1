import Foundation

/// Removes `url` if it exists and creates it empty.
func makeFreshDirectory(_ url: URL) throws {
    do {
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
        throw FileError.cannotWrite(path: url.path, reason: (error as NSError).localizedDescription)
    }
}
