import CJansson
import CMicroHTTPD
import Testing

/// Proves that both C dependencies are found through pkg-config, link, and answer at run time.
@Suite struct CDependencyLinkTests {
    @Test func libmicrohttpdReportsItsVersion() throws {
        let version = String(cString: try #require(MHD_get_version()))
        // Debian 12 ships 0.9.75; anything 0.9.x or later has the APIs the server uses.
        #expect(version.split(separator: ".").count >= 3, "unexpected version \(version)")
        #expect(version.hasPrefix("0.9.") || version.hasPrefix("1."))
    }

    @Test func janssonReportsItsVersionAndRoundTripsJSON() throws {
        let version = String(cString: jansson_version_str())
        #expect(version.hasPrefix("2."), "unexpected jansson version \(version)")

        var error = json_error_t()
        let text = #"{"answer": 42}"#
        let root = try #require(json_loads(text, 0, &error))
        defer { json_decref(root) }
        let answer = json_object_get(root, "answer")
        #expect(json_integer_value(answer) == 42)
    }
}
