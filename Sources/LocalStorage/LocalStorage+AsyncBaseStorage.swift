// LocalStorage's async overloads (LocalStorage+Async.swift) already have every operation of
// `AsyncBaseStorage`, with the same semantics as the synchronous calls; this declares it, so that
// code written against the async protocol runs on a local directory as on S3Storage.
extension LocalStorage: AsyncBaseStorage {}
