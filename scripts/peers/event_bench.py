"""Seal+open of a 1 KiB JSON event with the official Python ESDK, the yardstick of `event-bench seal-open`.

Usage: event_bench.py [--seconds S]

The same work as the Swift SDK's Sealer and Opener with scope `data` (docs/sealed-events-format.md): the
sealed plaintext `{"v":1,"eventId":…,"data":…}` as compact JSON, encrypted with encryption context
{"eventType", "domain"} and frame length 4096, base64 into the envelope; opening decodes the base64, decrypts,
parses the JSON and checks the event id and the context. Legacy master-key API with its caching CMM
(CachingCryptoMaterialsManager + LocalCryptoMaterialsCache over a RawMasterKey AES-256, max age 300 s), the
fastest Python path (see esdk_bench.py). Prints `python_seal_open_<suite>_per_second N` lines.
"""
import argparse
import base64
import json
import os
import time
import warnings

warnings.simplefilter("ignore")

import aws_encryption_sdk  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm, EncryptionKeyType, WrappingAlgorithm  # noqa: E402
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey  # noqa: E402
from aws_encryption_sdk.key_providers.raw import RawMasterKey  # noqa: E402
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager  # noqa: E402

SUITES = [("0x0478", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY),
          ("0x0578", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)]
CONTEXT = {"eventType": "bench.card.captured", "domain": "bench"}


def data():
    return {"orderId": "o-0", "amount": 12.50, "currency": "EUR",
            "card": {"number": "4111111111111111", "holder": "Ada Lovelace", "expiry": "12/29"},
            "notes": "x" * 860}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    arguments = parser.parse_args()
    key = RawMasterKey(
        provider_id="bench", key_id=b"k",
        wrapping_key=WrappingKey(wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                                 wrapping_key=os.urandom(32), wrapping_key_type=EncryptionKeyType.SYMMETRIC))
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    for name, algorithm in SUITES:
        manager = CachingCryptoMaterialsManager(master_key_provider=key, cache=LocalCryptoMaterialsCache(capacity=100),
                                                max_age=300.0)
        original = data()
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < arguments.seconds:
            event_id = f"e-{count}"
            plaintext = json.dumps({"v": 1, "eventId": event_id, "data": original}, separators=(",", ":")).encode()
            ciphertext, _ = client.encrypt(source=plaintext, materials_manager=manager, encryption_context=CONTEXT,
                                           algorithm=algorithm, frame_length=4096)
            envelope = {"metaData": {"eventId": event_id}, "data": base64.b64encode(ciphertext).decode()}
            opened, header = client.decrypt(source=base64.b64decode(envelope["data"]), materials_manager=manager)
            payload = json.loads(opened)
            assert payload["eventId"] == envelope["metaData"]["eventId"]
            if count == 0:
                assert payload["data"] == original  # once, as the Swift benchmark does
            assert all(header.encryption_context.get(k) == v for k, v in CONTEXT.items())
            count += 1
        elapsed = time.perf_counter() - start
        print(f"python_seal_open_{name}_per_second {int(count / elapsed)}")
        print(f"python_seal_open_{name}_microseconds {elapsed / count * 1e6:.1f}")


if __name__ == "__main__":
    main()
