#!/usr/bin/env python3
"""Drives a live `sealed` KMS endpoint with boto3, the way any AWS tool would talk to it.

Usage: kms_server_test.py --endpoint URL --region REGION --access-key-id ID --secret-access-key SECRET

Exits 0 when every check passes; prints the failing check and exits 1 otherwise. Run by
Tests/ServerTests/LiveServerTests.swift against a server on a free loopback port.
"""
import argparse
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def client(args, access_key_id=None, secret=None):
    return boto3.client(
        "kms",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id=access_key_id or args.access_key_id,
        aws_secret_access_key=secret or args.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def expect_error(code, call, *a, **kw):
    try:
        call(*a, **kw)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {error}"
        return error
    raise AssertionError(f"expected {code}, the call succeeded")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret-access-key", required=True)
    args = parser.parse_args()

    kms = client(args)
    key = kms.create_key(Description="boto3 peer", Tags=[{"TagKey": "peer", "TagValue": "boto3"}])["KeyMetadata"]
    key_id, key_arn = key["KeyId"], key["Arn"]
    assert key["KeyState"] == "Enabled", key
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyId"] == key_id
    assert key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]

    kms.create_alias(AliasName="alias/boto3-peer", TargetKeyId=key_id)
    context = {"eventType": "orders.created", "domain": "orders"}
    encrypted = kms.encrypt(KeyId="alias/boto3-peer", Plaintext=b"hello from boto3", EncryptionContext=context)
    assert encrypted["KeyId"] == key_arn, encrypted["KeyId"]
    decrypted = kms.decrypt(CiphertextBlob=encrypted["CiphertextBlob"], EncryptionContext=context)
    assert decrypted["Plaintext"] == b"hello from boto3"
    assert decrypted["KeyId"] == key_arn

    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    assert len(data_key["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=context)["Plaintext"] == data_key["Plaintext"]
    assert len(kms.generate_random(NumberOfBytes=12)["Plaintext"]) == 12

    kms.enable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    kms.disable_key(KeyId=key_id)
    expect_error("DisabledException", kms.encrypt, KeyId=key_id, Plaintext=b"x")
    kms.enable_key(KeyId=key_id)
    deletion = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert deletion["KeyState"] == "PendingDeletion", deletion
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=key_id, Plaintext=b"x")
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key_id)

    expect_error("NotFoundException", kms.describe_key, KeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    # The encryption context is part of the ciphertext's authentication: without it, decryption fails.
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=encrypted["CiphertextBlob"])
    expect_error("UnrecognizedClientException", client(args, "AKIAUNKNOWN000000000", "x").list_keys)
    expect_error("InvalidSignatureException", client(args, secret="wrong").list_keys)
    print("boto3 peer: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"boto3 peer: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
