// `producer | lstore put … && lstore get … | consumer` for 1 GiB: byte-exact, with the lstore
// processes' peak memory (their own VmHWM, see PeakMemoryProbe) far below the size they move.
import Foundation
import Glibc
import Testing

@testable import LocalStorage

// Skipped without the trait: the binary then only says how to build it.
@Suite(.enabled(if: Lstore.available, Lstore.skipReason), .serialized)
struct PipelineTests {
    static let gibibyte = 1 << 30
    static let block = 1 << 20
    /// Peak RSS allowed to an lstore process moving 1 GiB: 1/16 of it.
    static let limitKiB = 64 * 1024

    /// The producer: 1 GiB of deterministic bytes (one pseudo-random 1 MiB block, each copy
    /// stamped with its index) written to `fd`, and their CRC-32C.
    private func produce(into fd: CInt) throws -> UInt32 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var block = [UInt64](repeating: 0, count: Self.block / 8)
        for index in block.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            block[index] = state
        }
        var checksum: UInt32 = 0
        for index in 0..<(Self.gibibyte / Self.block) {
            block[0] = UInt64(index)
            try block.withUnsafeBytes { bytes in
                checksum = CRC32C.checksum(bytes, continuing: checksum)
                var offset = 0
                while offset < bytes.count {
                    let written = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    try #require(written > 0, "the producer's write failed: errno \(errno)")
                    offset += written
                }
            }
        }
        return checksum
    }

    /// The consumer: reads `fd` to its end; the byte count and the CRC-32C of what came.
    private func consume(from fd: CInt) -> (bytes: Int, checksum: UInt32) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.block, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        var checksum: UInt32 = 0
        while true {
            let got = read(fd, buffer.baseAddress, buffer.count)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[..<got]), continuing: checksum)
            total += got
        }
        return (total, checksum)
    }

    @Test(.timeLimit(.minutes(10)))
    func oneGibibyteThroughPipesIsByteExactWithBoundedMemory() throws {
        let executable = try #require(Lstore.path)
        let directory = try TempDirectory()
        let root = directory.at("root")
        let errors = directory.at("stderr")
        let errorFD = open(errors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer {
            close(errorFD)
            close(devNull)
        }
        let clock = ContinuousClock()

        // producer | lstore put ROOT big data
        let into = try PipeEnds()
        let putStart = clock.now
        let put = try Child.spawn(executable, ["put", root, "big", "data"], stdin: into.read, stdout: devNull, stderr: errorFD)
        let putProbe = PeakMemoryProbe(put)
        close(into.read)
        let sent = try produce(into: into.write)
        close(into.write)
        let putPeakKiB = putProbe.finish()
        let putStatus = put.wait()
        let putTime = clock.now - putStart
        #expect(putStatus == 0, "lstore put: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")

        // lstore get ROOT big data | consumer
        let out = try PipeEnds()
        let getStart = clock.now
        let get = try Child.spawn(executable, ["get", root, "big", "data"], stdin: devNull, stdout: out.write, stderr: errorFD)
        let getProbe = PeakMemoryProbe(get)
        close(out.write)
        let received = consume(from: out.read)
        close(out.read)
        let getPeakKiB = getProbe.finish()
        let getStatus = get.wait()
        let getTime = clock.now - getStart
        #expect(getStatus == 0, "lstore get: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")

        #expect(received.bytes == Self.gibibyte)
        #expect(received.checksum == sent, "the bytes that came out are not the bytes that went in")
        print("1 GiB pipeline: put \(putTime) (peak RSS \(putPeakKiB) KiB), get \(getTime) (peak RSS \(getPeakKiB) KiB)")
        #expect(putPeakKiB > 0 && getPeakKiB > 0, "no VmHWM could be read from /proc")
        #expect(putPeakKiB < Self.limitKiB, "lstore put's peak RSS: \(putPeakKiB) KiB")
        #expect(getPeakKiB < Self.limitKiB, "lstore get's peak RSS: \(getPeakKiB) KiB")
    }

    /// The control: a process that holds 100 MB of its input must show, or the probe above
    /// proves nothing.
    @Test func theProbeSeesMemoryHeld() throws {
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let holder = try Child.spawn(
            "/bin/sh", ["-c", "data=$(head -c 100000000 /dev/zero | tr '\\0' a); sleep 0.2; echo ${#data} >/dev/null"],
            stdin: devNull, stdout: devNull, stderr: devNull)
        let peak = PeakMemoryProbe(holder).finish()
        #expect(holder.wait() == 0)
        #expect(peak > 90 * 1024, "the probe saw \(peak) KiB for 100 MB held")
    }
}
