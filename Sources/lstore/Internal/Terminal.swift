import Glibc

// Writing to the standard descriptors directly (no stdio buffer to mix with the library's
// kernel-side writes to standard output), whole, retrying EINTR.

enum Terminal {
    /// Writes all of `text` to `fd`; a failure (a closed descriptor, a full disk) is ignored:
    /// the caller has nowhere better to report it.
    static func write(_ text: String, to fd: CInt) {
        var text = text
        text.withUTF8 { bytes in
            guard var base = bytes.baseAddress.map(UnsafeRawPointer.init) else { return }
            var left = bytes.count
            while left > 0 {
                let written = Glibc.write(fd, base, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                base += written
                left -= written
            }
        }
    }

    /// Writes `line` and a newline to standard output.
    static func output(_ line: String) { write(line + "\n", to: STDOUT_FILENO) }

    /// Reports an error as one line on standard error: `lstore: <message>` (line breaks in the
    /// message become spaces).
    static func error(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        write("lstore: \(oneLine)\n", to: STDERR_FILENO)
    }

    /// Whether standard error is a terminal: progress is shown only there.
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// The width of the terminal on standard error, or 80.
    static var width: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
