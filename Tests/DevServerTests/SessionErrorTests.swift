@testable import DevServer
import ErrorModel
import HTTP
import Hotpatch
import ObjectFile
import Testing

/// `SessionError`: what the session reports, and the one table that makes it HTTP.
@Suite struct SessionErrorTests {
    struct ToolFailed: HotpatchError {
        var code = "link_failed"
        var message = "the linker failed\nld: undefined symbol: foo"
        var hint: String? = "see the diagnostics"
    }

    struct Unexpected: Error {}

    @Test(arguments: [
        (SessionError.Code.notFound, 404), (.conflict, 409), (.jobFinished, 409), (.invalidInput, 400),
        (.forbidden, 403), (.gone, 410), (.pipelineFailed, 422), (.shuttingDown, 503), (.internalError, 500),
        (.unreadableInput, 422), (.environment, 422), (.unsupported, 422),
    ] as [(SessionError.Code, Int)])
    func everyCodeHasItsStatus(code: SessionError.Code, status: Int) {
        #expect(SessionError(code, "some_failure", "it failed").httpError.status.code == status)
    }

    @Test func notFoundNamesTheKindAndTheId() {
        let error = SessionError.notFound("device", id: "d1").httpError
        #expect(error.status == .notFound)
        #expect(error.code == "device_not_found")
        #expect(error.message == "no device with id 'd1'")
    }

    @Test func pipelineErrorsKeepTheirCodeAndSplitOffTheToolOutput() {
        let error = SessionError(wrapping: ToolFailed())
        #expect(error.code == .pipelineFailed)
        #expect(error.identifier == "link_failed")
        #expect(error.message == "the linker failed")
        #expect(error.diagnostics == "ld: undefined symbol: foo")
        // Over HTTP the message is the pipeline's, whole.
        let http = error.httpError
        #expect(http.status == .unprocessableContent)
        #expect(http.message == ToolFailed().message)
        #expect(http.hint == "see the diagnostics")
    }

    @Test func anythingElseIsAnInternalErrorNamingTheBug() {
        let error = SessionError(wrapping: Unexpected())
        #expect(error.code == .internalError)
        let http = error.httpError
        #expect(http.status == .internalServerError)
        #expect(http.code == "internal_error")
        #expect(http.message == String(describing: Unexpected()))
        #expect(http.hint == "this is a bug in whisker-dev; the server log has details")
    }

    @Test func wrappingASessionErrorKeepsIt() {
        let error = SessionError(wrapping: SessionError.jobFinished("build", id: "b1", state: .failed))
        #expect(error.code == .jobFinished)
        #expect(error.identifier == "job_finished")
        #expect(error.message == "build b1 is already failed")
    }

    @Test func shuttingDownSaysWhatTheServerSaysOnShutdown() {
        let http = SessionError.shuttingDown.httpError
        #expect(http.status == HTTPError.shuttingDown.status)
        #expect(http.code == HTTPError.shuttingDown.code)
        #expect(http.message == HTTPError.shuttingDown.message)
        #expect(http.hint == HTTPError.shuttingDown.hint)
    }

    @Test func theMapperTakesOnlySessionErrors() {
        #expect(SessionError.httpMapper(SessionError.shuttingDown)?.status == .serviceUnavailable)
        #expect(SessionError.httpMapper(Unexpected()) == nil)
    }

    @Test func anyModulesErrorARouteLetThroughGetsItsKindsStatusNotA500() {
        let truncated = ObjectFileError(.truncated, path: "/tmp/app", what: "ELF header", expected: "64 bytes", found: "3 available")
        #expect(SessionError.httpMapper(truncated)?.status == .unprocessableContent)
        #expect(SessionError.httpMapper(truncated)?.code == "object_truncated")
        // The transport's own errors keep their status.
        #expect(SessionError.httpMapper(JSONFieldError(field: "pid", problem: .missing)) == nil)
        #expect(JSONFieldError(field: "pid", problem: .missing).errorKind == .invalidInput)
    }

    @Test func anUnreadableBinaryIsTheCallersInputNotOurBug() throws {
        let truncated = ObjectFileError(.truncated, path: "/tmp/app", offset: 64, what: "section header table", expected: "64 bytes", found: "12 available")
        let error = SessionError(wrapping: truncated)
        #expect(error.code == .unreadableInput && error.httpError.status == .unprocessableContent)
        #expect(error.identifier == "object_truncated")
        #expect(error.message == truncated.description)
        let missing = SessionError(wrapping: ObjectFileError(.cannotOpen, path: "/nope", what: "cannot open", found: "No such file or directory"))
        #expect(missing.httpError.status == .notFound && missing.identifier == "object_cannot_open")
    }

    @Test func aToolsOutputTravelsAsDiagnosticsNotInTheMessage() {
        let failed = ThinBuildError.rustcFailed(crate: "app", exitStatus: 1, diagnostics: "error[E0308]: mismatched types", command: "rustc …")
        #expect(!failed.message.contains("E0308"), "one line: \(failed.message)")
        #expect(failed.diagnostics == "error[E0308]: mismatched types")
        let error = SessionError(wrapping: failed)
        #expect(error.identifier == "compile_failed" && error.message == failed.message)
        #expect(error.diagnostics == failed.diagnostics)
        // Over HTTP the body's message carries the output after its first line, as it always has.
        #expect(error.httpError.message == "\(failed.message)\nerror[E0308]: mismatched types")
    }
}
