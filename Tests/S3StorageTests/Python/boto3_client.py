"""boto3 as another S3 client, for the interoperability tests.

    boto3_client.py probe
    boto3_client.py put BUCKET KEY [--multipart]     (body on stdin)
    boto3_client.py get BUCKET KEY                   (body on stdout)
    boto3_client.py uploads BUCKET PREFIX            (JSON list of pending multipart uploads' keys)
    boto3_client.py abort-all BUCKET PREFIX          (aborts them)

Endpoint and keys from S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY_ID, S3_TEST_SECRET_ACCESS_KEY.
"""
import io
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_TEST_ENDPOINT"],
        aws_access_key_id=os.environ["S3_TEST_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_TEST_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def main(argv):
    command = argv[1]
    if command == "probe":
        return
    bucket, key = argv[2], argv[3]
    s3 = client()
    if command == "put":
        body = sys.stdin.buffer.read()
        if "--multipart" in argv:
            config = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
            s3.upload_fileobj(io.BytesIO(body), bucket, key, Config=config)
        else:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
    elif command == "get":
        sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    elif command == "uploads":
        answer = s3.list_multipart_uploads(Bucket=bucket, Prefix=key)
        print(json.dumps([upload["Key"] for upload in answer.get("Uploads", [])]))
    elif command == "abort-all":
        answer = s3.list_multipart_uploads(Bucket=bucket, Prefix=key)
        for upload in answer.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    else:
        raise SystemExit(f"unknown command {command}")


main(sys.argv)
