#!/usr/bin/env python3
"""Batch driver of the official AWS KMS Hierarchical keyring (Python MPL) and its branch keystore, used by the
Swift interop tests of crypto-shredding.

Usage: hierarchy_peer.py JOB.json RESULTS.json

JOB.json:
  {"endpoint": URL or null (real AWS), "region": "us-east-1",
   "credentials": {"accessKeyId": …, "secretAccessKey": …, "sessionToken": … (optional)},
   "table": "sealed-branch-keys", "logicalName": "sealed-branch-keys", "kmsKeyArn": "arn:aws:kms:…",
   "steps": [STEP, …]}
STEP is one of
  {"op": "create-key-store"}
  {"op": "create-key", "branchKeyId": ID or null, "encryptionContext": {…}}
  {"op": "version-key", "branchKeyId": ID}
  {"op": "active-version", "branchKeyId": ID}                      -> {"version": UUID}
  {"op": "encrypt", "branchKeyId": ID or null, "encryptionContext": {…}, "plaintext": B64, "suite": "0x0478"|"0x0578"}
      (branchKeyId null: the id is the encryption context's "subjectKey", through a branch key id supplier)
  {"op": "decrypt", "branchKeyId": ID or null, "ciphertext": B64}  -> {"plaintext": B64, "encryptionContext": {…}}
RESULTS.json gets {"results": [{"ok": true, …} | {"ok": false, "error": TYPE, "message": TEXT}, …]} in order. A
failing step never stops the batch. Each encrypt/decrypt step builds a fresh keyring (TTL 60 s), so every step
reads the keystore: a destroyed branch key fails at once.
"""

import base64
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")
logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL + 1)

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
    KMSConfigurationKmsKeyArn,
    VersionKeyInput,
)
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders  # noqa: E402
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import (  # noqa: E402
    CreateAwsKmsHierarchicalKeyringInput,
    GetBranchKeyIdOutput,
)
from aws_cryptographic_material_providers.mpl.references import IBranchKeyIdSupplier  # noqa: E402

SUITES = {
    "0x0478": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    "0x0578": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}


class FromContext(IBranchKeyIdSupplier):
    """The branch key id is the message's subjectKey, as Sealed Events writes it."""

    def get_branch_key_id(self, param):
        return GetBranchKeyIdOutput(branch_key_id=param.encryption_context["subjectKey"])


def main(job_path, results_path):
    job = json.load(open(job_path))
    credentials = job["credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        aws_session_token=credentials.get("sessionToken"),
        region_name=job["region"],
    )
    endpoint = job.get("endpoint")
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    kms = session.client("kms", endpoint_url=endpoint)
    store = KeyStore(
        config=KeyStoreConfig(
            ddb_table_name=job["table"],
            logical_key_store_name=job["logicalName"],
            kms_configuration=KMSConfigurationKmsKeyArn(job["kmsKeyArn"]),
            ddb_client=ddb,
            kms_client=kms,
        )
    )
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

    def keyring(branch_key_id):
        if branch_key_id:
            config = CreateAwsKmsHierarchicalKeyringInput(key_store=store, branch_key_id=branch_key_id, ttl_seconds=60)
        else:
            config = CreateAwsKmsHierarchicalKeyringInput(
                key_store=store, branch_key_id_supplier=FromContext(), ttl_seconds=60
            )
        return mpl.create_aws_kms_hierarchical_keyring(config)

    results = []
    for step in job["steps"]:
        try:
            op = step["op"]
            if op == "create-key-store":
                store.create_key_store(CreateKeyStoreInput())
                result = {}
            elif op == "create-key":
                created = store.create_key(
                    CreateKeyInput(
                        branch_key_identifier=step.get("branchKeyId"),
                        encryption_context=step.get("encryptionContext") or None,
                    )
                )
                result = {"branchKeyId": created.branch_key_identifier}
            elif op == "version-key":
                store.version_key(VersionKeyInput(branch_key_identifier=step["branchKeyId"]))
                result = {}
            elif op == "active-version":
                active = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=step["branchKeyId"]))
                version = active.branch_key_materials.branch_key_version
                result = {"version": version.decode() if isinstance(version, (bytes, bytearray)) else str(version)}
            elif op == "encrypt":
                ciphertext, _ = client.encrypt(
                    source=base64.b64decode(step["plaintext"]),
                    keyring=keyring(step.get("branchKeyId")),
                    encryption_context=step.get("encryptionContext") or {},
                    algorithm=SUITES[step.get("suite", "0x0578")],
                )
                result = {"ciphertext": base64.b64encode(ciphertext).decode()}
            elif op == "decrypt":
                plaintext, header = client.decrypt(
                    source=base64.b64decode(step["ciphertext"]), keyring=keyring(step.get("branchKeyId"))
                )
                context = {k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")}
                result = {"plaintext": base64.b64encode(plaintext).decode(), "encryptionContext": context}
            else:
                raise ValueError(f"unknown op {op}")
            results.append({"ok": True, **result})
        except Exception as error:  # reported per step
            results.append({"ok": False, "error": type(error).__name__, "message": str(error)[:2000]})
    json.dump({"results": results}, open(results_path, "w"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: hierarchy_peer.py JOB.json RESULTS.json")
    main(sys.argv[1], sys.argv[2])
