import DevServer
import HTTP
import Foundation
import Testing

/// The jansson-backed JSON layer: parsing, errors with positions, serialization, typed fields.
@Suite struct JSONValueTests {
    @Test func parsesEveryKindAndKeepsIntegersApartFromReals() throws {
        let value = try JSONValue.parse(#"{"n": null, "t": true, "f": false, "i": -42, "r": 1.5, "e": 1.0, "s": "hé\n", "a": [1, [2]], "o": {"k": "v"}}"#)
        #expect(value["n"] == .null)
        #expect(value["t"] == true)
        #expect(value["f"] == false)
        #expect(value["i"] == .int(-42))
        #expect(value["r"] == .double(1.5))
        #expect(value["e"] == .double(1.0))
        #expect(value["s"] == "hé\n")
        #expect(value["a"]?[1]?[0] == 2)
        #expect(value["o"]?["k"] == "v")
        #expect(value["missing"] == nil)
    }

    @Test func int64ExtremesRoundTripAndBeyondIsAnError() throws {
        let value = try JSONValue.parse("[9223372036854775807, -9223372036854775808]")
        #expect(value == [.int(.max), .int(.min)])
        #expect(value.jsonText == "[9223372036854775807,-9223372036854775808]")
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[9223372036854775808]") }
    }

    @Test func objectsKeepInsertionOrderWhenSerialized() throws {
        var object = JSONObject()
        object["zeta"] = 1
        object["alpha"] = 2
        object["mid"] = 3
        #expect(JSONValue.object(object).jsonText == #"{"zeta":1,"alpha":2,"mid":3}"#)
        let parsed = try JSONValue.parse(#"{"b": 1, "a": 2, "c": 3}"#)
        #expect(parsed.objectValue?.keys == ["b", "a", "c"])
        #expect(parsed.jsonText == #"{"b":1,"a":2,"c":3}"#)
        object["alpha"] = nil
        #expect(object.keys == ["zeta", "mid"])
    }

    @Test func duplicateKeysAreRejectedWithTheirPosition() throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONValue.parse("{\n  \"pid\": 1,\n  \"pid\": 2\n}")
        }
        #expect(error.line == 3)
        #expect(error.reason.contains("duplicate"))
        #expect(error.description.contains("line 3"))
    }

    @Test(arguments: [
        ("", 1),
        ("{", 1),
        ("[1, 2,]", 1),
        ("{\"a\": 1} trailing", 1),
        ("{\"a\":\n\n  nope}", 3),
        ("'single'", 1),
    ])
    func syntaxErrorsCarryLineAndColumn(text: String, line: Int) throws {
        let error = try #require(throws: JSONParseError.self) { try JSONValue.parse(text) }
        #expect(error.line == line, "\(error)")
        #expect(!error.reason.isEmpty)
    }

    @Test func invalidUTF8IsRejectedNotRepaired() throws {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
        let overlong: [UInt8] = [0x22, 0xC0, 0xAF, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue.parse(overlong) }
    }

    @Test func nestingBeyondJanssonsLimitIsAnErrorNotACrash() throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try JSONValue.parse(fine).arrayValue?.count == 1)
    }

    @Test func stringsWithEscapesNULAndAstralCharactersRoundTrip() throws {
        let text = "quote \" backslash \\ tab \t nul \u{0} bell \u{7} emoji 🐈 e\u{301}"
        let value = JSONValue.string(text)
        let serialized = value.jsonText
        #expect(!serialized.contains("\t"))
        #expect(serialized.contains("\\u0000"))
        #expect(try JSONValue.parse(serialized) == value)
        #expect(try JSONValue.parse(#"{"k": "a\u0000b"}"#)["k"] == "a\u{0}b")
        // jansson cannot hold NUL in object keys; that is a parse error, not a truncated key.
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"k\u0000ey": 1}"#) }
    }

    @Test func nonFiniteDoublesSerializeAsNull() {
        let value: JSONValue = [.double(.nan), .double(.infinity), .double(-.infinity), 0.25]
        #expect(value.jsonText == "[null,null,null,0.25]")
    }

    @Test func doublesRoundTripExactly() throws {
        for number in [0.1, 1e300, -2.5e-308, 123456.789, Double.pi] {
            #expect(try JSONValue.parse(JSONValue.double(number).jsonText) == .double(number))
        }
    }

    @Test func topLevelScalarsParseAndSerialize() throws {
        #expect(try JSONValue.parse("42") == 42)
        #expect(try JSONValue.parse("\"x\"") == "x")
        #expect(try JSONValue.parse("null") == .null)
        #expect(JSONValue.string("x").jsonText == "\"x\"")
    }

    @Test func pythonReadsWhatWeWriteAndWeReadWhatPythonWrites() throws {
        let value: JSONValue = [
            "patchId": 3,
            "aslrReference": .hexAddress(0x55d0_c0a0_1234),
            "map": [[.hexAddress(0x55d0_c0a0_5670), .hexAddress(0x1a2b0)]],
            "ratio": 0.5,
            "name": "café 🐈 \"quoted\"",
            "ok": true,
            "none": nil,
        ]
        let script = """
        import json, sys
        data = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        assert data["map"][0][0] == "0x55d0c0a05670", data
        assert data["name"] == "caf\\u00e9 \\U0001F408 \\"quoted\\"", data
        data["python"] = [1, 2.5, None]
        sys.stdout.write(json.dumps(data, ensure_ascii=True))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(value.serialized()))
        try input.fileHandleForWriting.close()
        let echoed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        var expected = try #require(value.objectValue)
        expected["python"] = [1, 2.5, nil]
        #expect(try JSONValue.parse(Array(echoed)) == .object(expected))
    }
}

/// Typed field reads and the messages a client sees.
@Suite struct JSONFieldsTests {
    let body = try! JSONFields(JSONValue.parse(
        #"{"pid": 4242, "name": "counter", "big": 5000000000, "ratio": 2, "ok": true, "addr": "0x55D0c0a01234", "bad": "55d0", "tags": ["a"], "nested": {"lib": 7}, "gone": null, "state": "applied"}"#
    ))

    @Test func readsTypedValues() throws {
        #expect(try body.int("pid") == 4242)
        #expect(try body.int("pid", as: Int32.self) == 4242)
        #expect(try body.string("name") == "counter")
        #expect(try body.double("ratio") == 2)
        #expect(try body.bool("ok"))
        #expect(try body.hexAddress("addr") == 0x55d0_c0a0_1234)
        #expect(try body.array("tags") == ["a"])
        #expect(try body.optionalString("gone") == nil)
        #expect(try body.optionalInt("absent") == nil)
        #expect(try body.oneOf("state", ["applied", "failed"]) == "applied")
    }

    @Test(arguments: [
        ("pid-as-string", "field 'name' must be an integer, got a string"),
        ("missing", "field 'nope' is required"),
        ("null-is-missing", "field 'gone' is required"),
        ("range", "field 'big' must be between -2147483648 and 2147483647, got 5000000000"),
        ("nested", "field 'nested.lib' must be a string, got an integer"),
        ("hex", "field 'bad' must be a hex address string such as \"0x55d0c0a01234\", got '55d0'"),
        ("enum", "field 'state' must be one of 'queued', 'running', got 'applied'"),
    ])
    func errorsNameTheFieldAndTheProblem(kind: String, message: String) {
        let error: JSONFieldError? = {
            do {
                switch kind {
                case "pid-as-string": _ = try body.int("name")
                case "missing": _ = try body.string("nope")
                case "null-is-missing": _ = try body.string("gone")
                case "range": _ = try body.int("big", as: Int32.self)
                case "nested": _ = try body.object("nested").string("lib")
                case "hex": _ = try body.hexAddress("bad")
                default: _ = try body.oneOf("state", ["queued", "running"])
                }
                return nil
            } catch {
                return error as? JSONFieldError
            }
        }()
        #expect(error?.description == message)
    }

    @Test func integersMayBeWrittenWithAZeroFraction() throws {
        // JSON Schema's `integer` is any number whose fraction is zero; some encoders write 3.0.
        let fields = try JSONFields(JSONValue.parse(#"{"a": 3798.0, "b": 1e3, "c": 2.5, "d": 1e300, "e": -0.0}"#))
        #expect(try fields.int("a") == 3798)
        #expect(try fields.int("b", as: Int32.self) == 1000)
        #expect(try fields.int("e") == 0)
        #expect(throws: JSONFieldError(field: "c", problem: .wrongType(expected: "an integer", got: "a number"))) { try fields.int("c") }
        #expect(throws: JSONFieldError.self) { try fields.int("d") }
    }

    @Test(arguments: ["0x", "0x+1", "0x-1", "0x 1", "0x12345678901234567", "0xg1", "1234", "0x１２"])
    func hexAddressesAreExactlyZeroXAndOneToSixteenDigits(text: String) throws {
        let fields = JSONFields(["a": .string(text)] as JSONObject)
        #expect(throws: JSONFieldError.self) { try fields.hexAddress("a") }
    }

    @Test func hexAddressesTakeEitherCase() throws {
        let fields = JSONFields(["a": "0XfFfFfFfFfFfFfFfF", "b": "0x0"] as JSONObject)
        #expect(try fields.hexAddress("a") == UInt64.max)
        #expect(try fields.hexAddress("b") == 0)
    }

    @Test func nonObjectBodyIsReportedAsTheRequestBody() {
        #expect(throws: JSONFieldError(field: "", problem: .wrongType(expected: "an object", got: "an array"))) {
            try JSONFields(JSONValue.parse("[1]"))
        }
        let error = JSONFieldError(field: "", problem: .wrongType(expected: "an object", got: "an array"))
        #expect(error.description == "the request body must be an object, got an array")
    }
}
