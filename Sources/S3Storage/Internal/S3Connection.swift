#if S3
import AsyncHTTPClient
import Foundation
import LocalStorage
import NIOCore
import NIOHTTP1
import NIOPosix

/// The body of one S3 request.
enum S3Body: Sendable {
    case empty
    /// In memory: sent with its SHA-256 as the signed payload hash.
    case bytes(ByteBuffer)
    /// `length` bytes of a seekable descriptor from `offset`, read with `pread` as they are sent
    /// (never loaded whole), signed as `UNSIGNED-PAYLOAD`. The caller keeps `fd` open meanwhile.
    case file(fd: CInt, offset: Int64, length: Int64)
}

/// One S3 request before signing.
struct S3Request: Sendable {
    var method: HTTPMethod
    /// The object key, or nil for a request on the bucket itself.
    var key: String?
    var query: [(String, String)] = []
    var headers: [(String, String)] = []
    var body: S3Body = .empty
    /// Whether repeating it is harmless, so that a 5xx, 429 or dropped connection may be retried.
    var idempotent = true
}

/// A complete answer: status, headers, collected body.
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// How failed requests are retried: exponential backoff with full jitter.
struct RetryPolicy: Sendable {
    var maxAttempts = 4
    var baseDelay: Duration = .milliseconds(50)
    var maxDelay: Duration = .seconds(2)

    func delay(beforeAttempt attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 2, 16)))
        return ceiling * Double.random(in: 0...1)
    }
}

/// Sends signed requests to one bucket of one endpoint, retries what may be retried, and turns
/// every failure into a `LocalStorageError`.
struct S3Connection: Sendable {
    let client: HTTPClient
    let scheme: String
    /// `host` or `host:port`, as the Host header carries it.
    let hostHeader: String
    let bucket: String
    let pathStyle: Bool
    let signer: SigV4Signer
    let retry: RetryPolicy
    let timeout: TimeAmount

    init(endpoint: URL, bucket: String, pathStyle: Bool, signer: SigV4Signer, retry: RetryPolicy, timeout: TimeAmount) throws {
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = endpoint.host,
            !host.isEmpty
        else {
            throw LocalStorageError(
                code: .invalidArgument, operation: .initialize,
                message: "the endpoint '\(endpoint.absoluteString)' is not an http or https URL with a host")
        }
        let hostAndPort = endpoint.port.map { "\(host):\($0)" } ?? host
        self.client = S3Connection.sharedClient
        self.scheme = scheme
        self.hostHeader = pathStyle ? hostAndPort : "\(bucket).\(hostAndPort)"
        self.bucket = bucket
        self.pathStyle = pathStyle
        self.signer = signer
        self.retry = retry
        self.timeout = timeout
    }

    /// One client for the process, on NIO's shared event loops. Never shut down: it lives as long
    /// as the process, like `HTTPClient.shared`, but never follows redirects (a redirect would
    /// carry a signature made for another host) and never decompresses (a stored object that has
    /// a Content-Encoding comes back as stored).
    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(120)),
            decompression: .disabled)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        return HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
    }()

    /// The request path, percent-encoded exactly as it is sent and signed.
    func encodedPath(key: String?) -> String {
        let encodedKey = key.map { SigV4Signer.uriEncode($0, keepSlash: true) } ?? ""
        return pathStyle ? "/\(SigV4Signer.uriEncode(bucket, keepSlash: false))/\(encodedKey)" : "/\(encodedKey)"
    }

    /// The signed request AHC sends.
    func httpRequest(_ request: S3Request) -> HTTPClientRequest {
        let path = encodedPath(key: request.key)
        let query = SigV4Signer.canonicalQuery(request.query)
        var http = HTTPClientRequest(url: "\(scheme)://\(hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)")
        http.method = request.method
        let payloadHash: String
        switch request.body {
        case .empty:
            payloadHash = SigV4Signer.emptyPayloadHash
            if request.method == .PUT || request.method == .POST { http.body = .bytes(ByteBuffer()) }
        case .bytes(let buffer):
            payloadHash = buffer.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
            http.body = .bytes(buffer)
        case .file:
            // The body is attached by `sendStreamingFile`.
            payloadHash = SigV4Signer.unsignedPayload
        }
        let headers = [("host", hostHeader)] + request.headers
        let signed = signer.signedHeaders(
            method: request.method.rawValue, encodedPath: path, query: request.query, headers: headers,
            payloadHash: payloadHash, date: Date())
        for (name, value) in headers + signed { http.headers.add(name: name, value: value) }
        return http
    }

    /// Sends `request`, collects its answer (up to `maxBody` bytes), retries per policy, and
    /// returns a 2xx answer or throws.
    /// - Parameters:
    ///   - accept: Non-2xx statuses to return instead of throwing (404 for an existence check).
    func send(
        _ request: S3Request, operation: LocalStorageError.Operation, path: String, maxBody: Int = 16 << 20,
        accept: Set<Int> = []
    ) async throws -> S3Response {
        if case .file(let fd, let offset, let length) = request.body {
            return try await retrying(request, operation: operation, path: path) {
                try await sendStreamingFile(request, fd: fd, offset: offset, length: length, accept: accept)
            }
        }
        return try await withRetries(request, operation: operation, path: path) { response in
            let body = try await response.body.collect(upTo: maxBody)
            return S3Response(status: Int(response.status.code), headers: response.headers, body: body)
        } accept: {
            accept.contains($0)
        }
    }

    /// Sends `request` and hands a 2xx (or accepted) response, body unread, to `consume`. A
    /// failure inside `consume` is retried unless it is a `LocalStorageError` (`consume` throws
    /// those for what a retry cannot mend, such as a destination that cannot be written).
    func withRetries<R: Sendable>(
        _ request: S3Request, operation: LocalStorageError.Operation, path: String,
        consume: (HTTPClientResponse) async throws -> R, accept: (Int) -> Bool = { _ in false }
    ) async throws -> R {
        try await retrying(request, operation: operation, path: path) {
            let response: HTTPClientResponse
            do {
                response = try await client.execute(httpRequest(request), timeout: timeout)
            } catch {
                throw TransportFailure(underlying: error)
            }
            let status = Int(response.status.code)
            guard (200..<300).contains(status) || accept(status) else {
                let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
                return .failed(RemoteFailure(status: status, headers: response.headers, body: body))
            }
            do {
                return .done(try await consume(response))
            } catch let error as LocalStorageError {
                throw error
            } catch {
                throw TransportFailure(underlying: error)
            }
        }
    }

    /// What one attempt came to, short of a transport failure (thrown as `TransportFailure`).
    enum Outcome<R> {
        case done(R)
        case failed(RemoteFailure)
    }

    /// Runs attempts until one succeeds, fails for good, or the policy's attempts run out.
    private func retrying<R>(
        _ request: S3Request, operation: LocalStorageError.Operation, path: String, attempt: () async throws -> Outcome<R>
    ) async throws -> R {
        var number = 1
        while true {
            try Task.checkCancellation()
            do {
                switch try await attempt() {
                case .done(let result):
                    return result
                case .failed(let failure):
                    guard request.idempotent, failure.isRetryable, number < retry.maxAttempts else {
                        throw failure.error(operation: operation, path: path, attempts: number)
                    }
                }
            } catch let failure as TransportFailure {
                if failure.underlying is CancellationError || Task.isCancelled { throw CancellationError() }
                guard request.idempotent, number < retry.maxAttempts else {
                    throw failure.error(operation: operation, path: path, attempts: number)
                }
            }
            number += 1
            try await Task.sleep(for: retry.delay(beforeAttempt: number))
        }
    }

    /// One attempt of a request whose body streams from a descriptor, on async-http-client's
    /// EventLoopFuture API. Its async API pulls a streamed body from an unstructured Task on the
    /// global concurrency pool, which never runs while the pool's threads all block in
    /// synchronous calls (seen: every such PUT stalled until the server's 65 s timeout). Here the
    /// reads run on NIO's blocking-I/O thread pool and the writes on the event loop.
    private func sendStreamingFile(
        _ request: S3Request, fd: CInt, offset: Int64, length: Int64, accept: Set<Int>
    ) async throws -> Outcome<S3Response> {
        let signed = httpRequest(request)
        let eventLoop = client.eventLoopGroup.next()
        let reader = DescriptorBodyReader(fd: fd, end: offset + length, eventLoop: eventLoop)
        let response: HTTPClient.Response
        do {
            let legacy = try HTTPClient.Request(
                url: signed.url, method: signed.method, headers: signed.headers,
                body: .stream(contentLength: length) { writer in reader.write(from: offset, to: writer) })
            response = try await client.execute(request: legacy, deadline: .now() + timeout).get()
        } catch let error as DescriptorIOError {
            throw error
        } catch {
            throw TransportFailure(underlying: error)
        }
        let status = Int(response.status.code)
        let body = response.body ?? ByteBuffer()
        guard (200..<300).contains(status) || accept.contains(status) else {
            return .failed(RemoteFailure(status: status, headers: response.headers, body: body))
        }
        return .done(S3Response(status: status, headers: response.headers, body: body))
    }
}

/// Feeds a request body from a descriptor range: each chunk read with `pread` on NIO's thread
/// pool for blocking I/O, written when the previous write completed (one chunk in flight).
struct DescriptorBodyReader: Sendable {
    let fd: CInt
    let end: Int64
    let eventLoop: any EventLoop

    func write(from position: Int64, to writer: HTTPClient.Body.StreamWriter) -> EventLoopFuture<Void> {
        guard position < end else { return eventLoop.makeSucceededVoidFuture() }
        let count = Int(Swift.min(Int64(descriptorChunkSize), end - position))
        let fd = fd
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            try readRange(fd: fd, offset: position, length: count)
        }.flatMap { buffer in
            writer.write(.byteBuffer(buffer))
        }.flatMap {
            write(from: position + Int64(count), to: writer)
        }
    }
}

/// A request that got no complete answer: refused, reset, timed out, closed mid-body.
struct TransportFailure: Error {
    let underlying: any Error

    func error(operation: LocalStorageError.Operation, path: String, attempts: Int) -> LocalStorageError {
        LocalStorageError(
            code: .remote, operation: operation, path: path,
            message: "no complete answer from the S3 endpoint after \(attempts) attempt(s): \(underlying)")
    }
}

/// A non-2xx answer, with what S3 said in its `<Error>` body.
struct RemoteFailure: Error {
    let status: Int
    let code: String?
    let message: String?
    let requestID: String?

    init(status: Int, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        let document = XMLElementNode.parse(Data(body.readableBytesView))
        code = document?.text("Code")
        message = document?.text("Message")
        requestID = headers.first(name: "x-amz-request-id") ?? document?.text("RequestId")
    }

    init(status: Int, code: String?, message: String?, requestID: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// 5xx, 429 and S3's throttling codes: worth another attempt.
    var isRetryable: Bool {
        status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" || code == "InternalError"
    }

    func error(operation: LocalStorageError.Operation, path: String, attempts: Int = 1) -> LocalStorageError {
        let mapped: LocalStorageError.Code
        switch (status, code) {
        case (404, _): mapped = .notFound
        case (_, "QuotaExceeded"): mapped = .quotaExceeded
        case (403, _): mapped = .permissionDenied
        case (400, "KeyTooLongError"): mapped = .invalidName
        case (507, _), (_, "InsufficientCapacity"): mapped = .noSpace
        case (_, "EntityTooLarge"): mapped = .fileTooLarge
        default: mapped = .remote
        }
        var text = message.flatMap { $0.isEmpty ? nil : $0 } ?? HTTPResponseStatus(statusCode: status).reasonPhrase
        if attempts > 1 { text += " (after \(attempts) attempts)" }
        return LocalStorageError(
            code: mapped, operation: operation, path: path, message: text, httpStatus: status, remoteErrorCode: code,
            requestID: requestID)
    }
}
#endif
