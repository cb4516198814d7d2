import Foundation
import Glibc
import Synchronization

/// A status line on standard error for work that may take long: drawn only when standard
/// error is a terminal and `--quiet` was not given, first after one second (short work shows
/// nothing), then five times a second from a thread of its own; erased when the work ends.
final class ProgressLine: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let active: Bool
    private let stopped = Atomic<Bool>(false)
    /// Whether the line is on the screen; held while writing to standard error.
    private let drawn = Mutex(false)

    /// Whether progress is shown at all for this run.
    static func enabled(quiet: Bool) -> Bool { !quiet && Terminal.standardErrorIsTerminal }

    /// Starts the line; `render` gets the seconds elapsed and the terminal width, and returns
    /// the text to show (it is called on the line's own thread).
    init(enabled: Bool, delay: Double = 1, render: @escaping @Sendable (_ elapsed: Double, _ width: Int) -> String) {
        active = enabled
        guard enabled else { return }
        let start = DispatchTime.now()
        let thread = Thread { [self] in
            var wait = delay
            while finished.wait(timeout: .now() + wait) == .timedOut {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
                let width = Terminal.width
                let text = render(elapsed, width)
                drawn.withLock { drawn in
                    Terminal.write("\r" + String(text.prefix(max(1, width - 1))) + "\u{1B}[K", to: STDERR_FILENO)
                    drawn = true
                }
                wait = 0.2
            }
            erase()
            done.signal()
        }
        thread.start()
    }

    /// Writes `text` to `fd` with the line erased first (it comes back at the next redraw), so
    /// that the two do not mix on a terminal.
    func interject(_ text: String, to fd: CInt) {
        guard active else { return Terminal.write(text, to: fd) }
        drawn.withLock { drawn in
            if drawn { Terminal.write("\r\u{1B}[K", to: STDERR_FILENO) }
            drawn = false
            Terminal.write(text, to: fd)
        }
    }

    /// Stops the line and erases it; returns once it is gone, so that what the caller prints
    /// next does not mix with it. Later calls do nothing.
    func finish() {
        guard active, !stopped.exchange(true, ordering: .relaxed) else { return }
        finished.signal()
        done.wait()
    }

    private func erase() {
        drawn.withLock { drawn in
            if drawn { Terminal.write("\r\u{1B}[K", to: STDERR_FILENO) }
            drawn = false
        }
    }
}

/// A count shared between the thread doing the work and the progress line.
final class Counter: Sendable {
    private let value = Atomic<Int64>(0)
    func add(_ amount: Int64) { value.add(amount, ordering: .relaxed) }
    func set(_ amount: Int64) { value.store(amount, ordering: .relaxed) }
    var current: Int64 { value.load(ordering: .relaxed) }
}

/// The text of a transfer's line: "label [=====>    ]  45%  1.2 GiB / 2.0 GiB  350.0 MiB/s"
/// when the total is known, "label  1.2 GiB  350.0 MiB/s" when it is not; fitted to `width`.
func transferLine(label: String, done: Int64, total: Int64?, elapsed: Double, width: Int) -> String {
    let rate = elapsed > 0 ? formatBytes(Int64(Double(done) / elapsed)) + "/s" : ""
    guard let total, total > 0 else {
        return "\(label)  \(formatBytes(done))  \(rate)"
    }
    let fraction = min(1, max(0, Double(done) / Double(total)))
    let percent = Int(fraction * 100)
    let figures =
        " \(String(repeating: " ", count: max(0, 3 - String(percent).count)))\(percent)%  "
        + "\(formatBytes(done)) / \(formatBytes(total))  \(rate)"
    let barWidth = min(40, width - 1 - label.count - figures.count - 3)
    guard barWidth >= 5 else { return "\(label)\(figures)" }
    let filled = Int(fraction * Double(barWidth))
    let bar =
        String(repeating: "=", count: filled) + (filled < barWidth ? ">" : "")
        + String(repeating: " ", count: max(0, barWidth - filled - 1))
    return "\(label) [\(bar)]\(figures)"
}

/// The text of a scan's line: "label  1234 files  5.6 GiB  (12s)".
func scanLine(label: String, files: Int64, bytes: Int64?, elapsed: Double) -> String {
    var text = "\(label)  \(files) file\(files == 1 ? "" : "s")"
    if let bytes { text += "  \(formatBytes(bytes))" }
    return text + "  (\(Int(elapsed))s)"
}
