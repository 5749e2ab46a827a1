/// Typed reads of a JSON object's members, with errors a client can act on.
///
/// `try JSONFields(body).int("pid")` either returns the integer or throws
/// `JSONFieldError` "field 'pid' must be an integer, got a string" (mapped to 400 by the server).
/// A member that is `null` counts as absent, so optional fields may be sent as `null` or left out.
/// Nested objects keep their path in messages: `try body.object("jumpTable").string("lib")` reports
/// "field 'jumpTable.lib' …".
public struct JSONFields: Sendable {
    public let object: JSONObject
    /// Dotted path of this object inside the document; empty for the root.
    public let path: String

    public init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// Wraps `value`, which must be an object.
    public init(_ value: JSONValue, path: String = "") throws(JSONFieldError) {
        guard case .object(let object) = value else {
            throw JSONFieldError(field: path, problem: .wrongType(expected: "an object", got: value.typeName))
        }
        self.init(object, path: path)
    }

    /// The member, or `nil` when it is missing or `null`.
    public func value(_ name: String) -> JSONValue? {
        guard let value = object[name], !value.isNull else { return nil }
        return value
    }

    // MARK: required members

    public func string(_ name: String) throws(JSONFieldError) -> String {
        try require(name, optionalString(name))
    }

    /// A string that must not be empty (names, ids).
    public func nonEmptyString(_ name: String) throws(JSONFieldError) -> String {
        let text = try string(name)
        guard !text.isEmpty else { throw JSONFieldError(field: fieldPath(name), problem: .invalid("must not be empty")) }
        return text
    }

    public func int(_ name: String) throws(JSONFieldError) -> Int64 {
        try require(name, optionalInt(name))
    }

    /// An integer that must fit `type` (e.g. `Int32` for a pid, `UInt64` for an id ≥ 0).
    public func int<Integer: FixedWidthInteger>(_ name: String, as type: Integer.Type) throws(JSONFieldError) -> Integer {
        try require(name, optionalInt(name, as: type))
    }

    public func double(_ name: String) throws(JSONFieldError) -> Double {
        try require(name, optionalDouble(name))
    }

    public func bool(_ name: String) throws(JSONFieldError) -> Bool {
        try require(name, optionalBool(name))
    }

    public func array(_ name: String) throws(JSONFieldError) -> [JSONValue] {
        try require(name, optionalArray(name))
    }

    public func object(_ name: String) throws(JSONFieldError) -> JSONFields {
        try require(name, optionalObject(name))
    }

    /// An address written as a `"0x…"` hex string (addresses exceed what JSON numbers carry).
    public func hexAddress(_ name: String) throws(JSONFieldError) -> UInt64 {
        try require(name, optionalHexAddress(name))
    }

    /// A string that must be one of `allowed` (an enum's raw values, e.g. "applied" / "failed").
    public func oneOf(_ name: String, _ allowed: [String]) throws(JSONFieldError) -> String {
        let text = try string(name)
        guard allowed.contains(text) else {
            let list = allowed.map { "'\($0)'" }.joined(separator: ", ")
            throw JSONFieldError(field: fieldPath(name), problem: .invalid("must be one of \(list), got '\(text)'"))
        }
        return text
    }

    // MARK: optional members

    public func optionalString(_ name: String) throws(JSONFieldError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw wrongType(name, "a string", value) }
        return text
    }

    /// An integer member. `3798.0` and `1e3` count: JSON Schema's `integer` is any number with a
    /// zero fractional part, and some encoders write every number with a fraction.
    public func optionalInt(_ name: String) throws(JSONFieldError) -> Int64? {
        guard let value = value(name) else { return nil }
        switch value {
        case .int(let number):
            return number
        case .double(let number) where number.rounded(.towardZero) == number:
            guard let exact = Int64(exactly: number) else {
                throw JSONFieldError(
                    field: fieldPath(name),
                    problem: .invalid("must be between \(Int64.min) and \(Int64.max), got \(number)"))
            }
            return exact
        default:
            throw wrongType(name, "an integer", value)
        }
    }

    public func optionalInt<Integer: FixedWidthInteger>(_ name: String, as type: Integer.Type) throws(JSONFieldError) -> Integer? {
        guard let number = try optionalInt(name) else { return nil }
        guard let exact = Integer(exactly: number) else {
            throw JSONFieldError(
                field: fieldPath(name),
                problem: .invalid("must be between \(Integer.min) and \(Integer.max), got \(number)")
            )
        }
        return exact
    }

    public func optionalDouble(_ name: String) throws(JSONFieldError) -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.doubleValue else { throw wrongType(name, "a number", value) }
        return number
    }

    public func optionalBool(_ name: String) throws(JSONFieldError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(name, "a boolean", value) }
        return flag
    }

    public func optionalArray(_ name: String) throws(JSONFieldError) -> [JSONValue]? {
        guard let value = value(name) else { return nil }
        guard case .array(let elements) = value else { throw wrongType(name, "an array", value) }
        return elements
    }

    public func optionalObject(_ name: String) throws(JSONFieldError) -> JSONFields? {
        guard let value = value(name) else { return nil }
        guard case .object(let members) = value else { throw wrongType(name, "an object", value) }
        return JSONFields(members, path: fieldPath(name))
    }

    public func optionalHexAddress(_ name: String) throws(JSONFieldError) -> UInt64? {
        guard let text = try optionalString(name) else { return nil }
        // `0x`/`0X` and 1–16 ASCII hex digits, exactly (`UInt64(_:radix:)` alone would take a sign).
        let digits = text.utf8.dropFirst(2)
        let isHex = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
        guard text.hasPrefix("0x") || text.hasPrefix("0X"), (1...16).contains(digits.count), digits.allSatisfy(isHex),
              let address = UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
        else {
            throw JSONFieldError(
                field: fieldPath(name),
                problem: .invalid("must be a hex address string such as \"0x55d0c0a01234\", got '\(text)'")
            )
        }
        return address
    }

    // MARK: helpers

    /// The dotted path of member `name`, as shown in error messages.
    public func fieldPath(_ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }

    private func require<Value>(_ name: String, _ value: Value?) throws(JSONFieldError) -> Value {
        guard let value else { throw JSONFieldError(field: fieldPath(name), problem: .missing) }
        return value
    }

    private func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> JSONFieldError {
        JSONFieldError(field: fieldPath(name), problem: .wrongType(expected: expected, got: value.typeName))
    }
}

/// A JSON member that is missing, of the wrong type, or out of range.
public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the member.
    public enum Problem: Sendable, Equatable {
        case missing
        case wrongType(expected: String, got: String)
        case invalid(String)
    }

    /// Dotted path of the member (`"jumpTable.lib"`); empty for the document itself.
    public let field: String
    public let problem: Problem

    public init(field: String, problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String {
        let subject = field.isEmpty ? "the request body" : "field '\(field)'"
        switch problem {
        case .missing:
            return "\(subject) is required"
        case .wrongType(let expected, let got):
            return "\(subject) must be \(expected), got \(got)"
        case .invalid(let explanation):
            return "\(subject) \(explanation)"
        }
    }
}
