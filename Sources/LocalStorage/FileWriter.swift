import Foundation
import Glibc

/// Writes one file's content in chunks, for producers that generate data piece by piece.
///
/// Get one from ``LocalStorage/withFileWriter(fileName:context:_:)-(_,_,(FileWriter)->R)``; it is
/// valid only inside that closure. Small writes are gathered in a 256 KiB buffer; large ones go
/// straight to the kernel. Nothing is visible under the name until the closure returns, and then
/// all of it at once.
public final class FileWriter {
    private let fd: CInt
    private let buffer: UnsafeMutableRawPointer
    private var buffered = 0
    private var isOpen = true
    /// The first write failure: from then on the writer is failed and commits nothing.
    private var failure: LocalStorageError?
    private let describe: (SyscallError) -> LocalStorageError

    /// Bytes accepted so far.
    public private(set) var bytesWritten = 0

    static let bufferCapacity = 256 * 1024

    init(fd: CInt, describe: @escaping (SyscallError) -> LocalStorageError) {
        self.fd = fd
        self.describe = describe
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: FileWriter.bufferCapacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Appends raw bytes.
    /// - Parameter bytes: The bytes to append.
    /// - Throws: `LocalStorageError` (`.noSpace`, `.ioError`, ...); after a failure every later
    ///   write throws that failure again (what was written is unknown, so nothing will be
    ///   stored); `.closed` if the writer's scope has ended.
    public func write(contentsOf bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else {
            throw LocalStorageError(code: .closed, operation: .upload, message: "the FileWriter was used after its closure returned")
        }
        if let failure { throw failure }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        do {
            if buffered + bytes.count <= FileWriter.bufferCapacity {
                buffer.advanced(by: buffered).copyMemory(from: base, byteCount: bytes.count)
                buffered += bytes.count
            } else {
                try flushBuffer()
                if bytes.count >= FileWriter.bufferCapacity {
                    try writeAll(fd, base, bytes.count)
                } else {
                    buffer.copyMemory(from: base, byteCount: bytes.count)
                    buffered = bytes.count
                }
            }
        } catch {
            let described = describe(error)
            failure = described
            throw described
        }
        bytesWritten += bytes.count
    }

    /// Appends the bytes of `data`.
    /// - Parameter data: The bytes to append.
    /// - Throws: As ``write(contentsOf:)``.
    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write(contentsOf: $0) } }

    /// Appends `bytes`.
    /// - Parameter bytes: The bytes to append.
    /// - Throws: As ``write(contentsOf:)``.
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write(contentsOf: $0) } }

    /// Appends the UTF-8 bytes of `string`.
    /// - Parameter string: The string whose UTF-8 bytes to append.
    /// - Throws: As ``write(contentsOf:)``.
    public func write(_ string: String) throws {
        var string = string
        try string.withUTF8 { try write(contentsOf: UnsafeRawBufferPointer($0)) }
    }

    private func flushBuffer() throws(SyscallError) {
        guard buffered > 0 else { return }
        try writeAll(fd, buffer, buffered)
        buffered = 0
    }

    /// Called by `withFileWriter` when the closure returns: pushes out the buffer and closes the
    /// writer to further use; throws the first failure of a failed writer, so nothing is
    /// committed.
    func finish() throws {
        defer { isOpen = false }
        if let failure { throw failure }
        do {
            try flushBuffer()
        } catch {
            failure = describe(error)
            throw describe(error)
        }
    }

    func invalidate() { isOpen = false }
}
