"""The boto3 contender of `storage-bench --s3`: what a Python user would write for the same work.

Reads one command a line on stdin, answers one line: the seconds the timed work took (or
"error: ..."). One process and one client for the whole run, as a long-lived Python program has.
Endpoint, keys and region come from the usual AWS_* variables (AWS_ENDPOINT_URL...).

    put-small BUCKET PREFIX COUNT SIZE      put_object COUNT times
    get-small BUCKET PREFIX COUNT           get_object(...).read() of each
    put-memory BUCKET KEY SIZE              upload_fileobj(BytesIO) (managed: multipart, threads)
    get-memory BUCKET KEY                   get_object(...).read()
    get-file BUCKET KEY PATH                download_file (managed: ranged, threads)
    put-file BUCKET KEY PATH                upload_file (managed: multipart, threads)
    list BUCKET PREFIX                      list_objects_v2 pages with Delimiter "/"
    delete BUCKET KEY                       delete_object
"""
import io
import os
import sys
import time

import boto3
from botocore.config import Config

s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
payloads = {}


def payload(size):
    if size not in payloads:
        payloads[size] = os.urandom(size)
    return payloads[size]


def run(words):
    command, bucket = words[0], words[1]
    if command == "put-small":
        prefix, count, size = words[2], int(words[3]), int(words[4])
        body = payload(size)
        start = time.perf_counter()
        for index in range(count):
            s3.put_object(Bucket=bucket, Key=f"{prefix}/k{index:05d}", Body=body)
        return time.perf_counter() - start
    if command == "get-small":
        prefix, count = words[2], int(words[3])
        start = time.perf_counter()
        for index in range(count):
            s3.get_object(Bucket=bucket, Key=f"{prefix}/k{index:05d}")["Body"].read()
        return time.perf_counter() - start
    if command == "put-memory":
        key, size = words[2], int(words[3])
        stream = io.BytesIO(payload(size))
        start = time.perf_counter()
        s3.upload_fileobj(stream, bucket, key)
        return time.perf_counter() - start
    if command == "get-memory":
        start = time.perf_counter()
        s3.get_object(Bucket=bucket, Key=words[2])["Body"].read()
        return time.perf_counter() - start
    if command == "get-file":
        start = time.perf_counter()
        s3.download_file(bucket, words[2], words[3])
        return time.perf_counter() - start
    if command == "put-file":
        start = time.perf_counter()
        s3.upload_file(words[3], bucket, words[2])
        return time.perf_counter() - start
    if command == "list":
        prefix = words[2]
        start = time.perf_counter()
        names = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            names.extend(entry["Key"][len(prefix):] for entry in page.get("Contents", []))
        names.sort()
        return time.perf_counter() - start
    if command == "delete":
        s3.delete_object(Bucket=bucket, Key=words[2])
        return 0.0
    raise ValueError(f"unknown command {command}")


for line in sys.stdin:
    try:
        print(f"{run(line.split()):.9f}", flush=True)
    except Exception as error:  # reported to the Swift side, which fails the row
        print(f"error: {error}".replace("\n", " "), flush=True)
