#if S3
import Foundation
import LocalStorage
import NIOCore

/// The storage of `LocalStorage`, on any S3-compatible object store (AWS S3, Ceph's RADOS
/// Gateway, MinIO...): the same names, contexts, operations and error codes.
///
/// A file `name` in context `a/b` is the object `prefix/a/b/name` of `bucket`; names and contexts
/// are validated by the same rules as local ones. Requests are signed with AWS Signature Version
/// 4 and sent with async-http-client.
///
/// ```swift
/// let storage = try S3Storage(
///     endpoint: URL(string: "http://127.0.0.1:7480")!, bucket: "pipeline-cache", prefix: "team-a",
///     accessKeyID: "...", secretAccessKey: "...")
/// try storage.uploadFile(file: "Hello, World!", fileName: "greeting.txt", context: "messages")
/// let data = try await storage.downloadFile("greeting.txt", context: "messages")   // async too
/// ```
///
/// Every operation exists twice: synchronous (`BaseStorage`), which blocks the calling thread,
/// and async (`AsyncBaseStorage`), which suspends. The synchronous calls run their work on
/// threads of this library's own and wait for it there, so calling them from tasks never starves
/// the concurrency pool; in async code prefer the async ones all the same.
///
/// Transfers: one PUT up to `TransferOptions.multipartThreshold`, a multipart upload above it
/// (parts sent concurrently, memory bounded, aborted on failure so no parts stay behind);
/// downloads to a file in concurrent ranged GETs above the threshold. Failed requests that are
/// safe to repeat (5xx, 429, dropped connections) are retried with exponential backoff.
///
/// Unlike `LocalStorage`, which is consistent per file by rename, an object store offers what its
/// server offers: on S3 and RGW, a PUT is atomic per object (readers see the old or the new
/// object) and reads after a completed write see it.
open class S3Storage: BaseStorage, AsyncBaseStorage, @unchecked Sendable {
    // @unchecked: every stored property is immutable and Sendable; subclasses that add mutable
    // state must protect it themselves.

    /// How transfers are split and retried.
    public struct TransferOptions: Sendable {
        /// Objects up to this size go in one PUT; larger ones in a multipart upload. Default 16 MiB.
        public var multipartThreshold: Int
        /// The size of each part of a multipart upload or ranged download (at least 5 MiB, S3's
        /// minimum; grown as needed to stay within 10,000 parts). Default 8 MiB.
        public var partSize: Int
        /// Parts uploaded or ranges downloaded at once per transfer. Default 4.
        public var concurrency: Int
        /// Attempts per request that may be repeated safely. Default 4.
        public var maxAttempts: Int
        /// The longest one request may take, body included. Default 5 minutes.
        public var requestTimeout: Duration

        /// Creates options; the defaults suit a gateway on the same network.
        public init(
            multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20, concurrency: Int = 4, maxAttempts: Int = 4,
            requestTimeout: Duration = .seconds(300)
        ) {
            self.multipartThreshold = multipartThreshold
            self.partSize = partSize
            self.concurrency = concurrency
            self.maxAttempts = maxAttempts
            self.requestTimeout = requestTimeout
        }
    }

    /// The bucket holding the objects.
    public let bucket: String
    /// The key prefix under which contexts live, without leading or trailing `/` (`""`: none).
    public let prefix: String
    /// The endpoint requests go to.
    public let endpoint: URL
    /// The signing region.
    public let region: String
    /// How transfers are split and retried.
    public let transfer: TransferOptions
    let connection: S3Connection

    /// Creates a storage on `bucket` at `endpoint`. No request is made: a wrong key or a missing
    /// bucket shows on the first operation.
    ///
    /// - Parameters:
    ///   - endpoint: `http://` or `https://` URL of the S3 service (`https://s3.us-east-1.amazonaws.com`,
    ///     `http://127.0.0.1:7480` for a local RGW).
    ///   - bucket: An existing bucket (`createBucket()` makes one).
    ///   - prefix: The key prefix for everything this storage stores; validated like a context.
    ///   - region: The signing region. Default `us-east-1` (what RGW and MinIO accept by default).
    ///   - accessKeyID: The access key.
    ///   - secretAccessKey: The secret key.
    ///   - pathStyle: Address the bucket in the path (`endpoint/bucket/key`, what RGW and MinIO
    ///     expect) rather than in the host name (`bucket.endpoint/key`). Default true.
    ///   - transfer: Part sizes, concurrency, retries.
    /// - Throws: `LocalStorageError` `.invalidArgument` for an endpoint that is not an http(s)
    ///   URL or an empty bucket, `.invalidName` for an invalid prefix.
    public init(
        endpoint: URL, bucket: String, prefix: String = "", region: String = "us-east-1", accessKeyID: String,
        secretAccessKey: String, pathStyle: Bool = true, transfer: TransferOptions = TransferOptions()
    ) throws {
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw LocalStorageError(
                code: .invalidArgument, operation: .initialize, message: "the bucket name '\(bucket)' is empty or contains '/'")
        }
        guard transfer.partSize >= 5 << 20, transfer.concurrency >= 1, transfer.maxAttempts >= 1,
            transfer.multipartThreshold >= 0
        else {
            throw LocalStorageError(
                code: .invalidArgument, operation: .initialize,
                message: "transfer options out of range: partSize must be at least 5 MiB, concurrency and maxAttempts at least 1")
        }
        var trimmed = Substring(prefix)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let components = try StorageNames.contextComponents(String(trimmed), operation: .initialize)
        self.prefix = components.joined(separator: "/")
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.transfer = transfer
        connection = try S3Connection(
            endpoint: endpoint, bucket: bucket, pathStyle: pathStyle,
            signer: SigV4Signer(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, region: region),
            retry: RetryPolicy(maxAttempts: transfer.maxAttempts),
            timeout: .nanoseconds(
                Int64(transfer.requestTimeout.components.seconds) * 1_000_000_000
                    + transfer.requestTimeout.components.attoseconds / 1_000_000_000))
    }

    /// Creates a storage from the usual AWS environment variables: `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL` (default `https://s3.<region>.amazonaws.com`), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`).
    ///
    /// - Parameters:
    ///   - bucket: An existing bucket.
    ///   - prefix: The key prefix; see `init(endpoint:bucket:prefix:region:accessKeyID:secretAccessKey:pathStyle:transfer:)`.
    ///   - pathStyle: Path-style addressing. Default true.
    ///   - environment: Where to read the variables. Default: the process's environment.
    /// - Throws: `LocalStorageError` `.invalidArgument` if a key variable is missing or the
    ///   endpoint is not a URL.
    public convenience init(
        bucket: String, prefix: String = "", pathStyle: Bool = true, transfer: TransferOptions = TransferOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        let endpointText = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText) else {
            throw LocalStorageError(code: .invalidArgument, operation: .initialize, message: "the endpoint '\(endpointText)' is not a URL")
        }
        guard let accessKey = value("AWS_ACCESS_KEY_ID"), let secretKey = value("AWS_SECRET_ACCESS_KEY") else {
            throw LocalStorageError(
                code: .invalidArgument, operation: .initialize,
                message: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set")
        }
        try self.init(
            endpoint: endpoint, bucket: bucket, prefix: prefix, region: region, accessKeyID: accessKey,
            secretAccessKey: secretKey, pathStyle: pathStyle, transfer: transfer)
    }

    /// `s3://bucket/prefix` (`s3://bucket` without a prefix).
    public func getRootPath() -> String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// Maps a caller's file name to the stored name, like `LocalStorage.fileName(for:)`; every
    /// operation applies it. Override it for custom naming; the result must be a valid name.
    open func fileName(for name: String) -> String { name }

    // MARK: Synchronous API (BaseStorage)

    /// Runs the async implementation on the library's own threads and waits for it.
    func blocking<R: Sendable>(_ operation: @escaping @Sendable () async throws -> R) throws -> R {
        try DedicatedExecutor.shared.runBlocking(operation)
    }

    /// Stores the UTF-8 bytes of `file` as `fileName` in `context`; see the async variant.
    @discardableResult
    public func uploadFile(file: String, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try blocking { try await self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Stores `file` as `fileName` in `context`; see the async variant.
    @discardableResult
    public func uploadFile(file: Data, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try blocking { try await self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Stores everything from the handle's offset to its end; see the async variant.
    @discardableResult
    public func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool = false) throws -> String {
        let box = UncheckedHandle(handle: file)
        return try blocking {
            try await self.uploadFile(file: box.handle, fileName: fileName, context: context, directStream: directStream)
        }
    }

    /// The complete content of a stored file; see the async variant.
    public func downloadFile(_ fileName: String, context: String) throws -> Data {
        try blocking { try await self.downloadFile(fileName, context: context) }
    }

    /// Writes a stored file to `destination`; see the async variant.
    public func downloadFile(_ fileName: String, context: String, to destination: FileHandle) throws -> Int {
        let box = UncheckedHandle(handle: destination)
        return try blocking { try await self.downloadFile(fileName, context: context, to: box.handle) }
    }

    /// A handle at offset 0 on a local copy of a stored file; see the async variant.
    public func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle {
        try blocking { UncheckedHandle(handle: try await self.getFileByHashcode(hashcode, context: context)) }.handle
    }

    /// Whether the object exists; see the async variant.
    public func checkIfExists(_ fileName: String, context: String) throws -> Bool {
        try blocking { try await self.checkIfExists(fileName, context: context) }
    }

    /// Size and modification date of a stored file; see the async variant.
    public func fileInfo(_ fileName: String, context: String) throws -> StoredFileInfo {
        try blocking { try await self.fileInfo(fileName, context: context) }
    }

    /// The names stored in `context` itself; see the async variant.
    public func listStoredFiles(_ context: String) throws -> [String] {
        try blocking { try await self.listStoredFiles(context) }
    }

    /// Removes a stored file; see the async variant.
    public func deleteFile(_ fileName: String, context: String) throws {
        try blocking { try await self.deleteFile(fileName, context: context) }
    }

    /// Creates the bucket if it does not exist; see the async variant.
    public func createBucket() throws {
        try blocking { try await self.createBucket() }
    }
}

/// A FileHandle carried into the work of a synchronous call, which waits for that work before it
/// returns: the handle is never used by two threads at once.
struct UncheckedHandle: @unchecked Sendable {
    let handle: FileHandle
}

extension LocalStorageError.Operation {
    /// `S3Storage.createBucket()`.
    public static let createBucket = LocalStorageError.Operation("createBucket")
}
#endif
