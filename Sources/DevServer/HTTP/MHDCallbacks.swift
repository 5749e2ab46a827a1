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
        core.logger.warning("libmicrohttpd: \(line.trimmingCharacters(in: "\n"))")
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
