// libFuzzer target: the request-body parsers of the API routes (SessionInputs+JSON.swift and the
// diff route's body), read exactly as the routes read them, and the query readers. The first byte
// picks the endpoint (`b`uilds, `p`atches, `d`evices, `a`cks, `l`ogs, diffs `x`, `q`uery; any
// other byte by its value); the rest is the body (or, for the queries, `name=value&…`). Whatever the
// input, a parser either produces its typed input or throws an error that the server's own error
// mapping turns into a 4xx `{"error":{"code","message"}}` — never a 500, never a crash.
import FuzzDriver
import HTTP
@testable import DevServer
@testable import Hotpatch

let mapping: ErrorMapping = {
    var mapping = ErrorMapping()
    mapping.add(SessionError.httpMapper)
    return mapping
}()

/// The body parsers, in the order of the selector letters.
let selectors = Array("bpdalxq".utf8)
let parsers: [(path: String, parse: (Request) throws -> Void)] = [
    ("/api/builds", { _ = try BuildRequest(try $0.jsonFields(emptyIsObject: true)) }),
    ("/api/patches", { _ = try PatchRequest(try $0.jsonFields(emptyIsObject: true)) }),
    ("/api/devices", { _ = try DeviceRegistration(try $0.jsonFields()) }),
    ("/api/devices/d1/acks", { _ = try DeviceAck(try $0.jsonFields()) }),
    ("/api/devices/d1/logs", { _ = try DeviceLogBatch(try $0.jsonFields()) }),
    ("/api/diffs", { request in
        let body = try request.jsonFields()
        _ = (try body.nonEmptyString("old"), try body.nonEmptyString("new"))
    }),
    ("/api/symbols", { request in
        // The query readers of the GET routes, on pairs split from the body.
        let query = request.query
        _ = try query.int("limit", in: 1...100_000)
        _ = try query.int("after")
        _ = try query.bool("wait")
        _ = try ProjectRoutes.optionalHex(request, "aslrReference")
    }),
]

func queryPairs(_ bytes: ArraySlice<UInt8>) -> QueryParameters {
    var query = QueryParameters()
    for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&", omittingEmptySubsequences: false) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        query.add(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
    return query
}

runFuzzer { bytes in
    guard let selector = bytes.first else { return }
    let parser = parsers[selectors.firstIndex(of: selector) ?? Int(selector) % parsers.count]
    let body = Array(bytes.dropFirst())
    let isQuery = parser.path == "/api/symbols"
    let request = Request(
        method: isQuery ? .get : .post, path: parser.path,
        query: isQuery ? queryPairs(body[...]) : QueryParameters(), body: isQuery ? [] : body,
        pathParameters: ["id": "d1"])
    do {
        try parser.parse(request)
    } catch {
        let response = mapping.response(for: error)
        fuzzCheck((400..<500).contains(response.status.code),
                  "\(parser.path): bad input answered \(response.status.code): \(error)")
        guard case .bytes(let text) = response.body, let json = try? JSONValue.parse(text),
              case .string(let code)? = json["error"]?["code"], !code.isEmpty,
              case .string? = json["error"]?["message"]
        else {
            fuzzCheck(false, "\(parser.path): the error body is not {\"error\":{\"code\",\"message\"}}")
            return
        }
    }
}
