import Foundation
import Hotpatch

// -Clinker: record the link into $WHISKER_CAPTURE_DIR, then exec $WHISKER_REAL_LINKER with $WHISKER_LINK_ARGS appended.
Shim.runLinkerShim(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
