"""schemathesis hooks for the `/v1` contract run: every request signed with SigV4 for the service `sealed`.

Load it with `SCHEMATHESIS_HOOKS=scripts/peers/schemathesis_sigv4.py`. The credentials come from the environment:
SEALED_ACCESS_KEY_ID, SEALED_SECRET_ACCESS_KEY (SEALED_SESSION_TOKEN for a role session) and SEALED_REGION
(default us-east-1). The signature is botocore's own SigV4Auth, computed over the request exactly as `requests`
sends it (method, URL with its encoded path and query, headers, body bytes), so the server's verifier is checked
against AWS's reference signer on every generated request.

The refusals of the signature layer, `application/x-amz-json-1.1`, are read as JSON, so their bodies are checked
against the document's `Error` like every other refusal. Two adjustments keep a bounded run bounded, and neither
hides a refusal:
- `wait` (the long poll of ReadEvents and FetchEvents) is sent as `0` when it is a value the server would accept;
  a malformed or out-of-range `wait` reaches the server unchanged, so its refusal is still checked.
- `application/x-ndjson` bodies (PublishEventStream) are sent as the generated text, UTF-8.
"""

import os
import re
import urllib.parse

import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "sealed"
# The headers the signature sets; a value schemathesis generated for one of them is dropped first.
SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")
# A `wait` the server accepts: decimal seconds with at most 3 decimals, at most 20.
ACCEPTED_WAIT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,3})?")

schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@schemathesis.deserializer("application/x-amz-json-1.1")
def _aws_json(context, response):
    """The signature layer's refusals (`application/x-amz-json-1.1`) are JSON: validated against `Error` too."""
    return response.json()


class SigV4(requests.auth.AuthBase):
    """Signs a prepared request with botocore's SigV4Auth."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        for name in SIGNATURE_HEADERS:
            prepared.headers.pop(name, None)
        prepared.url = canonical_query(prepared.url)
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        signing = AWSRequest(method=prepared.method, url=prepared.url, data=body, headers=dict(prepared.headers))
        SigV4Auth(self.credentials, SERVICE, self.region).add_auth(signing)
        for name in SIGNATURE_HEADERS:
            if name in signing.headers:
                prepared.headers[name] = signing.headers[name]
        return prepared


def canonical_query(url: str) -> str:
    """The URL with its query encoded as SigV4 encodes it (RFC 3986, space as `%20`).

    botocore signs a URL's query as it finds it, expecting botocore's own serializers to have encoded it so;
    `requests` encodes a space as `+`, which SigV4 (and the server) read as a literal plus. The query is decoded
    as `requests` meant it and encoded again, so the request sent is the one signed.
    """
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="-_.~")
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _signer() -> SigV4:
    credentials = Credentials(
        os.environ["SEALED_ACCESS_KEY_ID"],
        os.environ["SEALED_SECRET_ACCESS_KEY"],
        os.environ.get("SEALED_SESSION_TOKEN") or None,
    )
    return SigV4(credentials, os.environ.get("SEALED_REGION", "us-east-1"))


SIGNER = _signer()


@schemathesis.hook
def before_call(context, case, kwargs):
    """Shortens an accepted long poll, and signs the request as it will be sent (operations with security only)."""
    query = case.query
    if isinstance(query, dict) and isinstance(query.get("wait"), str):
        wait = query["wait"]
        if ACCEPTED_WAIT.fullmatch(wait) and float(wait) <= 20:
            query["wait"] = "0"
    if case.operation.definition.raw.get("security") != []:
        kwargs["auth"] = SIGNER
