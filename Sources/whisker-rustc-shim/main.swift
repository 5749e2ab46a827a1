import Foundation
import Hotpatch

// RUSTC_WORKSPACE_WRAPPER: record the rustc call into $WHISKER_CAPTURE_DIR, then exec the real rustc.
Shim.runRustcShim(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
