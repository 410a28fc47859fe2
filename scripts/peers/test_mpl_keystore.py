"""The official Python MPL's branch keystore and hierarchical keyring on a live `sealed serve`: DynamoDB and KMS both.

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    python -m pytest -q scripts/peers/test_mpl_keystore.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. The MPL (aws-cryptographic-material-providers, Dafny-generated:
the reference of the branch keystore's wire behaviour) makes every DynamoDB request itself through boto3, so these
tests hold the DynamoDB subset to what the keystore really sends: CreateKeyStore (DescribeTable, CreateTable),
CreateKey (TransactWriteItems with conditions), VersionKey (GetItem, TransactWriteItems), GetActiveBranchKey,
GetBranchKeyVersion, GetBeaconKey (GetItem, then KMS Decrypt with the branch key's encryption context), and a
hierarchical-keyring round trip with the official AWS Encryption SDK.
"""
import os
import uuid

import aws_encryption_sdk
import boto3
import pytest
from aws_cryptographic_material_providers.keystore.client import KeyStore
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig
from aws_cryptographic_material_providers.keystore.models import (
    CreateKeyInput,
    CreateKeyStoreInput,
    GetActiveBranchKeyInput,
    GetBeaconKeyInput,
    GetBranchKeyVersionInput,
    KMSConfigurationKmsKeyArn,
    VersionKeyInput,
)
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsHierarchicalKeyringInput
from aws_encryption_sdk import CommitmentPolicy
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "000000000000"


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (see the module docstring)", returncode=2)
    return value


ENDPOINT = _environment("SEALED_KMS_ENDPOINT")
ADMIN = (_environment("SEALED_KMS_ACCESS_KEY_ID"), _environment("SEALED_KMS_SECRET_ACCESS_KEY"))


def client(service):
    return boto3.client(
        service, endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=ADMIN[0],
        aws_secret_access_key=ADMIN[1], config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def keystore():
    """A keystore in a fresh table, its branch keys wrapped by a fresh key of the sealed key service."""
    kms = client("kms")
    ddb = client("dynamodb")
    key_arn = kms.create_key(Description="branch keystore")["KeyMetadata"]["Arn"]
    table = f"branch-keys-{uuid.uuid4().hex[:8]}"
    store = KeyStore(config=KeyStoreConfig(
        ddb_table_name=table, logical_key_store_name=table,
        kms_configuration=KMSConfigurationKmsKeyArn(key_arn), ddb_client=ddb, kms_client=kms,
    ))
    created = store.create_key_store(CreateKeyStoreInput())
    assert created.table_arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    # Again: DescribeTable finds the table with the expected construction.
    assert store.create_key_store(CreateKeyStoreInput()).table_arn == created.table_arn
    return store, ddb, table


def test_branch_keys_are_created_versioned_and_read_back(keystore):
    store, ddb, table = keystore
    branch_key_id = f"payments.card.captured/s-{uuid.uuid4().hex}"
    context = {"eventType": "payments.card.captured", "domain": "payments"}
    created = store.create_key(CreateKeyInput(branch_key_identifier=branch_key_id, encryption_context=context))
    assert created.branch_key_identifier == branch_key_id

    active = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=branch_key_id))
    first = active.branch_key_materials
    assert len(first.branch_key) == 32
    assert first.encryption_context == context

    store.version_key(VersionKeyInput(branch_key_identifier=branch_key_id))
    second = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=branch_key_id)).branch_key_materials
    assert second.branch_key_version != first.branch_key_version
    assert second.branch_key != first.branch_key

    old = store.get_branch_key_version(GetBranchKeyVersionInput(
        branch_key_identifier=branch_key_id, branch_key_version=first.branch_key_version)).branch_key_materials
    assert old.branch_key == first.branch_key
    beacon = store.get_beacon_key(GetBeaconKeyInput(branch_key_identifier=branch_key_id)).beacon_key_materials
    assert len(beacon.beacon_key) == 32

    # The items the MPL wrote: ACTIVE, beacon and one per version, in the table's sort key order.
    items = ddb.query(TableName=table, KeyConditionExpression="#b = :b",
                      ExpressionAttributeNames={"#b": "branch-key-id"},
                      ExpressionAttributeValues={":b": {"S": branch_key_id}})["Items"]
    kinds = [entry["type"]["S"] for entry in items]
    assert kinds[0] == "beacon:ACTIVE" and kinds[1] == "branch:ACTIVE" and len(kinds) == 4
    assert all(kind.startswith("branch:version:") for kind in kinds[2:])
    assert all(entry["aws-crypto-ec:eventType"]["S"] == "payments.card.captured" for entry in items)

    # A second CreateKey with the same id is refused by the table's condition.
    with pytest.raises(Exception) as raised:
        store.create_key(CreateKeyInput(branch_key_identifier=branch_key_id, encryption_context=context))
    assert "[None, ConditionalCheckFailed, ConditionalCheckFailed]" in str(raised.value)


def test_a_hierarchical_keyring_round_trip_and_erasure(keystore):
    store, ddb, table = keystore
    branch_key_id = store.create_key(CreateKeyInput()).branch_key_identifier
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    keyring = mpl.create_aws_kms_hierarchical_keyring(CreateAwsKmsHierarchicalKeyringInput(
        key_store=store, branch_key_id=branch_key_id, ttl_seconds=60))
    esdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    plaintext = b"personal data of one subject"
    ciphertext, header = esdk.encrypt(source=plaintext, keyring=keyring, encryption_context={"subjectKey": branch_key_id})
    assert [key.key_provider.provider_id for key in header.encrypted_data_keys] == ["aws-kms-hierarchy"]
    decrypted, _ = esdk.decrypt(source=ciphertext, keyring=keyring)
    assert decrypted == plaintext

    # Crypto-shredding: delete every item of the branch key; a keyring without a cached key can no longer open it.
    items = ddb.query(TableName=table, KeyConditionExpression="#b = :b",
                      ExpressionAttributeNames={"#b": "branch-key-id"},
                      ExpressionAttributeValues={":b": {"S": branch_key_id}})["Items"]
    ddb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": table, "Key": {"branch-key-id": entry["branch-key-id"], "type": entry["type"]}}}
        for entry in items
    ])
    fresh = mpl.create_aws_kms_hierarchical_keyring(CreateAwsKmsHierarchicalKeyringInput(
        key_store=store, branch_key_id=branch_key_id, ttl_seconds=60))
    with pytest.raises(Exception) as raised:
        esdk.decrypt(source=ciphertext, keyring=fresh)
    assert "No Configured KMS Key was able to decrypt the Data Key" in str(raised.value)
    with pytest.raises(Exception) as raised:
        store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=branch_key_id))
    assert "No item found for corresponding branch key identifier" in str(raised.value)
