// prune (a dry run lists exactly what the real one removes) and verify (a flipped byte in an
// object or array is found, and --remove-corrupt removes it), through the built binary.
import Foundation
import Glibc
import LocalStorage
import Testing

// Skipped without the trait: the binary then only says how to build it.
@Suite(.enabled(if: Lstore.available, Lstore.skipReason))
struct PruneVerifyTests {
    struct Record: Codable {
        var id: Int
        var values: [Double]
    }

    @Test func dryRunListsWhatPruneRemoves() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let storage = try LocalStorage(storagePath: root, durability: .noSync)
        // Last used 40, 35, 20, 10 and 0 days ago; 100 bytes each.
        let days = [("old/a", 40), ("old/b", 35), ("mid/c", 20), ("d", 10), ("new/e", 0)]
        for (path, _) in days {
            let parts = path.split(separator: "/").map(String.init)
            let context = parts.count == 2 ? parts[0] : ""
            try storage.uploadFile(file: [UInt8](repeating: 1, count: 100), fileName: parts.last ?? path, context: context)
        }
        for (path, daysAgo) in days { age(root + "/" + path, secondsAgo: daysAgo * 86_400 + 60) }

        let dry = try lstore(["prune", root, "--max-age", "30d", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(
            dry.lines.filter { $0.hasPrefix("would remove ") && $0.contains("  ") }.map { $0.split(separator: " ").last.map(String.init) }
                == ["old/a", "old/b"])
        #expect(dry.lines.last == "would remove 2 files (200 B); 3 files (300 B) would remain")
        #expect(try storage.listStoredFiles("old") == ["a", "b"], "a dry run removes nothing")

        // Over a size limit too: the least recently used go next.
        let sized = try lstore(["prune", root, "--max-age", "30d", "--max-size", "150", "--dry-run"])
        #expect(
            sized.lines.dropLast().compactMap { $0.split(separator: " ").last.map(String.init) }
                == ["old/a", "old/b", "mid/c", "d"])
        let counted = try lstore(["prune", root, "--max-files", "2", "--dry-run"])
        #expect(
            counted.lines.dropLast().compactMap { $0.split(separator: " ").last.map(String.init) }
                == ["old/a", "old/b", "mid/c"])

        let real = try lstore(["prune", root, "--max-age", "30d"])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.lines == ["removed 2 files (200 B); 3 files (300 B) remain"])
        #expect(try storage.listStoredFiles("old") == [])
        #expect(try storage.listStoredFiles("mid") == ["c"])

        let second = try lstore(["prune", root, "--max-files", "2"])
        #expect(second.lines == ["removed 1 file (100 B); 2 files (200 B) remain"])
        #expect(try storage.listStoredFiles("mid") == [] && storage.listStoredFiles("") == ["d"])
    }

    @Test func verifyFindsAFlippedByteAndRemovesOnlyWhatIsDamaged() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let storage = try LocalStorage(storagePath: root, durability: .noSync)
        try storage.uploadObject(Record(id: 1, values: [1, 2, 3]), fileName: "record", context: "objects")
        try storage.uploadObject(Record(id: 2, values: []), fileName: "record.json", context: "objects", encoding: .json)
        try storage.uploadArray([Float](repeating: 0.25, count: 10_000), fileName: "floats", context: "objects/arrays")
        try storage.uploadFile(file: "plain text", fileName: "notes.txt", context: "")

        let clean = try lstore(["verify", root])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.lines == ["checked 4 files: 3 intact (2 objects, 1 array), 0 corrupted, 1 raw (no checksum)"])
        let verbose = try lstore(["verify", "--verbose", root])
        #expect(verbose.lines.contains("raw  notes.txt"))
        #expect(verbose.lines.contains { $0.hasPrefix("ok  objects/arrays/floats: array of 10000 elements of 4 bytes") })

        // One byte of the array's payload changes on disk.
        try flipByte(root + "/objects/arrays/floats", at: 64 + 20_000)
        let found = try lstore(["verify", root])
        #expect(found.status == 4, "\(found.stderr)")
        #expect(
            found.lines.first?.hasPrefix("corrupted  objects/arrays/floats: the payload's checksum does not match") == true,
            "\(found.stdout)")
        #expect(found.lines.last == "checked 4 files: 2 intact (2 objects, 0 arrays), 1 corrupted, 1 raw (no checksum)")
        #expect(try storage.listStoredFiles("objects/arrays") == ["floats"], "verify alone removes nothing")

        // A context limits the check to its subtree.
        let subtree = try lstore(["verify", root, "objects/arrays"])
        #expect(subtree.status == 4 && subtree.lines.last?.hasPrefix("checked 1 file: ") == true)
        let elsewhere = try lstore(["verify", root, "."])
        #expect(elsewhere.status == 4)

        // The header's magic damaged too: still an object, and damaged.
        try flipByte(root + "/objects/record", at: 3)
        let removed = try lstore(["verify", "--remove-corrupt", root, "objects"])
        #expect(removed.status == 4)
        #expect(removed.lines.contains("removed  objects/arrays/floats"))
        #expect(removed.lines.contains("removed  objects/record"))
        #expect(removed.lines.last == "checked 3 files: 1 intact (1 object, 0 arrays), 2 corrupted (2 removed), 0 raw (no checksum)")
        #expect(try storage.listStoredFiles("objects/arrays") == [])
        #expect(try storage.listStoredFiles("objects") == ["record.json"])
        #expect(try storage.listStoredFiles("") == ["notes.txt"], "raw files are never removed")

        let after = try lstore(["verify", root])
        #expect(after.status == 0)
        #expect(after.lines == ["checked 2 files: 1 intact (1 object, 0 arrays), 0 corrupted, 1 raw (no checksum)"])
    }
}
