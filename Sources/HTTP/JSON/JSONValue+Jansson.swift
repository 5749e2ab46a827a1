import CJansson
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The only file that touches `json_t *`. Reference-count rules kept here:
// `json_loadb` and every `json_<type>()` constructor return a new reference we own;
// `json_object_setn_new` / `json_array_append_new` steal the value's reference, even on failure;
// `json_object_iter_value` and `json_array_get` borrow; everything we own is `json_decref`ed once.

extension JSONValue {
    /// Parses one JSON document (any top-level value).
    ///
    /// Duplicate keys are rejected (`JSON_REJECT_DUPLICATES`) because a request such as
    /// `{"pid": 1, "pid": 2}` has no single meaning. Invalid UTF-8, integers beyond `Int64` and
    /// nesting deeper than 2048 are rejected too. `\u0000` is accepted (`JSON_ALLOW_NUL`) so that
    /// every Swift string value survives a round trip;
    /// jansson cannot hold NUL in object keys, so such keys are a parse error.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        var error = json_error_t()
        let flags = Int(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
        let root: UnsafeMutablePointer<json_t>? = bytes.withContiguousStorageIfAvailable { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                json_loadb(chars.baseAddress, chars.count, flags, &error)
            }
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                json_loadb(chars.baseAddress, chars.count, flags, &error)
            }
        }
        guard let root else { throw JSONParseError(error) }
        defer { json_decref(root) }
        return JSONValue(borrowing: root)
    }

    /// Parses JSON text; see `parse(_:)` for what is rejected.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Compact JSON text (no spaces, no newlines), members in insertion order.
    ///
    /// Non-finite doubles (NaN, ±infinity) have no JSON spelling and are written as `null`,
    /// as JavaScript's `JSON.stringify` does.
    public func serialized() -> [UInt8] {
        let root = makeJansson()
        defer { json_decref(root) }
        guard let text = json_dumps(root, Int(JSON_COMPACT | JSON_ENCODE_ANY)) else {
            // json_dumps only fails on allocation failure for trees we built ourselves.
            preconditionFailure("jansson could not serialize a JSON value (out of memory)")
        }
        defer { free(text) }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }

    /// `serialized()` as a `String`.
    public var jsonText: String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// Copies a borrowed jansson value into Swift.
    private init(borrowing json: UnsafeMutablePointer<json_t>) {
        switch json.pointee.type {
        case JSON_OBJECT:
            var object = JSONObject()
            var iterator = json_object_iter(json)
            while let current = iterator {
                let keyLength = json_object_iter_key_len(current)
                let key = json_object_iter_key(current).map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: keyLength), as: UTF8.self)
                } ?? ""
                if let value = json_object_iter_value(current) {
                    object[key] = JSONValue(borrowing: value)
                }
                iterator = json_object_iter_next(json, current)
            }
            self = .object(object)
        case JSON_ARRAY:
            let count = json_array_size(json)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                if let element = json_array_get(json, index) {
                    elements.append(JSONValue(borrowing: element))
                }
            }
            self = .array(elements)
        case JSON_STRING:
            let length = json_string_length(json)
            let text = json_string_value(json).map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            self = .string(text ?? "")
        case JSON_INTEGER:
            self = .int(Int64(json_integer_value(json)))
        case JSON_REAL:
            self = .double(json_real_value(json))
        case JSON_TRUE:
            self = .bool(true)
        case JSON_FALSE:
            self = .bool(false)
        default:
            self = .null
        }
    }

    /// Builds a jansson tree; the caller owns the returned reference.
    private func makeJansson() -> UnsafeMutablePointer<json_t> {
        let made: UnsafeMutablePointer<json_t>?
        switch self {
        case .null:
            made = json_null()
        case .bool(let value):
            made = value ? json_true() : json_false()
        case .int(let value):
            made = json_integer(json_int_t(value))
        case .double(let value):
            made = value.isFinite ? json_real(value) : json_null()
        case .string(let value):
            // Swift strings are valid UTF-8, so json_stringn only fails when out of memory.
            made = withUTF8CString(value) { json_stringn($0, $1) }
        case .array(let elements):
            made = json_array()
            if let made {
                for element in elements {
                    _ = json_array_append_new(made, element.makeJansson())
                }
            }
        case .object(let object):
            made = json_object()
            if let made {
                for (key, value) in object {
                    let child = value.makeJansson()
                    _ = withUTF8CString(key) { json_object_setn_new(made, $0, $1, child) }
                }
            }
        }
        guard let made else {
            preconditionFailure("jansson could not allocate a JSON value (out of memory)")
        }
        return made
    }
}

extension JSONParseError {
    fileprivate init(_ error: json_error_t) {
        let reason = withUnsafeBytes(of: error.text) { raw in
            // The last byte of `text` holds jansson's error code, not part of the message.
            let chars = raw.prefix(Int(JSON_ERROR_TEXT_LENGTH) - 1)
            let end = chars.firstIndex(of: 0) ?? chars.endIndex
            return String(decoding: chars[..<end], as: UTF8.self)
        }
        self.init(
            reason: reason.isEmpty ? "invalid JSON" : reason,
            line: Int(error.line),
            column: Int(error.column),
            position: Int(error.position)
        )
    }
}

/// Hands jansson a string's UTF-8 bytes with their length (strings may contain NUL).
private func withUTF8CString<Result>(
    _ string: String,
    _ body: (UnsafePointer<CChar>, Int) -> Result
) -> Result {
    var string = string
    return string.withUTF8 { utf8 in
        utf8.withMemoryRebound(to: CChar.self) { chars in
            if let base = chars.baseAddress { return body(base, chars.count) }
            return body("", 0)
        }
    }
}
