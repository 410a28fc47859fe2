#!/usr/bin/env python3
"""Signs one KMS Decrypt request with SigV4 and writes a wrk Lua script that replays it.

Usage: wrk_signed.py --endpoint http://127.0.0.1:PORT --access-key-id ID --secret SECRET
                     --ciphertext BASE64 --output SCRIPT.lua [--context K=V[,K=V…]] [--region us-east-1]

The request is what an AWS SDK sends: POST / with the JSON 1.1 body {"CiphertextBlob": ...,
"EncryptionContext": ...} (the context defaults to kms-load's, eventType=payments.card.captured, so the
request is the one kms-load's Decrypt sends for a ciphertext of its `ciphertext` operation), headers
Content-Type application/x-amz-json-1.1 and X-Amz-Target TrentService.Decrypt, signed in the
Authorization header (botocore's SigV4Auth, service kms) with the Host header of the endpoint. The Lua
script sets wrk's method, path, headers (Host included, exactly as signed) and body, so every request
wrk sends is byte-for-byte that one request. SigV4 accepts a signature for 15 minutes after its
X-Amz-Date: sign right before each run.
"""

import argparse
import json
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def lua_string(text):
    """A Lua string literal of text (ASCII; everything outside printable ASCII escaped as \\ddd)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in "\\\"" or not 32 <= byte < 127:
            out.append("\\%03d" % byte)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--ciphertext", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--context", default="eventType=payments.card.captured")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()

    endpoint = args.endpoint.rstrip("/")
    context = dict(pair.split("=", 1) for pair in args.context.split(",") if pair)
    body = json.dumps({"CiphertextBlob": args.ciphertext, "EncryptionContext": context}, separators=(",", ":"))
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService.Decrypt",
        "Host": urllib.parse.urlsplit(endpoint).netloc,
    })
    SigV4Auth(Credentials(args.access_key_id, args.secret), "kms", args.region).add_auth(request)

    lines = ['wrk.method = "POST"', 'wrk.path = "/"', "wrk.body = " + lua_string(body), "wrk.headers = {}"]
    for name, value in request.headers.items():
        lines.append("wrk.headers[%s] = %s" % (lua_string(name), lua_string(value)))
    with open(args.output, "w") as script:
        script.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
