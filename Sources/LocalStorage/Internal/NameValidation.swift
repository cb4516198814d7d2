import Glibc

/// Prefix of the engine's temp files. User names may not start with it, so a temp file can never
/// collide with a stored name, and `listStoredFiles` and orphan cleanup can tell them apart.
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
        case .reservedPrefix: "starts with the reserved temp-file prefix '\(reservedTempPrefix)'"
        }
    }
}

/// Checks one path component: not empty, `.` or `..`, no `/` or NUL, at most NAME_MAX bytes.
func componentProblem(_ component: Substring.UTF8View) -> NameProblem? {
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
    return nil
}

/// Validates a stored file's on-disk name.
func fileNameProblem(_ name: String) -> NameProblem? {
    if let problem = componentProblem(Substring(name).utf8) { return problem }
    if name.utf8.starts(with: reservedTempPrefix.utf8) { return .reservedPrefix }
    return nil
}

/// Splits a context into its components; `""` is the root itself.
func contextComponents(_ context: String) -> Result<[Substring], NameProblem> {
    if context.isEmpty { return .success([]) }
    if context.utf8.first == UInt8(ascii: "/") { return .failure(.absoluteContext) }
    // Split on the byte, not the Character: a "/" followed by a combining mark (or preceded by a
    // prepend character) is one grapheme with it, and would hide the separator.
    let parts = context.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
    for part in parts {
        if let problem = componentProblem(part.utf8) { return .failure(problem) }
    }
    return .success(parts)
}
