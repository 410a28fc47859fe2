#!/usr/bin/env python3
"""Batch driver of the official branch keystore (the MPL's KeyStore), used by the Swift keystore interop tests.

Usage: keystore_peer.py JOB.json RESULTS.json

JOB.json:
  {"keystore": {"table": NAME, "logical_name": NAME, "kms_key_arn": ARN,
                "endpoint_url": URL, "region": R, "access_key_id": K, "secret_access_key": S},
   "steps": [STEP, ...]}

Each STEP is {"id": ..., "op": OP, ...} with OP one of
  create_key_store                                 -> {"table_arn"}
  create_key   [branch_key_id] [encryption_context] -> {"branch_key_id"}
  version_key  branch_key_id                        -> {}
  get_active   branch_key_id                        -> MATERIALS
  get_version  branch_key_id, version               -> MATERIALS
  get_beacon   branch_key_id                        -> {"branch_key_id", "key", "encryption_context"}
MATERIALS is {"branch_key_id", "version", "key" (base64), "encryption_context"}.

RESULTS.json gets {"results": [{"id", "ok", "error", "error_type", ...output}, ...]} in step order. A failing step
never stops the batch; the exit status is 0 unless the job file is unusable (then 2, with a message on stderr).
The boto3 clients point at one endpoint (moto or `sealed serve`) for both DynamoDB and KMS.
"""

import base64
import json
import sys
import warnings

warnings.simplefilter("ignore")

import boto3  # noqa: E402
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


def make_keystore(spec):
    def client(service):
        return boto3.client(
            service, endpoint_url=spec["endpoint_url"], region_name=spec["region"],
            aws_access_key_id=spec["access_key_id"], aws_secret_access_key=spec["secret_access_key"],
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
    raise ValueError("unknown op %r" % op)


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
            result["error"] = str(error) or repr(error)
            result["error_type"] = type(error).__name__
        results.append(result)
    with open(sys.argv[2], "w") as handle:
        json.dump({"results": results}, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
