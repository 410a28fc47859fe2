"""A pytest suite that drives every KMS operation of a live `sealed serve` with boto3.

The endpoint and the administrator's credentials come from the environment:

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT \
    SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    python -m pytest -q scripts/peers/test_kms_server.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift against `sealed serve` on a free loopback port. Every test
makes its own keys and aliases (unique names), so the suite also runs against a server that is not fresh.
The assertions follow Sources/KeyService/Docs.docc and Sources/Server/Docs.docc: AWS's error codes and
response shapes.
"""
import json
import os
import re
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_ARN = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID_PATTERN}$")
UNKNOWN_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_STATES = {"Enabled", "Disabled", "PendingDeletion"}


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (see the module docstring)", returncode=2)
    return value


@pytest.fixture(scope="session")
def kms():
    return boto3.client(
        "kms",
        endpoint_url=_environment("SEALED_KMS_ENDPOINT"),
        region_name=REGION,
        aws_access_key_id=_environment("SEALED_KMS_ACCESS_KEY_ID"),
        aws_secret_access_key=_environment("SEALED_KMS_SECRET_ACCESS_KEY"),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def key(kms):
    """A fresh Enabled key's metadata."""
    return kms.create_key(Description="pytest")["KeyMetadata"]


@pytest.fixture
def other_key(kms):
    return kms.create_key(Description="pytest other")["KeyMetadata"]


def unique_alias():
    return f"alias/pytest-{uuid.uuid4().hex[:12]}"


def alias_arn(name):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"


def expect_error(code, call, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response
    assert error["Error"]["Code"] == code, error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    return error


def state(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]


# ---- CreateKey, DescribeKey, ListKeys ------------------------------------------------------------------------------


def test_create_key_returns_full_metadata(kms):
    metadata = kms.create_key(
        Description="pytest create", Tags=[{"TagKey": "team", "TagValue": "payments"}]
    )["KeyMetadata"]
    assert KEY_ARN.match(metadata["Arn"]), metadata["Arn"]
    assert metadata["Arn"].endswith("/" + metadata["KeyId"])
    assert str(uuid.UUID(metadata["KeyId"])) == metadata["KeyId"]
    assert metadata["AWSAccountId"] == ACCOUNT
    assert metadata["Description"] == "pytest create"
    assert metadata["KeyState"] == "Enabled"
    assert metadata["Enabled"] is True
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert metadata["Origin"] == "AWS_KMS"
    assert metadata["KeyManager"] == "CUSTOMER"
    assert metadata["MultiRegion"] is False
    assert "CreationDate" in metadata
    assert "DeletionDate" not in metadata
    tags = kms.list_resource_tags(KeyId=metadata["KeyId"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "payments"}]


def test_create_key_without_description_has_empty_description(kms):
    metadata = kms.create_key()["KeyMetadata"]
    assert metadata["Description"] == ""
    assert metadata["KeyState"] in KEY_STATES


def test_create_key_description_too_long(kms):
    expect_error("ValidationException", kms.create_key, Description="x" * 8193)


def test_describe_key_by_every_identifier_form(kms, key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    for identifier in (key["KeyId"], key["Arn"], alias, alias_arn(alias)):
        described = kms.describe_key(KeyId=identifier)["KeyMetadata"]
        assert described["KeyId"] == key["KeyId"], identifier
        assert described["Arn"] == key["Arn"], identifier


def test_describe_key_unknown_or_foreign_is_not_found(kms, key):
    expect_error("NotFoundException", kms.describe_key, KeyId=UNKNOWN_KEY)
    expect_error("NotFoundException", kms.describe_key, KeyId=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UNKNOWN_KEY}")
    expect_error("NotFoundException", kms.describe_key, KeyId=unique_alias())
    # An ARN of another region or account names no key of this server.
    expect_error("NotFoundException", kms.describe_key, KeyId=key["Arn"].replace(REGION, "us-west-2"))
    expect_error("NotFoundException", kms.describe_key, KeyId=key["Arn"].replace(ACCOUNT, "111111111111"))


def test_list_keys_pages_with_limit_and_marker(kms):
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"Limit": 2}
        if marker:
            kwargs["Marker"] = marker
        page = kms.list_keys(**kwargs)
        pages += 1
        assert len(page["Keys"]) <= 2
        for entry in page["Keys"]:
            assert KEY_ARN.match(entry["KeyArn"]) and entry["KeyArn"].endswith("/" + entry["KeyId"])
        seen += [entry["KeyId"] for entry in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        assert page["NextMarker"]
        marker = page["NextMarker"]
    assert pages >= 2
    assert len(seen) == len(set(seen)), "a key appeared on two pages"
    assert created <= set(seen)
    assert set(seen) == {entry["KeyId"] for entry in kms.list_keys(Limit=1000)["Keys"]}


def test_list_keys_limit_over_1000_is_refused(kms):
    expect_error("ValidationException", kms.list_keys, Limit=1001)


# ---- Aliases -------------------------------------------------------------------------------------------------------


def test_alias_lifecycle(kms, key, other_key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    listed = kms.list_aliases(KeyId=key["KeyId"])["Aliases"]
    assert [entry["AliasName"] for entry in listed] == [alias]
    entry = listed[0]
    assert entry["AliasArn"] == alias_arn(alias)
    assert entry["TargetKeyId"] == key["KeyId"]
    assert "CreationDate" in entry and "LastUpdatedDate" in entry

    expect_error("AlreadyExistsException", kms.create_alias, AliasName=alias, TargetKeyId=other_key["KeyId"])

    # UpdateAlias moves it: encrypting through the alias now uses the other key.
    kms.update_alias(AliasName=alias, TargetKeyId=other_key["Arn"])
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == other_key["KeyId"]
    assert kms.encrypt(KeyId=alias, Plaintext=b"x")["KeyId"] == other_key["Arn"]
    assert kms.list_aliases(KeyId=key["KeyId"])["Aliases"] == []
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=other_key["KeyId"])["Aliases"]] == [alias]

    kms.delete_alias(AliasName=alias)
    assert alias not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    expect_error("NotFoundException", kms.describe_key, KeyId=alias)
    expect_error("NotFoundException", kms.delete_alias, AliasName=alias)
    expect_error("NotFoundException", kms.update_alias, AliasName=alias, TargetKeyId=key["KeyId"])


def test_list_aliases_pages_with_limit_and_marker(kms, key):
    names = {unique_alias() for _ in range(3)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    seen, marker = [], None
    while True:
        kwargs = {"KeyId": key["KeyId"], "Limit": 2}
        if marker:
            kwargs["Marker"] = marker
        page = kms.list_aliases(**kwargs)
        assert len(page["Aliases"]) <= 2
        seen += [entry["AliasName"] for entry in page["Aliases"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert sorted(seen) == sorted(names)


def test_alias_targets_must_be_existing_keys(kms, key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    expect_error("ValidationException", kms.create_alias, AliasName=unique_alias(), TargetKeyId=alias)
    expect_error("ValidationException", kms.update_alias, AliasName=alias, TargetKeyId=alias)
    expect_error("NotFoundException", kms.create_alias, AliasName=unique_alias(), TargetKeyId=UNKNOWN_KEY)


@pytest.mark.parametrize(
    "name",
    ["pytest-no-prefix", "alias/has space", "alias/bang!", "alias/" + "a" * 251],
)
def test_invalid_alias_names_are_refused(kms, key, name):
    expect_error("ValidationException", kms.create_alias, AliasName=name, TargetKeyId=key["KeyId"])


def test_invalid_alias_names_on_update_and_delete(kms, key):
    expect_error("ValidationException", kms.update_alias, AliasName="no-prefix", TargetKeyId=key["KeyId"])
    expect_error("ValidationException", kms.delete_alias, AliasName="no-prefix")


def test_aws_alias_prefix_is_reserved(kms, key):
    expect_error("NotAuthorizedException", kms.create_alias, AliasName="alias/aws/pytest", TargetKeyId=key["KeyId"])


# ---- Encrypt, Decrypt, ReEncrypt -----------------------------------------------------------------------------------


def test_encrypt_decrypt_round_trip_with_context(kms, key):
    context = {"tenant": "acme", "purpose": "pytest"}
    encrypted = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"hello pytest", EncryptionContext=context)
    assert encrypted["KeyId"] == key["Arn"]
    assert encrypted["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = encrypted["CiphertextBlob"]
    assert b"hello pytest" not in blob

    # Symmetric ciphertext names its key: KeyId is optional on Decrypt.
    without_key = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert without_key["Plaintext"] == b"hello pytest"
    assert without_key["KeyId"] == key["Arn"]
    assert without_key["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    for identifier in (key["KeyId"], key["Arn"]):
        with_key = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=identifier)
        assert with_key["Plaintext"] == b"hello pytest"

    # The context is authenticated: missing, changed or extra pairs all fail the same way.
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"tenant": "acme"})
    expect_error(
        "InvalidCiphertextException",
        kms.decrypt,
        CiphertextBlob=blob,
        EncryptionContext={**context, "tenant": "other"},
    )
    expect_error(
        "InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={**context, "extra": "1"}
    )


def test_encrypt_through_alias_and_alias_arn(kms, key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    for identifier in (alias, alias_arn(alias), key["Arn"]):
        encrypted = kms.encrypt(KeyId=identifier, Plaintext=b"via " + identifier.encode())
        assert encrypted["KeyId"] == key["Arn"]
        assert kms.decrypt(CiphertextBlob=encrypted["CiphertextBlob"])["Plaintext"] == b"via " + identifier.encode()


def test_decrypt_with_another_keys_id_is_incorrect_key(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, KeyId=other_key["KeyId"])


def test_tampered_or_garbage_ciphertext_is_invalid(kms, key):
    blob = bytearray(kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"])
    blob[-1] ^= 0x01
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(blob))
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"not a ciphertext blob")


def test_plaintext_size_limits(kms, key):
    at_limit = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4096)
    assert kms.decrypt(CiphertextBlob=at_limit["CiphertextBlob"])["Plaintext"] == b"x" * 4096
    expect_error("ValidationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    expect_error("ValidationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"")


def test_encrypt_with_unknown_key_is_not_found(kms):
    expect_error("NotFoundException", kms.encrypt, KeyId=UNKNOWN_KEY, Plaintext=b"x")
    expect_error("NotFoundException", kms.encrypt, KeyId=unique_alias(), Plaintext=b"x")


def test_re_encrypt_moves_ciphertext_to_another_key_and_context(kms, key, other_key):
    source = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    moved = kms.re_encrypt(
        CiphertextBlob=source,
        SourceEncryptionContext={"a": "1"},
        SourceKeyId=key["KeyId"],
        DestinationKeyId=other_key["KeyId"],
        DestinationEncryptionContext={"b": "2"},
    )
    assert moved["SourceKeyId"] == key["Arn"]
    assert moved["KeyId"] == other_key["Arn"]
    assert moved["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert moved["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    opened = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert opened["Plaintext"] == b"move me"
    assert opened["KeyId"] == other_key["Arn"]
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=moved["CiphertextBlob"])

    # The source side is checked like Decrypt.
    expect_error(
        "InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=source, DestinationKeyId=other_key["KeyId"]
    )
    expect_error(
        "IncorrectKeyException",
        kms.re_encrypt,
        CiphertextBlob=source,
        SourceEncryptionContext={"a": "1"},
        SourceKeyId=other_key["KeyId"],
        DestinationKeyId=other_key["KeyId"],
    )
    expect_error(
        "NotFoundException",
        kms.re_encrypt,
        CiphertextBlob=source,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=UNKNOWN_KEY,
    )


# ---- Data keys and random bytes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, size",
    [
        ({"KeySpec": "AES_256"}, 32),
        ({"KeySpec": "AES_128"}, 16),
        ({"NumberOfBytes": 17}, 17),
        ({"NumberOfBytes": 1024}, 1024),
    ],
)
def test_generate_data_key(kms, key, spec, size):
    context = {"purpose": "data key"}
    data_key = kms.generate_data_key(KeyId=key["KeyId"], EncryptionContext=context, **spec)
    assert data_key["KeyId"] == key["Arn"]
    assert len(data_key["Plaintext"]) == size
    opened = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == data_key["Plaintext"]


def test_generate_data_key_needs_exactly_one_size(kms, key):
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"])
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256", NumberOfBytes=32)
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"], NumberOfBytes=1025)
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_512")


def test_generate_data_key_without_plaintext(kms, key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    data_key = kms.generate_data_key_without_plaintext(KeyId=alias, KeySpec="AES_256", EncryptionContext={"k": "v"})
    assert "Plaintext" not in data_key
    assert data_key["KeyId"] == key["Arn"]
    assert len(kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"k": "v"})["Plaintext"]) == 32
    by_bytes = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], NumberOfBytes=64)
    assert len(kms.decrypt(CiphertextBlob=by_bytes["CiphertextBlob"])["Plaintext"]) == 64


def test_generate_random(kms):
    first = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    second = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(first) == 32 and len(second) == 32 and first != second
    assert len(kms.generate_random(NumberOfBytes=1)["Plaintext"]) == 1
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    expect_error("ValidationException", kms.generate_random, NumberOfBytes=1025)
    expect_error("ValidationException", kms.generate_random)


# ---- Key states: Enabled, Disabled, PendingDeletion ----------------------------------------------------------------


def test_disable_and_enable_key(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    kms.disable_key(KeyId=key["KeyId"])
    metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "Disabled" and metadata["Enabled"] is False
    expect_error("DisabledException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)
    expect_error("DisabledException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")
    expect_error("DisabledException", kms.generate_data_key_without_plaintext, KeyId=key["KeyId"], KeySpec="AES_256")
    expect_error("DisabledException", kms.enable_key_rotation, KeyId=key["KeyId"])
    # Disabling again is a no-op; management operations still work on a disabled key.
    kms.disable_key(KeyId=key["KeyId"])
    kms.update_key_description(KeyId=key["KeyId"], Description="while disabled")
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False

    kms.enable_key(KeyId=key["KeyId"])
    metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "Enabled" and metadata["Enabled"] is True
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"


def test_state_changes_need_a_key_id_or_arn(kms, key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    expect_error("NotFoundException", kms.disable_key, KeyId=alias)
    expect_error("NotFoundException", kms.enable_key, KeyId=UNKNOWN_KEY)
    kms.disable_key(KeyId=key["Arn"])
    assert state(kms, key["KeyId"]) == "Disabled"
    kms.enable_key(KeyId=key["Arn"])
    assert state(kms, key["KeyId"]) == "Enabled"


@pytest.mark.parametrize("days", [1, 6, 31, 365])
def test_deletion_window_outside_7_to_30_days_is_refused(kms, key, days):
    # (botocore itself refuses values below 1 before sending, so the server sees 1 and up.)
    expect_error("ValidationException", kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=days)
    assert state(kms, key["KeyId"]) == "Enabled"


@pytest.mark.parametrize("days", [7, 30])
def test_schedule_and_cancel_key_deletion(kms, key, days):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"doomed")["CiphertextBlob"]
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    scheduled = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=days)
    assert scheduled["KeyId"] == key["Arn"]
    assert scheduled["KeyState"] == "PendingDeletion"
    assert scheduled["PendingWindowInDays"] == days
    window = scheduled["DeletionDate"] - key["CreationDate"]
    assert days - 1 <= window.total_seconds() / 86400 <= days + 1

    metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    assert metadata["Enabled"] is False
    assert metadata["DeletionDate"] == scheduled["DeletionDate"]

    # Pending deletion: use is refused with KMSInvalidStateException, reads still answer.
    invalid = "KMSInvalidStateException"
    expect_error(invalid, kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    expect_error(invalid, kms.encrypt, KeyId=alias, Plaintext=b"x")
    expect_error(invalid, kms.decrypt, CiphertextBlob=blob)
    expect_error(invalid, kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")
    expect_error(invalid, kms.generate_data_key_without_plaintext, KeyId=key["KeyId"], NumberOfBytes=32)
    expect_error(invalid, kms.enable_key, KeyId=key["KeyId"])
    expect_error(invalid, kms.disable_key, KeyId=key["KeyId"])
    expect_error(invalid, kms.rotate_key_on_demand, KeyId=key["KeyId"])
    expect_error(invalid, kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=7)
    expect_error(invalid, kms.create_alias, AliasName=unique_alias(), TargetKeyId=key["KeyId"])
    assert kms.get_key_policy(KeyId=key["KeyId"])["Policy"]
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key["KeyId"])["Aliases"]] == [alias]

    cancelled = kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert cancelled["KeyId"] == key["Arn"]
    metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "Disabled"
    assert "DeletionDate" not in metadata
    expect_error(invalid, kms.cancel_key_deletion, KeyId=key["KeyId"])
    expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"doomed"


def test_schedule_key_deletion_defaults_to_30_days(kms, key):
    scheduled = kms.schedule_key_deletion(KeyId=key["KeyId"])
    assert scheduled["PendingWindowInDays"] == 30
    kms.cancel_key_deletion(KeyId=key["KeyId"])


def test_disabled_key_can_be_scheduled_for_deletion(kms, key):
    kms.disable_key(KeyId=key["KeyId"])
    assert kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert state(kms, key["KeyId"]) == "Disabled"


def test_cancel_deletion_of_unknown_key_is_not_found(kms):
    expect_error("NotFoundException", kms.cancel_key_deletion, KeyId=UNKNOWN_KEY)
    expect_error("NotFoundException", kms.schedule_key_deletion, KeyId=UNKNOWN_KEY, PendingWindowInDays=7)


# ---- Rotation ------------------------------------------------------------------------------------------------------


def test_automatic_rotation_settings(kms, key):
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["Arn"])
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 365
    assert "NextRotationDate" in status
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["RotationPeriodInDays"] == 90
    expect_error("ValidationException", kms.enable_key_rotation, KeyId=key["KeyId"], RotationPeriodInDays=2561)
    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    expect_error("NotFoundException", kms.get_key_rotation_status, KeyId=UNKNOWN_KEY)
    expect_error("NotFoundException", kms.enable_key_rotation, KeyId=UNKNOWN_KEY)


def test_rotate_key_on_demand(kms, key):
    before = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"old material", EncryptionContext={"v": "1"})["CiphertextBlob"]
    assert kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"] == []
    first_material = key["CurrentKeyMaterialId"]

    assert kms.rotate_key_on_demand(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
    rotated = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert rotated["CurrentKeyMaterialId"] != first_material
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])
    assert rotations["Truncated"] is False
    assert len(rotations["Rotations"]) == 1
    entry = rotations["Rotations"][0]
    assert entry["KeyId"] == key["KeyId"]
    assert entry["RotationType"] == "ON_DEMAND"
    assert entry["KeyMaterialId"] == rotated["CurrentKeyMaterialId"]
    assert entry["KeyMaterialState"] == "CURRENT"
    assert "RotationDate" in entry

    # Old ciphertext still opens (with the old material); new ciphertext uses the new one.
    opened = kms.decrypt(CiphertextBlob=before, EncryptionContext={"v": "1"})
    assert opened["Plaintext"] == b"old material"
    assert opened["KeyMaterialId"] == first_material
    after = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"new material")["CiphertextBlob"]
    assert after[:17] == before[:17] and after[17:21] != before[17:21]
    assert kms.decrypt(CiphertextBlob=after)["KeyMaterialId"] == rotated["CurrentKeyMaterialId"]

    # A second rotation: both listed, oldest first, paged with Limit/Marker.
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT", "CURRENT"]
    page = kms.list_key_rotations(KeyId=key["KeyId"], Limit=1)
    assert page["Truncated"] is True and len(page["Rotations"]) == 1
    rest = kms.list_key_rotations(KeyId=key["KeyId"], Limit=1, Marker=page["NextMarker"])
    assert rest["Truncated"] is False
    assert page["Rotations"] + rest["Rotations"] == rotations
    assert kms.decrypt(CiphertextBlob=before, EncryptionContext={"v": "1"})["Plaintext"] == b"old material"


def test_rotate_disabled_key_is_refused(kms, key):
    kms.disable_key(KeyId=key["KeyId"])
    expect_error("DisabledException", kms.rotate_key_on_demand, KeyId=key["KeyId"])
    expect_error("NotFoundException", kms.rotate_key_on_demand, KeyId=UNKNOWN_KEY)


# ---- Key policy ----------------------------------------------------------------------------------------------------


def test_key_policy(kms, key):
    default = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")
    assert default["PolicyName"] == "default"
    document = json.loads(default["Policy"])
    assert document["Version"] == "2012-10-17"
    assert document["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert document["Statement"][0]["Action"] == "kms:*"

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "pytest",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    assert json.loads(kms.get_key_policy(KeyId=key["Arn"], PolicyName="default")["Policy"]) == policy

    for malformed in ("{not json", "[]", ""):
        expect_error(
            "MalformedPolicyDocumentException",
            kms.put_key_policy,
            KeyId=key["KeyId"],
            PolicyName="default",
            Policy=malformed or "   ",
        )
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == policy
    expect_error("NotFoundException", kms.get_key_policy, KeyId=key["KeyId"], PolicyName="other")
    expect_error("NotFoundException", kms.get_key_policy, KeyId=UNKNOWN_KEY, PolicyName="default")


# ---- Tags and description ------------------------------------------------------------------------------------------


def test_tags(kms, key):
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == []
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=key["Arn"], Tags=[{"TagKey": "a", "TagValue": "updated"}])
    tags = kms.list_resource_tags(KeyId=key["KeyId"])
    assert tags["Truncated"] is False
    assert sorted(tags["Tags"], key=lambda t: t["TagKey"]) == [
        {"TagKey": "a", "TagValue": "updated"},
        {"TagKey": "b", "TagValue": "2"},
    ]
    first = kms.list_resource_tags(KeyId=key["KeyId"], Limit=1)
    assert first["Truncated"] is True and len(first["Tags"]) == 1
    second = kms.list_resource_tags(KeyId=key["KeyId"], Limit=1, Marker=first["NextMarker"])
    assert second["Truncated"] is False
    assert sorted(first["Tags"] + second["Tags"], key=lambda t: t["TagKey"]) == sorted(
        tags["Tags"], key=lambda t: t["TagKey"]
    )

    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["a", "not-there"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [{"TagKey": "b", "TagValue": "2"}]
    reserved = [{"TagKey": "aws:reserved", "TagValue": "x"}]
    expect_error("TagException", kms.tag_resource, KeyId=key["KeyId"], Tags=reserved)
    expect_error("NotFoundException", kms.tag_resource, KeyId=UNKNOWN_KEY, Tags=[{"TagKey": "a", "TagValue": "1"}])
    expect_error("NotFoundException", kms.list_resource_tags, KeyId=UNKNOWN_KEY)


def test_update_key_description(kms, key):
    kms.update_key_description(KeyId=key["KeyId"], Description="renamed")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "renamed"
    kms.update_key_description(KeyId=key["Arn"], Description="")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == ""
    expect_error("ValidationException", kms.update_key_description, KeyId=key["KeyId"], Description="x" * 8193)
    expect_error("NotFoundException", kms.update_key_description, KeyId=UNKNOWN_KEY, Description="x")


# ---- Metrics -------------------------------------------------------------------------------------------------------


def _metric(text, name):
    """The value of an unlabelled metric line, or of the first line of `name` with labels `name{...}`."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in the metrics:\n{text}")


def test_metrics_count_requests_and_the_audit_trails_group_commits(kms, key):
    import urllib.request

    def scrape():
        endpoint = _environment("SEALED_KMS_ENDPOINT").rstrip("/")
        with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            return response.read().decode()

    before = scrape()
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"counted")
    after = scrape()
    assert 'sealed_requests_total{operation="Encrypt",outcome="success"}' in after
    # Every signed call is audited: the record of the Encrypt (at least) was committed in between.
    assert _metric(after, "sealed_audit_records_total") >= _metric(before, "sealed_audit_records_total") + 1
    committed = _metric(after, 'sealed_audit_transactions_total{outcome="committed"}')
    assert committed >= 1
    assert _metric(after, 'sealed_audit_transactions_total{outcome="failed"}') == 0
    assert _metric(after, "sealed_audit_commit_duration_seconds_count") >= committed
