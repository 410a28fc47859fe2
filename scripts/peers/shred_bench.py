"""Seal+open of a 1 KiB event per data subject with the official Python hierarchical keyring: the yardstick of
`event-bench shred`.

Usage: shred_bench.py --endpoint URL --access-key K --secret S --key-arn ARN --table T --branch-key-id ID [--seconds S]

The same work as the Swift Sealer and Opener with scope `fields` and a subject field (docs/sealed-events-format.md
§9): the sealed plaintext `{"v":1,"eventId":…,"fields":[{"pointer","value"},…]}` of the card's number and holder as
compact JSON, encrypted with encryption context {"eventType", "domain", "subjectKey"} and frame length 4096 by the
MPL's AWS KMS Hierarchical keyring over the official KeyStore on the same `sealed serve` (DynamoDB and KMS) the Swift
run used, its branch key cached (TTL 600 s, so the timed loop never reads the keystore); the envelope gets the
sealed markers and the base64 message; opening decodes, decrypts, parses and puts the values back. Prints
`python_shred_hierarchy_<suite>_per_second N` lines.
"""
import argparse
import base64
import json
import time
import warnings

warnings.simplefilter("ignore")

import aws_encryption_sdk  # noqa: E402
import boto3  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm  # noqa: E402
from aws_cryptographic_material_providers.keystore import KeyStore  # noqa: E402
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig  # noqa: E402
from aws_cryptographic_material_providers.keystore.models import KMSConfigurationKmsKeyArn  # noqa: E402
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders  # noqa: E402
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsHierarchicalKeyringInput  # noqa: E402

SUITES = [("0x0478", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY),
          ("0x0578", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)]
POINTERS = ["/card/number", "/card/holder"]


def data():
    return {"orderId": "o-0", "amount": 12.50, "currency": "EUR",
            "card": {"number": "4111111111111111", "holder": "Ada Lovelace", "expiry": "12/29"},
            "notes": "x" * 860}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--endpoint", "--access-key", "--secret", "--key-arn", "--table", "--branch-key-id"):
        parser.add_argument(name, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    arguments = parser.parse_args()
    session = boto3.Session(aws_access_key_id=arguments.access_key, aws_secret_access_key=arguments.secret,
                            region_name="us-east-1")
    store = KeyStore(config=KeyStoreConfig(
        ddb_table_name=arguments.table, logical_key_store_name=arguments.table,
        kms_configuration=KMSConfigurationKmsKeyArn(arguments.key_arn),
        ddb_client=session.client("dynamodb", endpoint_url=arguments.endpoint),
        kms_client=session.client("kms", endpoint_url=arguments.endpoint)))
    keyring = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig()).create_aws_kms_hierarchical_keyring(
        CreateAwsKmsHierarchicalKeyringInput(key_store=store, branch_key_id=arguments.branch_key_id, ttl_seconds=600))
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    context = {"eventType": "bench.card.captured", "domain": "bench", "subjectKey": arguments.branch_key_id}
    for name, algorithm in SUITES:
        original = data()
        count = -1  # one event first: the branch key is fetched outside the timed loop
        start = time.perf_counter()
        while count < 0 or time.perf_counter() - start < arguments.seconds:
            event_id = f"e-{count}"
            values = [original["card"]["number"], original["card"]["holder"]]
            plaintext = json.dumps({"v": 1, "eventId": event_id,
                                    "fields": [{"pointer": p, "value": v} for p, v in zip(POINTERS, values)]},
                                   separators=(",", ":")).encode()
            ciphertext, _ = client.encrypt(source=plaintext, keyring=keyring, encryption_context=context,
                                           algorithm=algorithm, frame_length=4096)
            sealed = json.loads(json.dumps(original))
            sealed["card"]["number"] = sealed["card"]["holder"] = {"sealed": True}
            envelope = {"metaData": {"eventId": event_id, "encryption": {
                "encryptionContext": context, "sealedFields": POINTERS,
                "ciphertext": base64.b64encode(ciphertext).decode()}}, "data": sealed}
            opened, header = client.decrypt(source=base64.b64decode(envelope["metaData"]["encryption"]["ciphertext"]),
                                            keyring=keyring, encryption_context=context)
            payload = json.loads(opened)
            assert payload["eventId"] == event_id
            restored = envelope["data"]
            restored["card"]["number"], restored["card"]["holder"] = (f["value"] for f in payload["fields"])
            if count < 0:
                assert restored == original
                start = time.perf_counter()
            count += 1
        elapsed = time.perf_counter() - start
        print(f"python_shred_hierarchy_{name}_per_second {int(count / elapsed)}", flush=True)


if __name__ == "__main__":
    main()
