#!/usr/bin/env python3
"""Makes the hierarchical keyring's known-answer vectors with the official Python MPL and ESDK.

Usage: make_hierarchy_kat.py OUT.json

The branch keystore runs on moto's in-process DynamoDB and KMS (``moto.mock_aws``): the official KeyStore creates a
branch key (custom id and encryption context) and a second version, reports both versions' plaintext branch keys,
and the official hierarchical keyring encrypts messages under each. The Swift known-answer test decrypts those
messages with the branch keys alone (no keystore), and checks the derivation against the MPL's own KDF.
"""

import base64
import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")

import boto3  # noqa: E402
import aws_encryption_sdk  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm  # noqa: E402
from aws_cryptographic_material_providers.keystore import KeyStore  # noqa: E402
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig  # noqa: E402
from aws_cryptographic_material_providers.keystore.models import (  # noqa: E402
    CreateKeyInput,
    CreateKeyStoreInput,
    GetActiveBranchKeyInput,
    GetBranchKeyVersionInput,
    KMSConfigurationKmsKeyArn,
    VersionKeyInput,
)
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders  # noqa: E402
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import (  # noqa: E402
    CacheTypeDefault,
    CreateAwsKmsHierarchicalKeyringInput,
    DefaultCache,
)
from moto import mock_aws  # noqa: E402

BRANCH_KEY_ID = "orders.placed/s-0123456789abcdef0123456789abcdef"
CUSTOM_EC = {"eventType": "orders.placed", "domain": "orders"}
CASES = [
    ("0x0578", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, {"eventType": "orders.placed", "subjectKey": BRANCH_KEY_ID}),
    ("0x0478", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, {"eventType": "orders.placed", "subjectKey": BRANCH_KEY_ID}),
    ("0x0478", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, {}),
]


def main(out_path):
    with mock_aws():
        kms = boto3.client("kms", region_name="us-west-2")
        ddb = boto3.client("dynamodb", region_name="us-west-2")
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        store = KeyStore(
            config=KeyStoreConfig(
                ddb_table_name="kat-keystore",
                kms_configuration=KMSConfigurationKmsKeyArn(key_arn),
                logical_key_store_name="kat-keystore",
                kms_client=kms,
                ddb_client=ddb,
            )
        )
        store.create_key_store(CreateKeyStoreInput())
        store.create_key(CreateKeyInput(branch_key_identifier=BRANCH_KEY_ID, encryption_context=CUSTOM_EC))
        mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
        client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        )
        versions = {}
        messages = []
        for round_number in range(2):
            if round_number == 1:
                store.version_key(VersionKeyInput(branch_key_identifier=BRANCH_KEY_ID))
            active = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=BRANCH_KEY_ID))
            materials = active.branch_key_materials
            version = materials.branch_key_version
            version_text = version.decode("utf-8") if isinstance(version, (bytes, bytearray)) else str(version)
            check = store.get_branch_key_version(
                GetBranchKeyVersionInput(branch_key_identifier=BRANCH_KEY_ID, branch_key_version=version_text)
            ).branch_key_materials
            assert bytes(check.branch_key) == bytes(materials.branch_key)
            versions[version_text] = bytes(materials.branch_key).hex()
            keyring = mpl.create_aws_kms_hierarchical_keyring(
                CreateAwsKmsHierarchicalKeyringInput(
                    key_store=store,
                    branch_key_id=BRANCH_KEY_ID,
                    ttl_seconds=1,
                    cache=CacheTypeDefault(DefaultCache(entry_capacity=10)),
                )
            )
            for index, (suite, algorithm, context) in enumerate(CASES):
                plaintext = f"known answer {round_number}.{index}: ".encode() + bytes(range(40))
                ciphertext, _ = client.encrypt(
                    source=plaintext, keyring=keyring, encryption_context=context, algorithm=algorithm
                )
                messages.append(
                    {
                        "suite": suite,
                        "version": version_text,
                        "encryptionContext": context,
                        "plaintext": base64.b64encode(plaintext).decode(),
                        "ciphertext": base64.b64encode(ciphertext).decode(),
                    }
                )
    document = {
        "producer": "aws-cryptographic-material-providers 1.11.3 + aws-encryption-sdk 4.0.7 (Python), "
        "keystore on moto's in-process DynamoDB and KMS; made by scripts/peers/make_hierarchy_kat.py",
        "branchKeyId": BRANCH_KEY_ID,
        "customEncryptionContext": CUSTOM_EC,
        "versions": versions,
        "messages": messages,
    }
    with open(out_path, "w") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hierarchy_kat.py OUT.json")
    main(sys.argv[1])
