// A child process for the limits tests: one of several writers and readers sharing a root with
// limits, so that the usage counter and the cleaner's lock are shared between processes.
import Foundation
import Glibc
import LocalStorage
import StorageTestSupport

/// `limits-writer <root> <maxBytes> <uploads> <seed>`: uploads self-verifying files of 1-8 KiB
/// to 60 names in 3 contexts, reading another name after each upload. Exits 1 on a torn read.
func limitsWriter(_ arguments: [String]) throws {
    guard arguments.count == 4, let maxBytes = Int64(arguments[1]), let uploads = Int(arguments[2]),
        let seed = UInt64(arguments[3])
    else { fail("usage: limits-writer <root> <maxBytes> <uploads> <seed>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync, limits: CacheLimits(maxBytes: maxBytes))
    var random = SeededGenerator(seed: seed)
    for index in 0..<uploads {
        let content = SelfVerifying.make(seed: random.next(), length: Int.random(in: 1_024...8_192, using: &random))
        try storage.uploadFile(file: Data(content), fileName: "n\(Int.random(in: 0..<60, using: &random))", context: "c\(index % 3)")
        let name = "n\(Int.random(in: 0..<60, using: &random))"
        if let data = try storage.downloadFileIfExists(name, context: "c\(Int.random(in: 0..<3, using: &random))"),
            !SelfVerifying.check(data)
        {
            fail("torn read of \(name)")
        }
    }
}
