#!/usr/bin/env python3
"""Batch driver of the official AWS Encryption SDK for Python, used by the Swift interop tests.

Usage: esdk_peer.py JOB.json RESULTS.json

JOB.json is {"cases": [CASE, ...]}; RESULTS.json gets {"results": [RESULT, ...]} in the same order.
See scripts/peers/README.md for the full case format. A failing case never stops the batch; the
exit status is 0 unless the job file itself is unusable (then 2, with a message on stderr).
"""

import base64
import json
import logging
import os
import sys
import time
import warnings

# The heavy imports (ESDK, MPL with its Dafny runtime, cryptography) happen once, here.
warnings.simplefilter("ignore")
if not os.environ.get("ESDK_PEER_DEBUG"):
    # The ESDK logs a traceback ("Error on closing") for every failed decrypt; the failure itself is
    # reported in RESULTS.json. ESDK_PEER_DEBUG=1 keeps those logs.
    logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL + 1)

import aws_encryption_sdk  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.identifiers import (  # noqa: E402
    Algorithm,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey  # noqa: E402
from aws_encryption_sdk.key_providers.base import MasterKeyProvider, MasterKeyProviderConfig  # noqa: E402
from aws_encryption_sdk.key_providers.kms import KMSMasterKey  # noqa: E402
from aws_encryption_sdk.key_providers.raw import RawMasterKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

try:
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import (
        AesWrappingAlg,
        CreateAwsKmsKeyringInput,
        CreateDefaultCryptographicMaterialsManagerInput,
        CreateMultiKeyringInput,
        CreateRawAesKeyringInput,
        CreateRawRsaKeyringInput,
        CreateRequiredEncryptionContextCMMInput,
        PaddingScheme,
    )

    MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    MPL_IMPORT_ERROR = None
except Exception as error:  # pragma: no cover - reported per keyring case
    MPL = None
    MPL_IMPORT_ERROR = error


class CaseError(Exception):
    """A problem with one case's description (reported as that case's error)."""


COMMITMENT_POLICIES = {
    "require-require": CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    "require-allow": CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
    "forbid-allow": CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
}

AES_KEYRING_ALGS = {
    16: "ALG_AES128_GCM_IV12_TAG16",
    24: "ALG_AES192_GCM_IV12_TAG16",
    32: "ALG_AES256_GCM_IV12_TAG16",
}
AES_MASTER_KEY_ALGS = {
    16: WrappingAlgorithm.AES_128_GCM_IV12_TAG16_NO_PADDING,
    24: WrappingAlgorithm.AES_192_GCM_IV12_TAG16_NO_PADDING,
    32: WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
}
RSA_PADDINGS = {
    # job name: (MPL PaddingScheme attribute, legacy WrappingAlgorithm)
    "pkcs1": ("PKCS1", WrappingAlgorithm.RSA_PKCS1),
    "oaep-sha1": ("OAEP_SHA1_MGF1", WrappingAlgorithm.RSA_OAEP_SHA1_MGF1),
    "oaep-sha256": ("OAEP_SHA256_MGF1", WrappingAlgorithm.RSA_OAEP_SHA256_MGF1),
    "oaep-sha384": ("OAEP_SHA384_MGF1", WrappingAlgorithm.RSA_OAEP_SHA384_MGF1),
    "oaep-sha512": ("OAEP_SHA512_MGF1", WrappingAlgorithm.RSA_OAEP_SHA512_MGF1),
}

_clients = {}
_keyrings = {}
_master_keys = {}


def client_for(policy_name):
    policy_name = policy_name or "require-require"
    if policy_name not in COMMITMENT_POLICIES:
        raise CaseError("unknown commitment_policy %r (expected one of %s)"
                        % (policy_name, ", ".join(sorted(COMMITMENT_POLICIES))))
    if policy_name not in _clients:
        _clients[policy_name] = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=COMMITMENT_POLICIES[policy_name])
    return _clients[policy_name]


def parse_suite(value):
    if value is None:
        return None
    try:
        suite_id = int(value, 16) if isinstance(value, str) else int(value)
        return Algorithm.get_by_id(suite_id)
    except Exception:
        raise CaseError("unknown algorithm suite %r" % (value,))


def suite_string(algorithm):
    return "0x%04X" % algorithm.algorithm_id


def text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


def ec_strings(ec):
    return {text(k): text(v) for k, v in (ec or {}).items()}


def field(spec, name):
    if name not in spec or spec[name] is None:
        raise CaseError("keyring %r needs %r" % (spec.get("type"), name))
    return spec[name]


def aes_key(spec):
    try:
        key = base64.b64decode(field(spec, "key"), validate=True)
    except CaseError:
        raise
    except Exception:
        raise CaseError("raw-aes key is not valid base64")
    if len(key) not in AES_KEYRING_ALGS:
        raise CaseError("raw-aes key must be 16, 24 or 32 bytes, got %d" % len(key))
    return key


def rsa_pems(spec):
    """(public PEM or None, private PEM or None) as bytes; the public key is derived when only the
    private key is given, so that one private key serves both encrypt and decrypt."""
    padding = spec.get("padding")
    if padding not in RSA_PADDINGS:
        raise CaseError("raw-rsa padding must be one of %s, got %r" % (", ".join(RSA_PADDINGS), padding))
    public_pem = spec.get("public_pem")
    private_pem = spec.get("private_pem")
    if not public_pem and not private_pem:
        raise CaseError("raw-rsa needs public_pem and/or private_pem")
    private_bytes = private_pem.encode() if private_pem else None
    public_bytes = public_pem.encode() if public_pem else None
    if private_bytes is not None:
        try:
            private_key = serialization.load_pem_private_key(private_bytes, password=None)
        except Exception as error:
            raise CaseError("raw-rsa private_pem unusable: %s" % error)
        # The MPL wants PKCS #8; re-encode whatever PEM form was given.
        private_bytes = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        if public_bytes is None:
            public_bytes = private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public_bytes, private_bytes


_kms_clients = {}


def kms_client(spec):
    """A boto3 KMS client for an "aws-kms" description (cached by endpoint, region and access key)."""
    import boto3

    args = {"region_name": field(spec, "region")}
    if spec.get("endpoint_url"):
        args["endpoint_url"] = spec["endpoint_url"]
    if spec.get("access_key_id"):
        args["aws_access_key_id"] = spec["access_key_id"]
        args["aws_secret_access_key"] = field(spec, "secret_access_key")
        if spec.get("session_token"):
            args["aws_session_token"] = spec["session_token"]
    key = json.dumps(args, sort_keys=True)
    if key not in _kms_clients:
        _kms_clients[key] = boto3.client("kms", **args)
    return _kms_clients[key]


def cache_key(spec):
    return json.dumps(spec, sort_keys=True)


def keyring_for(spec):
    """An MPL keyring for a job keyring description (cached by description)."""
    if MPL is None:
        raise CaseError("the Material Providers Library is not importable: %r" % (MPL_IMPORT_ERROR,))
    if not isinstance(spec, dict):
        raise CaseError("keyring must be an object")
    key = cache_key(spec)
    if key in _keyrings:
        return _keyrings[key]
    kind = spec.get("type")
    if kind == "raw-aes":
        wrapping_key = aes_key(spec)
        keyring = MPL.create_raw_aes_keyring(input=CreateRawAesKeyringInput(
            key_namespace=field(spec, "namespace"), key_name=field(spec, "name"),
            wrapping_key=wrapping_key,
            wrapping_alg=getattr(AesWrappingAlg, AES_KEYRING_ALGS[len(wrapping_key)])))
    elif kind == "raw-rsa":
        public_bytes, private_bytes = rsa_pems(spec)
        keyring = MPL.create_raw_rsa_keyring(input=CreateRawRsaKeyringInput(
            key_namespace=field(spec, "namespace"), key_name=field(spec, "name"),
            padding_scheme=getattr(PaddingScheme, RSA_PADDINGS[spec["padding"]][0]),
            public_key=public_bytes, private_key=private_bytes))
    elif kind == "aws-kms":
        keyring = MPL.create_aws_kms_keyring(input=CreateAwsKmsKeyringInput(
            kms_key_id=field(spec, "key_id"), kms_client=kms_client(spec)))
    elif kind == "multi":
        generator = spec.get("generator")
        children = spec.get("children") or []
        if generator is None and not children:
            raise CaseError("multi keyring needs a generator and/or children")
        keyring = MPL.create_multi_keyring(input=CreateMultiKeyringInput(
            generator=keyring_for(generator) if generator is not None else None,
            child_keyrings=[keyring_for(child) for child in children]))
    else:
        raise CaseError("unknown keyring type %r" % (kind,))
    _keyrings[key] = keyring
    return keyring


class PeerMultiKeyProvider(MasterKeyProvider):
    """A plain master key provider holding other master keys (legacy "multi" mapping): the first
    key added is the primary (generates the data key), every key wraps it, any key may unwrap."""

    provider_id = "esdk-peer-multi"
    _config_class = MasterKeyProviderConfig
    vend_masterkey_on_decrypt = False

    def _new_master_key(self, key_id):
        raise CaseError("the multi master key provider cannot vend new keys")


def flat_master_keys(spec):
    """The legacy master keys of a description, generator first (nested multis are flattened)."""
    if not isinstance(spec, dict):
        raise CaseError("keyring must be an object")
    kind = spec.get("type")
    if kind == "multi":
        keys = []
        if spec.get("generator") is not None:
            keys.extend(flat_master_keys(spec["generator"]))
        elif not spec.get("children"):
            raise CaseError("multi keyring needs a generator and/or children")
        for child in spec.get("children") or []:
            keys.extend(flat_master_keys(child))
        return keys
    key = cache_key(spec)
    if key in _master_keys:
        return [_master_keys[key]]
    if kind == "raw-aes":
        wrapping_key = aes_key(spec)
        master_key = RawMasterKey(
            provider_id=field(spec, "namespace"), key_id=field(spec, "name").encode("utf-8"),
            wrapping_key=WrappingKey(wrapping_algorithm=AES_MASTER_KEY_ALGS[len(wrapping_key)],
                                     wrapping_key=wrapping_key,
                                     wrapping_key_type=EncryptionKeyType.SYMMETRIC))
    elif kind == "raw-rsa":
        public_bytes, private_bytes = rsa_pems(spec)
        if private_bytes is not None:
            material, key_type = private_bytes, EncryptionKeyType.PRIVATE
        else:
            material, key_type = public_bytes, EncryptionKeyType.PUBLIC
        master_key = RawMasterKey(
            provider_id=field(spec, "namespace"), key_id=field(spec, "name").encode("utf-8"),
            wrapping_key=WrappingKey(wrapping_algorithm=RSA_PADDINGS[spec["padding"]][1],
                                     wrapping_key=material, wrapping_key_type=key_type))
    elif kind == "aws-kms":
        master_key = KMSMasterKey(key_id=field(spec, "key_id"), client=kms_client(spec))
    else:
        raise CaseError("unknown keyring type %r" % (kind,))
    _master_keys[key] = master_key
    return [master_key]


def key_provider_for(spec):
    """A legacy master key (single) or master key provider (multi) for a description."""
    keys = flat_master_keys(spec)
    if spec.get("type") != "multi":
        return keys[0]
    provider = PeerMultiKeyProvider()
    for master_key in keys:
        provider.add_master_key_provider(master_key)
    return provider


def materials_args(case):
    """Keyword arguments naming the keys for client.encrypt / client.decrypt."""
    api = case.get("api", "keyring")
    spec = case.get("keyring")
    if spec is None:
        raise CaseError("case needs a keyring")
    required_keys = case.get("required_encryption_context_keys")
    if api == "keyring":
        keyring = keyring_for(spec)
        if required_keys:
            cmm = MPL.create_required_encryption_context_cmm(input=CreateRequiredEncryptionContextCMMInput(
                underlying_cmm=MPL.create_default_cryptographic_materials_manager(
                    input=CreateDefaultCryptographicMaterialsManagerInput(keyring=keyring)),
                required_encryption_context_keys=[str(k) for k in required_keys]))
            return {"materials_manager": cmm}
        return {"keyring": keyring}
    if api == "master-key":
        if required_keys:
            raise CaseError("required_encryption_context_keys needs api=keyring")
        return {"key_provider": key_provider_for(spec)}
    raise CaseError("unknown api %r (expected keyring or master-key)" % (api,))


def string_map(value, what):
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise CaseError("%s must be an object of strings" % what)
    return value


def write_output(path, data):
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def run_case(case):
    if not isinstance(case, dict):
        raise CaseError("case must be an object")
    operation = case.get("operation")
    input_path = case.get("input")
    output_path = case.get("output")
    if not input_path or not output_path:
        raise CaseError("case needs input and output paths")
    client = client_for(case.get("commitment_policy"))
    args = materials_args(case)
    encryption_context = string_map(case.get("encryption_context"), "encryption_context")
    with open(input_path, "rb") as handle:
        source = handle.read()

    if operation == "encrypt":
        kwargs = dict(args)
        kwargs["encryption_context"] = encryption_context or {}
        algorithm = parse_suite(case.get("suite"))
        if algorithm is not None:
            kwargs["algorithm"] = algorithm
        if case.get("frame_length") is not None:
            kwargs["frame_length"] = int(case["frame_length"])
        result, header = client.encrypt(source=source, **kwargs)
    elif operation == "decrypt":
        if case.get("suite") is not None or case.get("frame_length") is not None:
            raise CaseError("suite and frame_length are for encrypt only")
        kwargs = dict(args)
        check_reproduced = False
        if encryption_context is not None:
            if "key_provider" in kwargs:
                # The legacy API takes no reproduced EC: check it against the header ourselves,
                # before any plaintext is released (same rule as the MPL's default CMM).
                check_reproduced = True
            else:
                kwargs["encryption_context"] = encryption_context
        result, header = client.decrypt(source=source, **kwargs)
        if check_reproduced:
            stored = ec_strings(header.encryption_context)
            for key, value in encryption_context.items():
                if key not in stored:
                    raise CaseError("reproduced encryption context key %r is not in the message" % key)
                if stored[key] != value:
                    raise CaseError("reproduced encryption context value for %r does not match" % key)
    else:
        raise CaseError("unknown operation %r (expected encrypt or decrypt)" % (operation,))

    write_output(output_path, result)
    return {
        "encryption_context": ec_strings(header.encryption_context),
        "algorithm_suite": suite_string(header.algorithm),
        "frame_length": header.frame_length,
    }


def describe(error):
    message = str(error)
    name = type(error).__name__
    return "%s: %s" % (name, message) if message else name


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: esdk_peer.py JOB.json RESULTS.json\n")
        return 2
    job_path, results_path = argv[1], argv[2]
    try:
        with open(job_path, "rb") as handle:
            job = json.load(handle)
        cases = job["cases"]
        if not isinstance(cases, list):
            raise TypeError("cases must be a list")
    except Exception as error:
        sys.stderr.write("esdk_peer: unusable job file %s: %s\n" % (job_path, describe(error)))
        return 2

    started = time.monotonic()
    results = []
    for index, case in enumerate(cases):
        case_id = case.get("id", str(index)) if isinstance(case, dict) else str(index)
        entry = {"id": case_id}
        try:
            entry.update(run_case(case))
            entry["ok"] = True
        except Exception as error:  # any failure belongs to this case only
            entry = {"id": case_id, "ok": False, "error": describe(error)}
            output_path = case.get("output") if isinstance(case, dict) else None
            if output_path and os.path.isfile(output_path):
                os.remove(output_path)  # never leave a stale output behind a failed case
        results.append(entry)

    payload = {"results": results}
    tmp = results_path + ".tmp-%d" % os.getpid()
    with open(tmp, "w") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
    os.replace(tmp, results_path)
    failed = sum(1 for r in results if not r["ok"])
    sys.stderr.write("esdk_peer: %d cases, %d failed, %.2f s\n"
                     % (len(results), failed, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
