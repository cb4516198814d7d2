import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// The small-operation paths of issue 10: listings in byte order, temp names built in place,
/// paths built on the stack, names checked on their bytes.
@Suite struct SmallOperationTests {
    /// Names whose byte order and `String`'s `<` disagree (combining marks), names sharing their
    /// first 8 bytes (the sort compares those as one integer), names of every length around 8,
    /// and pseudo-random ones.
    static func awkwardNames() -> [String] {
        var names = [
            "f", "e\u{301}", "\u{e9}", "E", "a", "ab", "abcdefg", "abcdefgh", "abcdefgh0", "abcdefghi", "abcdefgg",
            "abcdefgi", "abcdefghij", "abcdefghiz", "abcdefghi0", "zz", "\u{3a9}", "\u{540d}\u{524d}", "~", "0", "Z",
        ]
        let alphabet = Array("abAB01-_.~xyz".utf8)
        let bytes = patternBytes(count: 400 * 21, seed: 10)
        for index in 0..<400 {
            let length = 1 + Int(bytes[index * 21]) % 20
            var name = (0..<length).map { alphabet[Int(bytes[index * 21 + 1 + $0]) % alphabet.count] }
            if name == Array(".".utf8) || name == Array("..".utf8) { name = Array("dots".utf8) }
            if name.starts(with: Array(".ls-".utf8)) { name[0] = UInt8(ascii: "_") }
            names.append(String(decoding: name, as: UTF8.self))
        }
        // Deduplicated by bytes: "e\u{301}" and "\u{e9}" are equal Strings but two files.
        var seen = Set<[UInt8]>()
        return names.filter { seen.insert(Array($0.utf8)).inserted }
    }

    @Test func listingsAreInUTF8ByteOrder() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let names = Self.awkwardNames()
        for name in names { try storage.uploadFile(file: Data(name.utf8), fileName: name, context: "c") }
        let expected = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let listed = try storage.listStoredFiles("c")
        #expect(listed.map { Array($0.utf8) } == expected.map { Array($0.utf8) })
        // The case where String's order differs: a combining mark sorts by its base letter's byte.
        func position(_ name: String) throws -> Int {
            try #require(listed.firstIndex { $0.utf8.elementsEqual(name.utf8) }, "\(name) not listed")
        }
        let decomposed = try position("e\u{301}")
        let f = try position("f")
        let precomposed = try position("\u{e9}")
        #expect(decomposed < f && f < precomposed)
        let infos = try storage.listStoredFileInfo("c")
        #expect(infos.map { Array($0.name.utf8) } == expected.map { Array($0.utf8) })
        // Each info is the one of its own file, not of a neighbour in scan order.
        for info in infos { #expect(info.size == Int64(info.name.utf8.count), "\(info.name)") }
    }

    @Test func tempNamesAreDistinctLowercaseHex() {
        let source = TempNameSource()
        var seen = Set<String>()
        let hex = Set("0123456789abcdef".utf8)
        for _ in 0..<10_000 {
            let name = source.next()
            #expect(name.hasPrefix(".ls-tmp-") && name.utf8.count == 24, "\(name)")
            #expect(name.utf8.dropFirst(8).allSatisfy { hex.contains($0) }, "\(name)")
            seen.insert(name)
        }
        #expect(seen.count == 10_000)
        // Another instance draws another key: its names are not the first one's.
        let other = TempNameSource()
        #expect(!seen.contains(other.next()))
    }

    /// A path longer than PATH_MAX is built on the heap and walked component by component; a
    /// short one on the stack and handed to openat2 whole. Both reach the same file.
    @Test(arguments: [1, 3, 24])
    func pathsOfEveryLengthResolve(components: Int) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let context = (0..<components).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0 % 26))), count: 200) + "\($0)" }
            .joined(separator: "/")
        try storage.uploadFile(file: "content", fileName: "n", context: context)
        #expect(try storage.checkIfExists("n", context: context))
        #expect(try storage.checkIfExists(["n", "m"], context: context) == [true, false])
        #expect(try storage.downloadFile("n", context: context) == Data("content".utf8))
        #expect(try storage.fileInfo("n", context: context).size == 7)
        try storage.deleteFile("n", context: context)
        #expect(try !storage.checkIfExists("n", context: context))
    }

    /// Validation reads the bytes in place; its answers (and the component it names) are the
    /// same as before for every problem, in any position.
    @Test func validationNamesTheComponent() {
        let cases: [(String, NameProblem, Int?)] = [
            ("a/../b", .dotDot, 2), ("a/./b", .dot, 2), ("a//b", .empty, 2), ("a/b/", .empty, 3),
            ("/abs", .absoluteContext, nil), ("a/.ls-x", .reservedPrefix, 2), ("a/b\0c", .containsNUL, 2),
            (String(repeating: "x", count: 256), .tooLong, 1), ("x/" + String(repeating: "y", count: 256), .tooLong, 2),
        ]
        for (context, problem, position) in cases {
            let found = contextProblem(context)
            #expect(found?.problem == problem, "\(context.prefix(20))")
            #expect(found?.component?.position == position, "\(context.prefix(20))")
        }
        #expect(contextProblem("a/b.c/.ls") == nil)
        #expect(fileNameProblem(".ls-") == .reservedPrefix)
        #expect(fileNameProblem(".ls") == nil)
        #expect(fileNameProblem("..") == .dotDot)
        #expect(fileNameProblem("...") == nil)
        #expect(fileNameProblem(String(repeating: "n", count: 255)) == nil)
    }
}
