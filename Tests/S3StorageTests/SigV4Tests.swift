#if S3
import Foundation
import Testing
@testable import S3Storage

/// SigV4 against AWS's worked examples ("Signature Calculations for the Authorization Header:
/// Transferring Payload in a Single Chunk", Amazon S3 API Reference) and against botocore's own
/// signer on the same requests.
@Suite("SigV4")
struct SigV4Tests {
    static let example = SigV4Signer(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    /// 20130524T000000Z
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    static let host = ("host", "examplebucket.s3.amazonaws.com")

    static func authorization(_ headers: [(String, String)]) -> String? {
        headers.first { $0.0 == "authorization" }?.1
    }

    @Test func getObjectWithRange() {
        let signed = Self.example.signedHeaders(
            method: "GET", encodedPath: "/test.txt", query: [], headers: [Self.host, ("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(
            Self.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        #expect(signed.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    @Test func putObject() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let hash = body.withUnsafeBytes { SigV4Signer.payloadHash($0) }
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.example.signedHeaders(
            method: "PUT", encodedPath: "/" + SigV4Signer.uriEncode("test$file.text", keepSlash: true), query: [],
            headers: [Self.host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: hash, date: Self.exampleDate)
        #expect(
            Self.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        )
    }

    @Test func getBucketLifecycle() {
        let signed = Self.example.signedHeaders(
            method: "GET", encodedPath: "/", query: [("lifecycle", "")], headers: [Self.host],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(
            Self.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        )
    }

    @Test func listObjects() {
        let signed = Self.example.signedHeaders(
            method: "GET", encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [Self.host],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.exampleDate)
        #expect(
            Self.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        )
    }

    @Test func encoding() {
        #expect(SigV4Signer.uriEncode("a b+c%d/ü~*", keepSlash: true) == "a%20b%2Bc%25d/%C3%BC~%2A")
        #expect(SigV4Signer.uriEncode("a/b=c", keepSlash: false) == "a%2Fb%3Dc")
        #expect(SigV4Signer.canonicalHeaderValue("  a   b \t c  ") == "a b c")
        #expect(SigV4Signer.canonicalQuery([("b", "2"), ("a", "x y"), ("a", "1")]) == "a=1&a=x%20y&b=2")
    }

    /// One request signed by this library and by botocore.auth.S3SigV4Auth.
    struct Case {
        var method: String
        var key: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body = Data()
        var unsigned = false
        var date: Date
        var region = "us-east-1"
        var host = "127.0.0.1:7480"
    }

    static let botocoreCases: [Case] = [
        Case(method: "GET", key: "bucket/plain.txt", date: Date(timeIntervalSince1970: 1_700_000_000)),
        Case(
            method: "PUT", key: "bucket/ctx with space/ü+%~*'()!$&,;=@:[]", body: Data("hello".utf8),
            date: Date(timeIntervalSince1970: 1_800_000_123)),
        Case(
            method: "PUT", key: "bucket/a/b/part", query: [("partNumber", "7"), ("uploadId", "2~Abc/def+ghi=")],
            body: Data(repeating: 0xAB, count: 70_000), date: Date(timeIntervalSince1970: 1_650_000_001), region: "eu-west-3"),
        Case(
            method: "PUT", key: "bucket/streamed 日本語", headers: [("content-type", "application/octet-stream")],
            unsigned: true, date: Date(timeIntervalSince1970: 1_760_000_999)),
        Case(
            method: "GET", key: "bucket/",
            query: [
                ("list-type", "2"), ("prefix", "pre fix/ctx+x/"), ("delimiter", "/"), ("encoding-type", "url"),
                ("continuation-token", "1/abc=+def"),
            ], date: Date(timeIntervalSince1970: 1_700_000_000)),
        Case(
            method: "HEAD", key: "bucket/k",
            headers: [("Range", "bytes=0-99"), ("If-Match", "\"d41d8cd9-3\""), ("X-Amz-Meta-Note", "a   b  c")],
            date: Date(timeIntervalSince1970: 1_700_000_000)),
        Case(
            method: "PUT", key: "lock-object", headers: [("If-None-Match", "*")], body: Data("lease".utf8),
            date: Date(timeIntervalSince1970: 1_999_999_999), host: "bucket.s3.example.com"),
        Case(
            method: "POST", key: "bucket/obj", query: [("uploads", "")], date: Date(timeIntervalSince1970: 1_700_000_000)),
        Case(
            method: "DELETE", key: "bucket/obj", query: [("uploadId", "x y")], date: Date(timeIntervalSince1970: 1_700_000_000)),
    ]

    @Test(.enabled(if: S3TestEnvironment.hasBoto3, "python3 cannot import boto3 and botocore (pip install boto3)"))
    func matchesBotocore() throws {
        var specs: [[String: Any]] = []
        var ours: [String] = []
        for item in Self.botocoreCases {
            let signer = SigV4Signer(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret/with+chars", region: item.region)
            let path = "/" + SigV4Signer.uriEncode(item.key, keepSlash: true)
            let hash = item.unsigned ? SigV4Signer.unsignedPayload : item.body.withUnsafeBytes { SigV4Signer.payloadHash($0) }
            let headers = [("host", item.host)] + item.headers
            let signed = signer.signedHeaders(
                method: item.method, encodedPath: path, query: item.query, headers: headers, payloadHash: hash, date: item.date)
            ours.append(Self.authorization(signed) ?? "")
            let query = SigV4Signer.canonicalQuery(item.query)
            specs.append([
                "method": item.method, "url": "http://\(item.host)\(path)\(query.isEmpty ? "" : "?" + query)",
                "headers": headers.map { [$0.0, $0.1] }, "body_hex": item.body.map { String(format: "%02x", $0) }.joined(),
                "unsigned": item.unsigned, "timestamp": SigV4Signer.timestamps(item.date).amzDate, "access_key": "AKIDEXAMPLE",
                "secret_key": "secret/with+chars", "region": item.region,
            ])
        }
        let output = try S3TestEnvironment.python("botocore_sign.py", [], input: try JSONSerialization.data(withJSONObject: specs))
        let theirs = try #require(try JSONSerialization.jsonObject(with: output) as? [String])
        #expect(theirs.count == ours.count)
        for (index, (mine, botocore)) in zip(ours, theirs).enumerated() {
            // botocore separates the fields with ", ", AWS's examples (and this library) with ",".
            #expect(
                mine == botocore.replacingOccurrences(of: ", ", with: ","),
                "case \(index): \(Self.botocoreCases[index].method) \(Self.botocoreCases[index].key)")
        }
    }
}
#endif
