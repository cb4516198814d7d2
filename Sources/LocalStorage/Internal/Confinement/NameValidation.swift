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

    /// The path beneath the root.
    var relativePath: String { context.isEmpty ? name : context + "/" + name }
}

/// Checks one path component: not empty, `.` or `..`, no `/` or NUL, at most NAME_MAX bytes,
/// not reserved.
func componentProblem<C: Collection<UInt8>>(_ component: C) -> NameProblem? {
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
    if component.starts(with: reservedNamePrefix.utf8) { return .reservedPrefix }
    return nil
}

/// Validates a stored file's on-disk name.
func fileNameProblem(_ name: String) -> NameProblem? {
    componentProblem(name.utf8)
}

/// Validates a context; `""` is the root itself. Splits on the byte, not the Character: a `/`
/// followed by a combining mark is one grapheme with it, and would hide the separator.
func contextProblem(_ context: String) -> ContextProblem? {
    let bytes = context.utf8
    if bytes.isEmpty { return nil }
    if bytes.first == UInt8(ascii: "/") { return ContextProblem(problem: .absoluteContext) }
    let slash = UInt8(ascii: "/")
    var position = 0
    var problem: (NameProblem, Int)?
    var start = bytes.startIndex
    while true {
        position += 1
        let end = bytes[start...].firstIndex(of: slash) ?? bytes.endIndex
        if problem == nil, let found = componentProblem(bytes[start..<end]) { problem = (found, position) }
        if end == bytes.endIndex { break }
        start = bytes.index(after: end)
    }
    guard let (found, at) = problem else { return nil }
    return ContextProblem(problem: found, component: (at, position))
}
