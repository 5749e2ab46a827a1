import CMicroHTTPD
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C callbacks handed to libmicrohttpd. They live here, not in a `main.swift`, because
/// top-level code there is main-actor isolated and traps when libmicrohttpd's thread calls it.
/// Each one only unwraps its `cls` and forwards to Swift.
enum MHDCallbacks {
    static let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, conCls in
        guard let cls, let connection, let conCls, let uploadSize else { return MHD_Result.NO }
        let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
        return core.access(
            connection: connection,
            url: url.map { String(cString: $0) } ?? "/",
            method: method.map { String(cString: $0) } ?? "GET",
            upload: uploadData,
            uploadSize: uploadSize,
            contextSlot: conCls
        )
    }

    /// Releases the per-request context once libmicrohttpd is done with a request.
    static let requestCompleted: MHD_RequestCompletedCallback = { cls, _, conCls, _ in
        guard let conCls, let context = conCls.pointee else { return }
        conCls.pointee = nil
        let request = Unmanaged<ConnectionContext>.fromOpaque(context).takeRetainedValue()
        if let cls {
            let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
            core.completed(request)
        }
    }

    static let logger: MHD_LogCallback = { cls, format, arguments in
        guard let cls, let format, let arguments else { return }
        var buffer = [CChar](repeating: 0, count: 1024)
        _ = vsnprintf(&buffer, buffer.count, format, arguments)
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
        let message = line.trimmingCharacters(in: "\n")
        // A stream we aborted on purpose (a subscriber that stopped reading) is not a problem.
        if message.contains("application error generating response") {
            core.logger.debug("libmicrohttpd: \(message)")
        } else {
            core.logger.warning("libmicrohttpd: \(message)")
        }
    }

    /// Pulls bytes out of a `ResponseStream` (`cls` is a retained reference to it).
    static let streamReader: MHD_ContentReaderCallback = { cls, _, buffer, max in
        guard let cls, let buffer else { return -2 }
        let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
        return stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max))
    }

    /// Drops the reference taken for `streamReader` when libmicrohttpd frees the response.
    static let streamReleased: MHD_ContentReaderFreeCallback = { cls in
        guard let cls else { return }
        Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().released()
    }

    /// Decodes `%HH` in the path and query in place, except `%00`: a decoded NUL would silently
    /// cut the C string short (`/app.js%00.html` would serve `/app.js`), so it stays literal.
    static let unescape: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int = { _, _, text in
        guard let text else { return 0 }
        let length = strlen(text)
        return text.withMemoryRebound(to: UInt8.self, capacity: length + 1) { bytes in
            var read = 0
            var written = 0
            while read < length {
                if bytes[read] == UInt8(ascii: "%"), read + 2 < length,
                   let high = hexValue(bytes[read + 1]), let low = hexValue(bytes[read + 2]),
                   high != 0 || low != 0 {
                    bytes[written] = high << 4 | low
                    read += 3
                } else {
                    bytes[written] = bytes[read]
                    read += 1
                }
                written += 1
            }
            bytes[written] = 0
            return written
        }
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static var unescapePointer: OpaquePointer {
        unsafeBitCast(unescape, to: OpaquePointer.self)
    }

    // Options in a va_list are read as `void *`, so function pointers travel as raw pointers.
    static var requestCompletedPointer: OpaquePointer {
        unsafeBitCast(requestCompleted, to: OpaquePointer.self)
    }

    static var loggerPointer: OpaquePointer {
        unsafeBitCast(logger, to: OpaquePointer.self)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var view = Substring(self)
        while view.last == set { view.removeLast() }
        return String(view)
    }
}
