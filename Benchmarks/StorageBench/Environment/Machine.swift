#if Benchmark
import Foundation
import Glibc

/// The machine a run happened on, for the report header and the JSON.
struct MachineDescription: Codable, Sendable {
    /// `uname -srvm`.
    let kernel: String
    /// PRETTY_NAME from /etc/os-release.
    let operatingSystem: String?
    let cpuModel: String?
    let cores: Int
    let memoryBytes: UInt64
    /// The file system holding the scratch directory.
    let filesystem: FilesystemDescription

    static func current(directory: String) -> MachineDescription {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let kernel = [field(names.sysname), field(names.release), field(names.version), field(names.machine)]
            .joined(separator: " ")
        let pages = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES))))
        let pageSize = UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
        return MachineDescription(
            kernel: kernel,
            operatingSystem: keyValue(file: "/etc/os-release", key: "PRETTY_NAME", separator: "=")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) },
            cpuModel: keyValue(file: "/proc/cpuinfo", key: "model name", separator: ":"),
            cores: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            memoryBytes: pages * pageSize,
            filesystem: FilesystemDescription.containing(directory))
    }

    /// One line: "Linux 6.1.0 x86_64, AMD EPYC, 2 cores, 23.4 GiB RAM, ext4 on /dev/vda".
    var summary: String {
        var parts = [kernel.split(separator: " ").prefix(2).joined(separator: " ")]
        if let machine = kernel.split(separator: " ").last { parts[0] += " \(machine)" }
        if let cpuModel { parts.append(cpuModel) }
        parts.append("\(cores) core\(cores == 1 ? "" : "s")")
        parts.append(String(format: "%.1f GiB RAM", Double(memoryBytes) / Double(1 << 30)))
        parts.append("\(filesystem.type) on \(filesystem.source) (\(filesystem.mountPoint))")
        return parts.joined(separator: ", ")
    }

    /// The value of the first `key<separator>value` line of a text file.
    private static func keyValue(file: String, key: String, separator: Character) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            guard let split = line.firstIndex(of: separator) else { continue }
            if line[..<split].trimmingCharacters(in: .whitespaces) == key {
                return line[line.index(after: split)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// The mount a directory lives on, from /proc/self/mountinfo (longest matching mount point).
struct FilesystemDescription: Codable, Sendable {
    let type: String
    let source: String
    let mountPoint: String
    let options: String

    static func containing(_ directory: String) -> FilesystemDescription {
        let unknown = FilesystemDescription(type: "unknown", source: "unknown", mountPoint: "?", options: "")
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return unknown }
        var path = directory
        if let resolved = realpath(directory, nil) {
            path = String(cString: resolved)
            free(resolved)
        }
        var best: FilesystemDescription?
        for line in text.split(separator: "\n") {
            // id parent major:minor root mount-point options [optional...] - type source super-options
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 6, let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count else { continue }
            let mountPoint = unescape(fields[4])
            let inside = mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
            guard inside, mountPoint.count >= (best?.mountPoint.count ?? -1) else { continue }
            best = FilesystemDescription(
                type: fields[dash + 1], source: unescape(fields[dash + 2]), mountPoint: mountPoint,
                options: fields[5] + (dash + 3 < fields.count ? "," + fields[dash + 3] : ""))
        }
        return best ?? unknown
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\\"), index + 3 < raw.count,
                let value = UInt8(String(decoding: raw[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(raw[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The commit the benchmark was built from (`git rev-parse HEAD` in the package, or else in the
/// current directory) and whether the working tree had changes. Failures leave the fields nil.
struct GitDescription: Codable, Sendable {
    let commit: String?
    let dirty: Bool?

    static func current() -> GitDescription {
        // This file lives in <package>/Benchmarks/StorageBench/Environment/.
        let packageDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        for directory in [packageDirectory, FileManager.default.currentDirectoryPath] {
            guard let commit = git(["rev-parse", "HEAD"], in: directory), commit.count >= 40 else { continue }
            let status = git(["status", "--porcelain", "--untracked-files=no"], in: directory)
            return GitDescription(commit: commit, dirty: status.map { !$0.isEmpty })
        }
        return GitDescription(commit: nil, dirty: nil)
    }

    /// "056eafe" or "056eafe (uncommitted changes)" or "unknown".
    var summary: String {
        guard let commit else { return "unknown" }
        return String(commit.prefix(7)) + (dirty == true ? " + uncommitted changes" : "")
    }

    private static func git(_ arguments: [String], in directory: String) -> String? {
        guard FileManager.default.fileExists(atPath: directory) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
#endif
