#if S3
import Foundation
import LocalStorage
@testable import S3Storage

/// Where the S3 tests find a server.
///
/// `S3_TEST_ENDPOINT` (with `S3_TEST_ACCESS_KEY_ID`, `S3_TEST_SECRET_ACCESS_KEY`, optionally
/// `S3_TEST_CEPH_DIR` for the tests that start and kill a gateway of their own): use that
/// server, as `.ci/run` does. Otherwise, when Ceph is installed (scripts/ceph-s3-install.sh), the
/// first S3 test that runs starts a one-node cluster with scripts/ceph-s3-up.sh, stopped by its
/// watchdog when this test process exits; deciding whether the suites run starts nothing, so a
/// run that filters them out starts no cluster. Without either the S3 suites skip, saying why.
/// A server that is configured or installed but unusable (it cannot start, the test bucket
/// cannot be created) fails the tests rather than skipping them, so it cannot pass as a skip.
enum S3TestEnvironment {
    struct Server: Sendable {
        let endpoint: URL
        let accessKeyID: String
        let secretAccessKey: String
        /// The cluster's directory, when these tests may start more gateways on it.
        let cephDirectory: String?
    }

    /// The bucket every S3 test uses; each test works under a prefix of its own.
    static let bucket = "localstorage-tests"

    /// The package root, from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Whether Ceph's gateway is installed, so the tests can start a cluster of their own.
    private static var cephInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/radosgw") }

    /// Whether the S3 suites run: an endpoint is configured, or Ceph is installed. Starts nothing.
    static var available: Bool { environment["S3_TEST_ENDPOINT"] != nil || cephInstalled }

    /// Why the S3 suites skip, when they do.
    static let unavailableReason =
        "no S3 endpoint: set S3_TEST_ENDPOINT (and the keys), or install Ceph with scripts/ceph-s3-install.sh so the tests start their own"

    /// Whether the tests may start gateways of their own (and kill them): on the configured
    /// cluster's directory, or on the cluster they start. Starts nothing.
    static var canStartGateways: Bool {
        environment["S3_TEST_ENDPOINT"] != nil ? environment["S3_TEST_CEPH_DIR"] != nil : cephInstalled
    }

    /// The server, or why there is none; started on first use.
    private static let setup: Result<Server, ServerUnusable> = {
        if let text = environment["S3_TEST_ENDPOINT"] {
            guard let endpoint = URL(string: text) else {
                return .failure(ServerUnusable(description: "S3_TEST_ENDPOINT '\(text)' is not a URL"))
            }
            return .success(
                Server(
                    endpoint: endpoint, accessKeyID: environment["S3_TEST_ACCESS_KEY_ID"] ?? "",
                    secretAccessKey: environment["S3_TEST_SECRET_ACCESS_KEY"] ?? "",
                    cephDirectory: environment["S3_TEST_CEPH_DIR"]))
        }
        guard cephInstalled else { return .failure(ServerUnusable(description: unavailableReason)) }
        return startOwnCluster()
    }()

    /// The server the S3 tests use (started on first use), or nil if there is none.
    static var server: Server? { try? setup.get() }

    /// nil once the test bucket exists; otherwise why it cannot be used.
    private static let bucketProblem: String? = {
        let server: Server
        switch setup {
        case .success(let found): server = found
        case .failure(let problem): return problem.description
        }
        do {
            let storage = try S3Storage(
                endpoint: server.endpoint, bucket: bucket, accessKeyID: server.accessKeyID,
                secretAccessKey: server.secretAccessKey)
            try storage.createBucket()
            return nil
        } catch {
            return "cannot create the test bucket at \(server.endpoint): \(error)"
        }
    }()

    /// Throws (failing the test) unless the server is usable and the test bucket exists.
    static func requireServer() throws -> Server {
        if let bucketProblem { throw ServerUnusable(description: bucketProblem) }
        return try setup.get()
    }

    /// A storage under a fresh prefix of the test bucket.
    static func storage(
        prefix: String = "t-\(UUID().uuidString.prefix(8))", transfer: S3Storage.TransferOptions = smallParts,
        endpoint: URL? = nil, secret: String? = nil
    ) throws -> S3Storage {
        let server = try requireServer()
        return try S3Storage(
            endpoint: endpoint ?? server.endpoint, bucket: bucket, prefix: prefix, accessKeyID: server.accessKeyID,
            secretAccessKey: secret ?? server.secretAccessKey, transfer: transfer)
    }

    /// Parts of S3's minimum size, so multipart paths run on small files.
    static let smallParts = S3Storage.TransferOptions(multipartThreshold: 5 << 20, partSize: 5 << 20, concurrency: 3)

    /// Starts a cluster under a temporary directory on free ports.
    private static func startOwnCluster() -> Result<Server, ServerUnusable> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3-tests-\(getpid())").path
        let rgwPort = freePort(), monPort = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [packageRoot.appendingPathComponent("scripts/ceph-s3-up.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["D"] = directory
        environment["RGW_PORT"] = String(rgwPort)
        environment["MON_PORT"] = String(monPort)
        environment["OWNER_PID"] = String(getpid())
        process.environment = environment
        // Not a pipe: the watchdog the script leaves running would hold it open.
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            return .failure(ServerUnusable(description: "Ceph is installed, but scripts/ceph-s3-up.sh could not be run: \(error)"))
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(
                ServerUnusable(
                    description:
                        "Ceph is installed, but scripts/ceph-s3-up.sh failed with status \(process.terminationStatus) (its logs: \(directory)/log)"
                ))
        }
        print("S3 tests: started a Ceph cluster with a gateway on 127.0.0.1:\(rgwPort) under \(directory)")
        guard let endpoint = URL(string: "http://127.0.0.1:\(rgwPort)") else {
            return .failure(ServerUnusable(description: "no URL for port \(rgwPort)"))
        }
        let server = Server(
            endpoint: endpoint, accessKeyID: "TESTACCESSKEY",
            secretAccessKey: "TESTSECRETKEY123", cephDirectory: directory)
        return .success(server)
    }

    /// A TCP port nothing listens on now (bound once on 127.0.0.1 with port 0, then released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a Python script of Tests/S3StorageTests/Python with arguments and standard input;
    /// returns its standard output, or throws with its standard error.
    static func python(_ script: String, _ arguments: [String], input: Data = Data(), environment extra: [String: String] = [:]) throws
        -> Data
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/S3StorageTests/Python/\(script)").path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errors = DataBox()
        let errorReader = Thread { errors.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { usleep(1000) }
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: String(decoding: errors.data, as: UTF8.self))
        }
        return output
    }

    /// Whether python3 can import botocore and boto3.
    static let hasBoto3: Bool = (try? python("boto3_client.py", ["probe"])) != nil
}

struct PythonFailure: Error, CustomStringConvertible { let message: String; var description: String { message } }
/// The configured S3 server cannot be used: the test fails with this.
struct ServerUnusable: Error, CustomStringConvertible { let description: String }
#endif
