#if Benchmark
import Foundation

/// The memcpy baseline: the same bytes copied from one buffer to another that is already
/// mapped and touched, so it measures memory bandwidth alone — the bound on any put or get that
/// goes through the page cache.
final class MemcpyBaseline {
    private let destination: UnsafeMutableRawPointer
    private let capacity: Int

    /// A destination of `capacity` bytes, touched once so no page fault is timed.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        destination = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 4096)
        memset(destination, 0xa5, self.capacity)
    }

    deinit { destination.deallocate() }

    /// Copies `bytes` into the destination `times` times.
    func copy(_ bytes: Data, times: Int) {
        bytes.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            guard let base = source.baseAddress else { return }
            let count = min(source.count, capacity)
            for _ in 0..<times { memcpy(destination, base, count) }
        }
    }
}
#endif
