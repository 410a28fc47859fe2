#!/usr/bin/env python3
"""Batch driver of the official branch keystore (the MPL's KeyStore) and of the official AWS KMS Hierarchical
keyring on it, used by the Swift keystore and crypto-shredding interop tests.

Usage: keystore_peer.py JOB.json RESULTS.json

JOB.json:
  {"keystore": {"table": NAME, "logical_name": NAME, "kms_key_arn": ARN,
                "endpoint_url": URL, "region": R, "access_key_id": K, "secret_access_key": S,
                "session_token": T (optional: a role session's credentials)},
   "steps": [STEP, ...]}

Each STEP is {"id": ..., "op": OP, ...} with OP one of
  create_key_store                                 -> {"table_arn"}
  create_key   [branch_key_id] [encryption_context] -> {"branch_key_id"}
  version_key  branch_key_id                        -> {}
  get_active   branch_key_id                        -> MATERIALS
  get_version  branch_key_id, version               -> MATERIALS
  get_beacon   branch_key_id                        -> {"branch_key_id", "key", "encryption_context"}
  encrypt      [branch_key_id] plaintext (base64) encryption_context [suite "0x0478"|"0x0578"] -> {"ciphertext"}
  decrypt      [branch_key_id] ciphertext (base64)  -> {"plaintext", "encryption_context"}
MATERIALS is {"branch_key_id", "version", "key" (base64), "encryption_context"}.
encrypt and decrypt use the hierarchical keyring (TTL 60 s) with the branch key id given, or without one, a branch
key id supplier that reads the message's "subjectKey" (as Sealed Events writes it); each step builds a fresh
keyring, so every step reads the keystore and a destroyed branch key fails at once.

RESULTS.json gets {"results": [{"id", "ok", "error", "error_type", ...output}, ...]} in step order. A failing step
never stops the batch; the exit status is 0 unless the job file is unusable (then 2, with a message on stderr).
The boto3 clients point at one endpoint (moto or `sealed serve`) for both DynamoDB and KMS.
"""

import base64
import json
import sys
import warnings

warnings.simplefilter("ignore")

import aws_encryption_sdk  # noqa: E402
import boto3  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm  # noqa: E402
from botocore.config import Config  # noqa: E402
from aws_cryptographic_material_providers.keystore.client import KeyStore  # noqa: E402
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig  # noqa: E402
from aws_cryptographic_material_providers.keystore.models import (  # noqa: E402
    CreateKeyInput,
    CreateKeyStoreInput,
    GetActiveBranchKeyInput,
    GetBeaconKeyInput,
    GetBranchKeyVersionInput,
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
MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
ESDK = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


class FromContext(IBranchKeyIdSupplier):
    """The branch key id is the message's subjectKey, as Sealed Events writes it."""

    def get_branch_key_id(self, param):
        return GetBranchKeyIdOutput(branch_key_id=param.encryption_context["subjectKey"])


def keyring(store, branch_key_id):
    if branch_key_id:
        config = CreateAwsKmsHierarchicalKeyringInput(key_store=store, branch_key_id=branch_key_id, ttl_seconds=60)
    else:
        config = CreateAwsKmsHierarchicalKeyringInput(key_store=store, branch_key_id_supplier=FromContext(), ttl_seconds=60)
    return MPL.create_aws_kms_hierarchical_keyring(config)


def make_keystore(spec):
    def client(service):
        return boto3.client(
            service, endpoint_url=spec["endpoint_url"], region_name=spec["region"],
            aws_access_key_id=spec["access_key_id"], aws_secret_access_key=spec["secret_access_key"],
            aws_session_token=spec.get("session_token"),
            config=Config(retries={"max_attempts": 2, "mode": "standard"}))

    return KeyStore(config=KeyStoreConfig(
        ddb_table_name=spec["table"],
        kms_configuration=KMSConfigurationKmsKeyArn(spec["kms_key_arn"]),
        logical_key_store_name=spec["logical_name"],
        ddb_client=client("dynamodb"),
        kms_client=client("kms"),
    ))


def materials(m):
    return {
        "branch_key_id": m.branch_key_identifier,
        "version": m.branch_key_version,
        "key": base64.b64encode(bytes(m.branch_key)).decode(),
        "encryption_context": dict(m.encryption_context),
    }


def run(store, step):
    op = step["op"]
    if op == "create_key_store":
        return {"table_arn": store.create_key_store(CreateKeyStoreInput()).table_arn}
    if op == "create_key":
        output = store.create_key(CreateKeyInput(
            branch_key_identifier=step.get("branch_key_id"),
            encryption_context=step.get("encryption_context")))
        return {"branch_key_id": output.branch_key_identifier}
    if op == "version_key":
        store.version_key(VersionKeyInput(branch_key_identifier=step["branch_key_id"]))
        return {}
    if op == "get_active":
        output = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=step["branch_key_id"]))
        return materials(output.branch_key_materials)
    if op == "get_version":
        output = store.get_branch_key_version(GetBranchKeyVersionInput(
            branch_key_identifier=step["branch_key_id"], branch_key_version=step["version"]))
        return materials(output.branch_key_materials)
    if op == "get_beacon":
        beacon = store.get_beacon_key(GetBeaconKeyInput(branch_key_identifier=step["branch_key_id"]))
        beacon = beacon.beacon_key_materials
        return {
            "branch_key_id": beacon.beacon_key_identifier,
            "key": base64.b64encode(bytes(beacon.beacon_key)).decode(),
            "encryption_context": dict(beacon.encryption_context),
        }
    if op == "encrypt":
        ciphertext, _ = ESDK.encrypt(
            source=base64.b64decode(step["plaintext"]),
            keyring=keyring(store, step.get("branch_key_id")),
            encryption_context=step.get("encryption_context") or {},
            algorithm=SUITES[step.get("suite", "0x0578")])
        return {"ciphertext": base64.b64encode(ciphertext).decode()}
    if op == "decrypt":
        plaintext, header = ESDK.decrypt(
            source=base64.b64decode(step["ciphertext"]), keyring=keyring(store, step.get("branch_key_id")))
        context = {k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")}
        return {"plaintext": base64.b64encode(plaintext).decode(), "encryption_context": context}
    raise ValueError("unknown op %r" % op)


def describe(error):
    """The error's message, with what the MPL collected behind it: the ESDK re-raises the keyring's
    CollectionOfErrors, whose `list` holds the keystore's own refusal ("No item found …")."""
    text = str(error) or repr(error)
    for inner in [*getattr(error, "args", ()), error.__context__]:
        if isinstance(inner, BaseException) and isinstance(getattr(inner, "list", None), (list, tuple)):
            text += " [" + "; ".join(repr(entry) for entry in inner.list) + "]"
            break
    return text[:4000]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(sys.argv[1]) as handle:
            job = json.load(handle)
        store = make_keystore(job["keystore"])
        steps = job["steps"]
    except Exception as error:
        sys.stderr.write("keystore_peer: unusable job file: %r\n" % (error,))
        return 2
    results = []
    for step in steps:
        result = {"id": step.get("id"), "ok": False, "error": None, "error_type": None}
        try:
            result.update(run(store, step))
            result["ok"] = True
        except Exception as error:  # reported per step
            result["error"] = describe(error)
            result["error_type"] = type(error).__name__
        results.append(result)
    with open(sys.argv[2], "w") as handle:
        json.dump({"results": results}, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
