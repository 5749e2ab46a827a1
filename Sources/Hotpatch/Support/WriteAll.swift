import Foundation

/// Writes all of `buffer` to `fd`, through short writes and `EINTR`; the `errno` of a failure,
/// nil on success.
/// The one write loop of the package (the shims' captures, atomic files, the CLI's output).
public func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < buffer.count {
        let written = write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += written
    }
    return nil
}
