#!/usr/bin/env python3
"""A Sealed Events consumer and producer written only from docs/sealed-events-format.md and the official
AWS Encryption SDK for Python, used by the Swift interop tests (SealedEventsTests).

Usage: sealed_event_peer.py JOB.json RESULTS.json

JOB.json is {"cases": [CASE, ...]}; each CASE:

  {"id": "any string",
   "operation": "open" | "seal",
   "keyring": {"type": "raw-aes", "namespace": NS, "name": NAME, "key": "<base64 of 16/24/32 bytes>"},
   "input": "/abs/path",    open: a sealed envelope (JSON); seal: an unsealed envelope
   "output": "/abs/path",   open: {"metaData": ..., "data": <opened data>}; seal: the sealed envelope
   seal only: "key_arn": "raw:NS/NAME", "suite": "0x0478" | "0x0578", "scope": "data" | "fields",
              "fields": ["/json/pointer", ...]}

RESULTS.json gets {"results": [{"id", "ok": true} | {"id", "ok": false, "error": "Type: message"}, ...]}. The
output file is written only when every check of the format document passed. Exit status 0 unless the job file
is unusable (2).

Numbers keep their literal spelling and object members their order, so an opened event can be compared with
the producer's original exactly.
"""

import base64
import json
import logging
import os
import sys
import warnings

warnings.simplefilter("ignore")
logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL + 1)

import aws_encryption_sdk  # noqa: E402
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402
from aws_encryption_sdk.identifiers import Algorithm  # noqa: E402
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders  # noqa: E402
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import AesWrappingAlg, CreateRawAesKeyringInput  # noqa: E402

MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
CLIENT = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
SUITES = {
    "0x0478": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    "0x0578": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}
MARKER = {"sealed": True}
AES_SUFFIX = b"\x00\x00\x00\x80\x00\x00\x00\x0c"


class BindingError(Exception):
    """The envelope and its sealed payload do not belong together (format document section 5)."""


class FormatError(Exception):
    """The envelope is not a Sealed Events envelope this peer understands."""


# ---- JSON that keeps number spelling and member order ------------------------------------------------------

class Number:
    def __init__(self, literal):
        self.literal = literal

    def __eq__(self, other):
        return isinstance(other, Number) and other.literal == self.literal


def reject_constant(name):
    raise FormatError("%s is not JSON" % name)


def unique_pairs(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise FormatError("duplicate object key")
    return dict(pairs)


def loads(text):
    return json.loads(text, parse_float=Number, parse_int=Number, parse_constant=reject_constant,
                      object_pairs_hook=unique_pairs)


def dumps(value):
    if isinstance(value, Number):
        return value.literal
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def same(a, b):
    """Exact JSON equality: member order, number spelling, bool is not a number."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# ---- JSON Pointer (RFC 6901) ----------------------------------------------------------------------------------

def tokens(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise FormatError("bad JSON Pointer %r" % pointer)
    out = []
    for raw in pointer.split("/")[1:]:
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise FormatError("bad JSON Pointer %r" % pointer)
        out.append(raw.replace("~1", "/").replace("~0", "~"))
    return out


def step(container, token, pointer):
    if isinstance(container, dict):
        if token not in container:
            raise KeyError(pointer)
        return token
    if isinstance(container, list):
        if not token.isdigit() or (len(token) > 1 and token[0] == "0") or int(token) >= len(container):
            raise KeyError(pointer)
        return int(token)
    raise KeyError(pointer)


def get(document, pointer):
    current = document
    for token in tokens(pointer):
        current = current[step(current, token, pointer)]
    return current


def set_existing(document, pointer, value):
    parts = tokens(pointer)
    if not parts:
        raise FormatError("the root cannot be a sealed field")
    parent = get(document, "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in parts[:-1]))
    parent[step(parent, parts[-1], pointer)] = value


# ---- keys -----------------------------------------------------------------------------------------------------

def keyring(spec):
    # {"type": "keyring", "keyring": K}: an MPL keyring built by an importing program (e.g. the AWS KMS keyring of
    # test_event_platform.py over a boto3 client pointed at our server).
    if spec.get("type") == "keyring":
        return spec["keyring"]
    if spec.get("type") != "raw-aes":
        raise FormatError("only raw-aes keyrings are supported")
    key = base64.b64decode(spec["key"], validate=True)
    alg = {16: "ALG_AES128_GCM_IV12_TAG16", 24: "ALG_AES192_GCM_IV12_TAG16", 32: "ALG_AES256_GCM_IV12_TAG16"}[len(key)]
    return MPL.create_raw_aes_keyring(input=CreateRawAesKeyringInput(
        key_namespace=spec["namespace"], key_name=spec["name"], wrapping_key=key,
        wrapping_alg=getattr(AesWrappingAlg, alg)))


def text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


def key_identifier(edk):
    """Format document section 4: the key ARN, or raw:NAMESPACE/NAME."""
    provider = text(edk.key_provider.provider_id)
    info = bytes(edk.key_provider.key_info)
    if provider == "aws-kms":
        return info.decode("utf-8")
    if len(info) >= 20 and info[-20:-12] == AES_SUFFIX:
        info = info[:-20]
    return "raw:%s/%s" % (provider, info.decode("utf-8"))


# ---- open (format document section 5) -------------------------------------------------------------------------

def open_envelope(envelope, spec):
    meta = envelope["metaData"]
    enc = meta.get("encryption")
    if enc is None:
        raise FormatError("not sealed")
    if enc.get("format") != "aws-esdk":
        raise FormatError("format is not aws-esdk")
    if enc.get("algorithmSuite") not in SUITES:
        raise FormatError("unsupported suite %r" % enc.get("algorithmSuite"))
    context = enc["encryptionContext"]
    if context.get("eventType") != meta["eventType"] or context.get("domain") != meta["domain"]:
        raise BindingError("the encryption context does not name the envelope's eventType and domain")
    if any(k.startswith("aws-crypto-") for k in context):
        raise FormatError("reserved encryption context key")
    scope = enc.get("scope")
    if scope == "data":
        message = base64.b64decode(envelope["data"], validate=True)
    elif scope == "fields":
        message = base64.b64decode(enc["ciphertext"], validate=True)
        for pointer in enc["sealedFields"]:
            if not same(get(envelope["data"], pointer), MARKER):
                raise BindingError("sealed field %s has no marker" % pointer)
    else:
        raise FormatError("unknown scope %r" % scope)

    # The reproduced context makes the ESDK check the header's pairs; no plaintext is used before every check.
    plaintext, header = CLIENT.decrypt(source=message, keyring=keyring(spec), encryption_context=dict(context))
    stored = {text(k): text(v) for k, v in header.encryption_context.items() if not text(k).startswith("aws-crypto-")}
    if stored != context:
        raise BindingError("the header's encryption context differs from metaData's")
    if "0x%04X" % header.algorithm.algorithm_id != enc["algorithmSuite"]:
        raise BindingError("the header's suite differs from metaData's")
    if enc["keyArn"] not in [key_identifier(edk) for edk in header.encrypted_data_keys]:
        raise BindingError("no data key wrapped by keyArn")

    payload = loads(plaintext.decode("utf-8"))
    names = list(payload.keys()) if isinstance(payload, dict) else []
    if names not in (["v", "eventId", "data"], ["v", "eventId", "fields"]) or not same(payload["v"], Number("1")):
        raise BindingError("not a version 1 payload")
    if payload["eventId"] != meta["eventId"]:
        raise BindingError("the payload belongs to another event")
    if scope == "data":
        if names[2] != "data":
            raise BindingError("scope mismatch")
        data = payload["data"]
    else:
        if names[2] != "fields":
            raise BindingError("scope mismatch")
        fields = payload["fields"]
        if [f.get("pointer") for f in fields] != enc["sealedFields"] or any(list(f.keys()) != ["pointer", "value"]
                                                                            for f in fields):
            raise BindingError("the payload's pointers differ from sealedFields")
        data = envelope["data"]
        for f in fields:
            set_existing(data, f["pointer"], f["value"])
    return {"metaData": meta, "data": data}


# ---- seal (format document section 3) -------------------------------------------------------------------------

def seal_envelope(envelope, spec, case):
    meta = envelope["metaData"]
    context = {"eventType": meta["eventType"], "domain": meta["domain"]}
    scope = case["scope"]
    if scope == "data":
        payload = {"v": Number("1"), "eventId": meta["eventId"], "data": envelope["data"]}
    else:
        fields = []
        for pointer in case["fields"]:
            try:
                fields.append({"pointer": pointer, "value": get(envelope["data"], pointer)})
            except KeyError:
                continue
        payload = {"v": Number("1"), "eventId": meta["eventId"], "fields": fields}
    message, _ = CLIENT.encrypt(source=dumps(payload).encode("utf-8"), keyring=keyring(spec),
                                encryption_context=context, algorithm=SUITES[case["suite"]])
    encoded = base64.b64encode(message).decode("ascii")
    encryption = {"keyArn": case["key_arn"], "format": "aws-esdk", "algorithmSuite": case["suite"], "scope": scope,
                  "encryptionContext": context}
    if scope == "data":
        envelope["data"] = encoded
    else:
        for f in payload["fields"]:
            set_existing(envelope["data"], f["pointer"], dict(MARKER))
        encryption["sealedFields"] = [f["pointer"] for f in payload["fields"]]
        encryption["ciphertext"] = encoded
    meta["encryption"] = encryption
    return envelope


def run_case(case):
    with open(case["input"], "rb") as handle:
        envelope = loads(handle.read().decode("utf-8"))
    if case["operation"] == "open":
        result = open_envelope(envelope, case["keyring"])
    elif case["operation"] == "seal":
        result = seal_envelope(envelope, case["keyring"], case)
    else:
        raise FormatError("unknown operation %r" % case.get("operation"))
    tmp = case["output"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(dumps(result))
    os.replace(tmp, case["output"])


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[1], "r", encoding="utf-8") as handle:
            cases = json.load(handle)["cases"]
    except Exception as error:
        sys.stderr.write("sealed_event_peer: unusable job file: %s\n" % error)
        return 2
    results = []
    for case in cases:
        try:
            run_case(case)
            results.append({"id": case.get("id"), "ok": True})
        except Exception as error:
            message = str(error)
            name = type(error).__name__
            results.append({"id": case.get("id"), "ok": False, "error": "%s: %s" % (name, message) if message else name})
    with open(argv[2], "w", encoding="utf-8") as handle:
        json.dump({"results": results}, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
