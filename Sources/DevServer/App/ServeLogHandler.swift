import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// swift-log's stream handler with millisecond timestamps: the serve log is read next to the
/// patch latencies (save → applied in a few hundred milliseconds), which whole seconds cannot place.
///
/// `2026-11-25T06:15:00.123+0000 info whisker.serve : [key=value] message`, one line to stderr.
public struct ServeLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String

    /// Where lines go instead of stderr while `serve`'s terminal UI keeps its status lines at the
    /// bottom of the terminal (they must be written above those); nil: stderr.
    static let redirect = Mutex<(@Sendable (Logger.Level, String) -> Void)?>(nil)

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Self.timestamp()) \(event.level) \(label) :\(details) \(event.message)\n"
        if let redirect = Self.redirect.withLock({ $0 }) {
            redirect(event.level, text)
            return
        }
        // One write(2) per line, so lines from several threads never interleave.
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// Local time with milliseconds and the UTC offset.
    static func timestamp(_ now: timespec = Self.now()) -> String {
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        var offset = [Int8](repeating: 0, count: 8)
        strftime(&offset, offset.count, "%z", &parts)
        let base = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let zone = String(decoding: offset.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return base + String(format: ".%03d", Int(now.tv_nsec / 1_000_000)) + zone
    }

    static func now() -> timespec {
        var value = timespec()
        clock_gettime(CLOCK_REALTIME, &value)
        return value
    }
}
