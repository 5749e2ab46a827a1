import CMicroHTTPD
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libmicrohttpd calls the access handler several times per request: once when the headers are in
// (`*con_cls == NULL`), once per body chunk (`*upload_data_size > 0`), once when the body is
// complete, and once more after a suspended connection is resumed.

extension ServerCore {
    func access(
        connection: OpaquePointer,
        url: String,
        method: String,
        upload: UnsafePointer<CChar>?,
        uploadSize: UnsafeMutablePointer<Int>,
        contextSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) -> MHD_Result {
        guard let existing = contextSlot.pointee else {
            let context = ConnectionContext(method: HTTPMethod(method), path: url)
            contextSlot.pointee = Unmanaged.passRetained(context).toOpaque()
            return rejectEarlyIfTooLarge(connection, context)
        }
        let context = Unmanaged<ConnectionContext>.fromOpaque(existing).takeUnretainedValue()
        switch context.phase {
        case .receiving:
            if uploadSize.pointee > 0 {
                receive(upload, count: uploadSize.pointee, into: context)
                uploadSize.pointee = 0
                return MHD_Result.YES
            }
            if context.bodyTooLarge {
                return deliver(Response(error: bodyTooLargeError()), to: connection, context)
            }
            let request = Request(
                method: context.method,
                path: context.path,
                query: QueryParameters(Self.values(of: connection, kind: .GET_ARGUMENT_KIND)),
                headers: Self.headers(of: connection),
                body: context.body
            )
            context.body = []
            return deliver(respond(to: request), to: connection, context)
        case .waiting(let responder):
            guard let response = responder.take() else { return MHD_Result.YES }
            unregister(responder)
            return deliver(response, to: connection, context)
        case .answered:
            uploadSize.pointee = 0
            return MHD_Result.YES
        }
    }

    func completed(_ context: ConnectionContext) {
        if case .waiting(let responder) = context.phase {
            unregister(responder)
        }
    }

    /// A client announcing an oversized body with `Expect: 100-continue` (curl does) gets its
    /// 413 before sending it. Others are read to the end (and dropped) so the 413 is not lost to
    /// a connection reset.
    private func rejectEarlyIfTooLarge(_ connection: OpaquePointer, _ context: ConnectionContext) -> MHD_Result {
        guard
            let length = Self.header("Content-Length", of: connection).flatMap({ Int($0) }),
            length > configuration.maxBodySize,
            Self.header("Expect", of: connection)?.lowercased() == "100-continue"
        else { return MHD_Result.YES }
        return deliver(Response(error: bodyTooLargeError()), to: connection, context)
    }

    private func receive(_ upload: UnsafePointer<CChar>?, count: Int, into context: ConnectionContext) {
        guard !context.bodyTooLarge, let upload else { return }
        guard context.body.count + count <= configuration.maxBodySize else {
            context.bodyTooLarge = true
            context.body = []
            return
        }
        UnsafeRawPointer(upload).withMemoryRebound(to: UInt8.self, capacity: count) {
            context.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
        }
    }

    private func bodyTooLargeError() -> HTTPError {
        HTTPError(
            .contentTooLarge,
            code: "body_too_large",
            message: "the request body exceeds \(configuration.maxBodySize) bytes",
            hint: "send less; bodies are JSON documents well under 1 MiB"
        )
    }

    // MARK: sending

    /// Queues `response` (or suspends the connection for a deferred one).
    private func deliver(_ response: Response, to connection: OpaquePointer, _ context: ConnectionContext) -> MHD_Result {
        switch response.body {
        case .deferred(let deferred):
            return wait(for: deferred, connection, context)
        case .stream(let stream):
            return sendStream(stream, response, connection, context)
        case .file(let path):
            return sendFile(path, response, connection, context)
        case .bytes(let bytes):
            let made = bytes.withUnsafeBytes { raw in
                MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
            }
            return queue(made, response, connection, context)
        case .empty:
            return queue(MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT), response, connection, context)
        }
    }

    private func wait(for deferred: DeferredResponse, _ connection: OpaquePointer, _ context: ConnectionContext) -> MHD_Result {
        let responder = Responder(errorMapping: errorMapping) { [logger, method = context.method, path = context.path] error in
            logger.error("\(method) \(path) failed: \(String(describing: error))")
        }
        guard register(responder) else {
            return deliver(Response(error: HTTPError.shuttingDown), to: connection, context)
        }
        context.phase = .waiting(responder)
        if let timeout = deferred.timeout {
            responder.respond(after: timeout) { Response(error: HTTPError.deferredTimeout(timeout)) }
        }
        deferred.start(responder)
        guard let ready = responder.suspendOrTake(connection) else { return MHD_Result.YES }
        unregister(responder)
        return deliver(ready, to: connection, context)
    }

    private func sendStream(
        _ stream: ResponseStream,
        _ response: Response,
        _ connection: OpaquePointer,
        _ context: ConnectionContext
    ) -> MHD_Result {
        guard stream.attach(connection) else {
            let error = HTTPError(.internalServerError, code: "internal_error", message: "a response stream was reused")
            return deliver(Response(error: error), to: connection, context)
        }
        guard register(stream) else {
            stream.abort()
            return deliver(Response(error: HTTPError.shuttingDown), to: connection, context)
        }
        stream.onClose { [self] in unregister(stream) }
        let made = MHD_create_response_from_callback(
            UInt64.max, // MHD_SIZE_UNKNOWN: chunked encoding, open-ended
            16 * 1024,
            MHDCallbacks.streamReader,
            Unmanaged.passRetained(stream).toOpaque(),
            MHDCallbacks.streamReleased
        )
        return queue(made, response, connection, context)
    }

    private func sendFile(_ path: String, _ response: Response, _ connection: OpaquePointer, _ context: ConnectionContext) -> MHD_Result {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            if descriptor >= 0 { close(descriptor) }
            let error = HTTPError(.notFound, code: "not_found", message: "file \(path) is not readable")
            return deliver(Response(error: error), to: connection, context)
        }
        // libmicrohttpd owns the descriptor from here and closes it with the response.
        let made = MHD_create_response_from_fd64(UInt64(info.st_size), descriptor)
        if made == nil { close(descriptor) }
        return queue(made, response, connection, context)
    }

    private func queue(
        _ made: OpaquePointer?,
        _ response: Response,
        _ connection: OpaquePointer,
        _ context: ConnectionContext
    ) -> MHD_Result {
        context.phase = .answered
        guard let made else {
            logger.error("libmicrohttpd could not create a response for \(context.method) \(context.path)")
            return MHD_Result.NO
        }
        defer { MHD_destroy_response(made) }
        for (name, value) in response.headers {
            _ = MHD_add_response_header(made, name, value)
        }
        logger.debug("\(context.method) \(context.path) \(response.status.code) \(ContinuousClock.now - context.started)")
        return MHD_queue_response(connection, UInt32(response.status.code), made)
    }

    // MARK: reading the request

    static func header(_ name: String, of connection: OpaquePointer) -> String? {
        MHD_lookup_connection_value(connection, .HEADER_KIND, name).map { String(cString: $0) }
    }

    static func headers(of connection: OpaquePointer) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in values(of: connection, kind: .HEADER_KIND) {
            headers.add(name, value)
        }
        return headers
    }

    static func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [(String, String)] {
        var pairs: [(String, String)] = []
        withUnsafeMutablePointer(to: &pairs) { pointer in
            _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
                guard let cls, let key else { return MHD_Result.YES }
                let pairs = cls.assumingMemoryBound(to: [(String, String)].self)
                pairs.pointee.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
                return MHD_Result.YES
            }, pointer)
        }
        return pairs
    }
}
