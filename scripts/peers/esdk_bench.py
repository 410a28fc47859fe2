#!/usr/bin/env python3
"""Measures the official AWS Encryption SDK for Python on the workload of scripts/bench.

Usage: esdk_bench.py [--seconds S] [--json]

Workload: for suites 0x0478 and 0x0578 and plaintexts of 1 KiB and 64 KiB, one iteration is one
encrypt followed by one decrypt of its result (frame length 4096, encryption context
{"tenant": "bench"}, commitment policy REQUIRE_ENCRYPT_REQUIRE_DECRYPT), with one raw AES-256 key,
through three paths:

  python-keyring        keyring API (MPL): the MPL offers no caching CMM usable with the ESDK client
                        (its materials cache only serves the hierarchical keyring), so this is the
                        fastest MPL path: a default CMM over the raw AES keyring, built once and passed
                        as materials_manager (passing keyring= would build a new CMM on every call).
  python-legacy-cached  legacy master-key API: CachingCryptoMaterialsManager over a RawMasterKey with a
                        LocalCryptoMaterialsCache, max_age 300 s, message/byte limits at their maxima.
  python-legacy         legacy master-key API without caching: a RawMasterKey passed as key_provider.

Each case gets a warm-up that checks every round trip's plaintext, then timed batches until its
time budget (--seconds, default 2) is spent; ns/iteration is the median over the batches.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from importlib import metadata

warnings.simplefilter("ignore")

import aws_encryption_sdk  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm, EncryptionKeyType, WrappingAlgorithm  # noqa: E402
from aws_encryption_sdk.internal.defaults import MAX_BYTES_PER_KEY, MAX_MESSAGES_PER_KEY  # noqa: E402
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey  # noqa: E402
from aws_encryption_sdk.key_providers.raw import RawMasterKey  # noqa: E402
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager  # noqa: E402

KEY = bytes(range(32))
NAMESPACE = "bench-namespace"
KEY_NAME = "bench-aes-256"
ENCRYPTION_CONTEXT = {"tenant": "bench"}
FRAME_LENGTH = 4096
SUITES = [("0x0478", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY),
          ("0x0578", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384)]
SIZES = [("1KiB", 1024), ("64KiB", 65536)]
WARMUP_ITERATIONS = 5
MIN_BATCHES = 5


def mpl_default_cmm():
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import (
        AesWrappingAlg,
        CreateDefaultCryptographicMaterialsManagerInput,
        CreateRawAesKeyringInput,
    )

    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    keyring = mpl.create_raw_aes_keyring(input=CreateRawAesKeyringInput(
        key_namespace=NAMESPACE, key_name=KEY_NAME, wrapping_key=KEY,
        wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16))
    return mpl.create_default_cryptographic_materials_manager(
        input=CreateDefaultCryptographicMaterialsManagerInput(keyring=keyring))


def raw_master_key():
    return RawMasterKey(
        provider_id=NAMESPACE, key_id=KEY_NAME.encode(),
        wrapping_key=WrappingKey(wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                                 wrapping_key=KEY, wrapping_key_type=EncryptionKeyType.SYMMETRIC))


def paths():
    """(name, description, factory of the keyword arguments naming the keys) for each path."""
    def keyring_args():
        return {"materials_manager": mpl_default_cmm()}

    def cached_args():
        return {"materials_manager": CachingCryptoMaterialsManager(
            master_key_provider=raw_master_key(), cache=LocalCryptoMaterialsCache(capacity=100),
            max_age=300.0, max_messages_encrypted=MAX_MESSAGES_PER_KEY,
            max_bytes_encrypted=MAX_BYTES_PER_KEY)}

    def legacy_args():
        return {"key_provider": raw_master_key()}

    return [
        ("python-keyring",
         "MPL default CMM over raw AES-256 keyring, built once (the MPL has no caching CMM for the ESDK client)",
         keyring_args),
        ("python-legacy-cached",
         "legacy CachingCryptoMaterialsManager + LocalCryptoMaterialsCache over RawMasterKey AES-256 "
         "(max_age 300 s, max messages/bytes)",
         cached_args),
        ("python-legacy",
         "legacy RawMasterKey AES-256 as key_provider, no caching",
         legacy_args),
    ]


def measure(client, key_args, algorithm, plaintext, seconds):
    def once():
        ciphertext, _ = client.encrypt(source=plaintext, encryption_context=ENCRYPTION_CONTEXT,
                                       algorithm=algorithm, frame_length=FRAME_LENGTH, **key_args)
        result, header = client.decrypt(source=ciphertext, **key_args)
        return result, header

    for _ in range(WARMUP_ITERATIONS):
        result, header = once()
        if result != plaintext:
            raise RuntimeError("round trip returned a different plaintext")
        if header.algorithm != algorithm:
            raise RuntimeError("round trip used suite %r" % (header.algorithm,))

    # Size a batch at about a tenth of the budget, from one timed probe batch.
    start = time.perf_counter_ns()
    once()
    one = max(time.perf_counter_ns() - start, 1)
    batch = max(1, int(seconds * 1e9 / 10 / one))

    per_iteration = []
    iterations = 0
    deadline = time.perf_counter_ns() + int(seconds * 1e9)
    while len(per_iteration) < MIN_BATCHES or time.perf_counter_ns() < deadline:
        start = time.perf_counter_ns()
        for _ in range(batch):
            once()
        per_iteration.append((time.perf_counter_ns() - start) / batch)
        iterations += batch
    return {
        "iterations": iterations,
        "batches": len(per_iteration),
        "ns_per_iteration": int(statistics.median(per_iteration)),
        "ns_per_iteration_min": int(min(per_iteration)),
    }


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per case (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    options = parser.parse_args()
    if options.seconds <= 0:
        parser.error("--seconds must be positive")

    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    results = []
    if not options.json:
        print("%-50s %10s %14s" % ("case", "iterations", "ns/iteration"))
    for path_name, path_description, key_factory in paths():
        key_args = key_factory()
        if not options.json:
            print("# %s: %s" % (path_name, path_description))
        for suite_name, algorithm in SUITES:
            for size_name, size in SIZES:
                plaintext = os.urandom(size)
                name = "%s %s %s encrypt+decrypt" % (path_name, suite_name, size_name)
                entry = {"name": name, "path": path_name, "path_description": path_description,
                         "suite": suite_name, "plaintext_bytes": size}
                entry.update(measure(client, key_args, algorithm, plaintext, options.seconds))
                results.append(entry)
                if not options.json:
                    print("%-50s %10d %14d" % (name, entry["iterations"], entry["ns_per_iteration"]))
                    sys.stdout.flush()

    if options.json:
        json.dump({
            "tool": "esdk_bench.py",
            "seconds_per_case": options.seconds,
            "workload": {"frame_length": FRAME_LENGTH, "encryption_context": ENCRYPTION_CONTEXT,
                         "commitment_policy": "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
                         "iteration": "one encrypt + one decrypt of its result"},
            "python": platform.python_version(),
            "versions": {p: version(p) for p in ("aws-encryption-sdk", "aws-cryptographic-material-providers",
                                                 "cryptography")},
            "cases": results,
        }, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("(ns/iteration: median of %s+ batches; versions: aws-encryption-sdk %s, MPL %s, cryptography %s)"
              % (MIN_BATCHES, version("aws-encryption-sdk"), version("aws-cryptographic-material-providers"),
                 version("cryptography")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
