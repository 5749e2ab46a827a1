// libFuzzer target: the JSON layer (jansson through JSONValue) on arbitrary bytes. A document that
// parses must serialize and parse back to the same value, and every typed field read on it must
// either answer or throw JSONFieldError.
import FuzzDriver
import HTTP

runFuzzer { bytes in
    guard let value = try? JSONValue.parse(bytes) else { return }
    let text = value.serialized()
    do {
        let again = try JSONValue.parse(text)
        fuzzCheck(again == value, "round trip changed the value: \(String(decoding: text, as: UTF8.self))")
    } catch {
        fuzzCheck(false, "our own serialization does not parse: \(error) in \(String(decoding: text, as: UTF8.self))")
    }
    guard case .object(let object) = value else { return }
    let fields = JSONFields(object)
    for key in object.keys {
        _ = try? fields.string(key)
        _ = try? fields.nonEmptyString(key)
        _ = try? fields.int(key)
        _ = try? fields.int(key, as: Int32.self)
        _ = try? fields.int(key, as: UInt64.self)
        _ = try? fields.double(key)
        _ = try? fields.bool(key)
        _ = try? fields.hexAddress(key)
        _ = try? fields.oneOf(key, ["ok", "failed"])
        if let nested = try? fields.object(key) { _ = nested.object.keys.map { nested.fieldPath($0) } }
        _ = try? fields.array(key)
    }
}
