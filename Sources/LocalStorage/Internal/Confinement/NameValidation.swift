import Glibc

/// Prefix of every name the engine keeps for itself: temp files (`.ls-tmp-`), its metadata
/// directory (`.ls-meta`). Names and context components may not start with it, so nothing the
/// engine writes can collide with a stored name, and listing and cleanup can tell them apart.
let reservedNamePrefix = ".ls-"

/// Prefix of the engine's temp files.
let reservedTempPrefix = ".ls-tmp-"

/// Why a name or context was rejected before any syscall.
enum NameProblem: Error, Sendable, Equatable {
    case empty, dot, dotDot, containsSlash, containsNUL, tooLong, absoluteContext, reservedPrefix

    var explanation: String {
        switch self {
        case .empty: "is empty"
        case .dot: "is '.'"
        case .dotDot: "is '..'"
        case .containsSlash: "contains '/'"
        case .containsNUL: "contains a NUL byte"
        case .tooLong: "is longer than NAME_MAX (255 bytes)"
        case .absoluteContext: "is an absolute path"
        case .reservedPrefix: "starts with '\(reservedNamePrefix)', which is reserved for the engine's own files"
        }
    }
}

/// A rejected context: the problem and, where it concerns one component, which one.
struct ContextProblem: Error, Sendable, Equatable {
    var problem: NameProblem
    /// 1-based position of the offending component, and how many there are.
    var component: (position: Int, count: Int)?

    static func == (a: ContextProblem, b: ContextProblem) -> Bool {
        a.problem == b.problem && a.component?.position == b.component?.position && a.component?.count == b.component?.count
    }
}

/// A validated name in a validated context: the context is `""` (the root) or components
/// joined by single `/`, with none empty, `.`, `..` or reserved.
struct Target {
    let context: String
    let name: String

    /// The path beneath the root (for messages: the syscalls get `withRelativePath`).
    var relativePath: String { context.isEmpty ? name : context + "/" + name }

    /// Calls `body` with the path beneath the root, NUL-terminated, and its length: built in a
    /// stack buffer when it is short, without a String in between.
    func withRelativePath<R>(
        _ body: (UnsafePointer<CChar>, Int) throws(SyscallError) -> R
    ) throws(SyscallError) -> R {
        if context.isEmpty { return try withCString(name) { path throws(SyscallError) in try body(path, name.utf8.count) } }
        return try withUTF8Bytes(context) { contextBytes throws(SyscallError) in
            try withUTF8Bytes(name) { nameBytes throws(SyscallError) in
                let length = contextBytes.count + 1 + nameBytes.count
                return try withTemporaryCString(capacity: length + 1) { buffer throws(SyscallError) in
                    let raw = UnsafeMutableRawPointer(buffer)
                    if let base = contextBytes.baseAddress { raw.copyMemory(from: base, byteCount: contextBytes.count) }
                    raw.storeBytes(of: UInt8(ascii: "/"), toByteOffset: contextBytes.count, as: UInt8.self)
                    if let base = nameBytes.baseAddress {
                        (raw + contextBytes.count + 1).copyMemory(from: base, byteCount: nameBytes.count)
                    }
                    raw.storeBytes(of: 0, toByteOffset: length, as: UInt8.self)
                    return try body(buffer, length)
                }
            }
        }
    }
}

/// Calls `body` with the UTF-8 bytes of `string`: in place for a native string (small ones are
/// copied to the stack by the standard library), through a copy otherwise (a bridged string).
@inline(__always)
func withUTF8Bytes<R>(
    _ string: String, _ body: (UnsafeBufferPointer<UInt8>) throws(SyscallError) -> R
) throws(SyscallError) -> R {
    let result: Result<R, SyscallError>? = string.utf8.withContiguousStorageIfAvailable { bytes in
        do throws(SyscallError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    if let result { return try result.get() }
    let copy = Array(string.utf8)
    let copied: Result<R, SyscallError> = copy.withUnsafeBufferPointer { bytes in
        do throws(SyscallError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try copied.get()
}

/// Calls `body` with an uninitialized buffer of `capacity` CChars: on the stack when small (the
/// standard library decides), on the heap otherwise.
@inline(__always)
func withTemporaryCString<R>(
    capacity: Int, _ body: (UnsafeMutablePointer<CChar>) throws(SyscallError) -> R
) throws(SyscallError) -> R {
    let result: Result<R, SyscallError> = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
        guard let base = buffer.baseAddress else { return .failure(SyscallError(syscall: .openat, errno: .invalidArgument)) }
        do throws(SyscallError) { return .success(try body(base)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Checks one path component: not empty, `.` or `..`, no `/` or NUL, at most NAME_MAX bytes,
/// not reserved.
func componentProblem(_ component: UnsafeBufferPointer<UInt8>) -> NameProblem? {
    let count = component.count
    if count == 0 { return .empty }
    if count > Int(NAME_MAX) { return .tooLong }
    var dots = 0
    for byte in component {
        if byte == UInt8(ascii: "/") { return .containsSlash }
        if byte == 0 { return .containsNUL }
        if byte == UInt8(ascii: ".") { dots += 1 }
    }
    if dots == count && count <= 2 { return count == 1 ? .dot : .dotDot }
    // The reserved prefix, ".ls-", compared byte by byte.
    if count >= 4 && component[0] == UInt8(ascii: ".") && component[1] == UInt8(ascii: "l")
        && component[2] == UInt8(ascii: "s") && component[3] == UInt8(ascii: "-")
    {
        return .reservedPrefix
    }
    return nil
}

/// Validates a stored file's on-disk name, on its bytes in place.
func fileNameProblem(_ name: String) -> NameProblem? {
    // The outer optional says whether the bytes were contiguous; the inner one is the answer.
    if let checked = name.utf8.withContiguousStorageIfAvailable({ componentProblem($0) }) { return checked }
    return Array(name.utf8).withUnsafeBufferPointer { componentProblem($0) }
}

/// Validates a context; `""` is the root itself. Splits on the byte, not the Character: a `/`
/// followed by a combining mark is one grapheme with it, and would hide the separator.
func contextProblem(_ context: String) -> ContextProblem? {
    if context.isEmpty { return nil }
    if let checked = context.utf8.withContiguousStorageIfAvailable({ contextProblem(bytes: $0) }) { return checked }
    return Array(context.utf8).withUnsafeBufferPointer { contextProblem(bytes: $0) }
}

/// `contextProblem` on the context's bytes.
private func contextProblem(bytes: UnsafeBufferPointer<UInt8>) -> ContextProblem? {
    if bytes.isEmpty { return nil }
    if bytes[0] == UInt8(ascii: "/") { return ContextProblem(problem: .absoluteContext) }
    let slash = UInt8(ascii: "/")
    var position = 0
    var problem: (NameProblem, Int)?
    var start = 0
    while true {
        position += 1
        var end = start
        while end < bytes.count && bytes[end] != slash { end += 1 }
        if problem == nil, let found = componentProblem(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
            problem = (found, position)
        }
        if end == bytes.count { break }
        start = end + 1
    }
    guard let (found, at) = problem else { return nil }
    return ContextProblem(problem: found, component: (at, position))
}
