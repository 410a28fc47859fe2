"""The event platform of issue 7 end to end, with a consumer written in Python against a live `sealed serve`.

The administrator sets the platform up with the `sealed` CLI (teams, users, a domain, event types of both scopes and
both suites, a topic); the producer publishes with `sealed publish --event-type … --data …`, which seals through the
Swift SDK; the consumer is Python only: it reads the topic with a SigV4-signed `GET /v1/topics/T/events` (botocore's
SigV4Auth, service `sealed`), assumes the event type's reader role with boto3's STS client, and opens events with the
official AWS Encryption SDK and the MPL's AWS KMS keyring, whose boto3 KMS client points at our server. The checks of
docs/sealed-events-format.md section 5 are those of `sealed_event_peer.open_envelope` (imported, not copied).

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    SEALED_BIN=.build/debug/sealed python -m pytest -q scripts/peers/test_event_platform.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. The module's platform has unique names, so the suite runs
against a server that is not fresh.
"""
import base64
import os
import sys
import urllib.parse
import urllib.request
import uuid

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sealed_event_peer as peer  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsKeyringInput  # noqa: E402
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError  # noqa: E402
from test_access_story import ADMIN, ENDPOINT, REGION, client, error_code, sealed  # noqa: E402


# One event per (event type, data): the JSON exactly as the producer gave it (compact, so the opened data's
# serialization must equal it byte for byte: member order and number spelling included).
CAPTURED = '{"orderId":"o-1","amount":12.50,"currency":"EUR","card":{"number":"4111 1111 1111 1111","holder":"Ada Lovelace","expiry":"12/29"}}'
CAPTURED_2 = '{"orderId":"o-2","amount":1e3,"card":{"holder":"Grace Hopper","number":"5500 0000 0000 0004"},"tags":["a",1,true,null]}'
AUTHORIZED = '{"orderId":"o-3","amount":-0.0,"card":{"number":"3400 0000 0000 009","expiry":"01/30"},"note":"été \\"quoted\\" ☕"}'
REFUNDED = '{"orderId":"o-1","amount":12.50,"reason":"duplicate","lines":[{"sku":"x","qty":2}]}'
REFUNDED_2 = '{"orderId":"o-2","amount":99.00,"reason":"damaged"}'
SETTLED = '[1,2.50,{"batch":"b-7","emptyObject":{},"emptyArray":[]}]'


class Platform:
    """A producer team owning one domain with four event types, a reviewer, a consumer, a topic with events."""

    TYPES = {
        # name: (scope, suite, classification, sensitive fields)
        "captured": ("fields", "0x0578", "restricted", ["/card/number", "/card/holder"]),
        "authorized": ("fields", "0x0478", "confidential", ["/card/number", "/card/holder"]),
        "refunded": ("data", "0x0478", "confidential", []),
        "settled": ("data", "0x0578", "restricted", []),
    }

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.domain = f"ev{tag}"
        owners = f"owners-{tag}"
        sealed(ADMIN, "iam", "create-team", owners)
        sealed(ADMIN, "iam", "create-team", f"readers-{tag}")
        self.producer = self.user(f"producer-{tag}", owners)
        self.reviewer = self.user(f"reviewer-{tag}", owners)
        self.consumer = self.user(f"consumer-{tag}", f"readers-{tag}")
        self.key_arn = sealed(ADMIN, "catalog", "create-domain", self.domain, "--owner", owners)["KeyArn"]
        # A second domain, for a key the events were not sealed with.
        other = sealed(ADMIN, "catalog", "create-domain", f"ew{tag}", "--owner", owners)
        self.other_key_arn = other["KeyArn"]
        self.types = {}
        for name, (scope, suite, classification, fields) in self.TYPES.items():
            arguments = ["--classification", classification, "--suite", suite]
            for pointer in fields:
                arguments += ["--sensitive-field", pointer]
            entry = sealed(ADMIN, "catalog", "create-event-type", f"{self.domain}.card.{name}", "--domain",
                           self.domain, *arguments)
            assert entry["Scope"] == scope and entry["AlgorithmSuite"] == suite and entry["KeyArn"] == self.key_arn
            self.types[name] = entry
        self.topic = f"events-{tag}"
        sealed(ADMIN, "topics", "create", self.topic)
        self.published = []  # (offset, type name, data text)
        for name, text in (("captured", CAPTURED), ("captured", CAPTURED_2), ("authorized", AUTHORIZED),
                           ("refunded", REFUNDED), ("refunded", REFUNDED_2), ("settled", SETTLED)):
            answer = sealed(self.producer["keys"], "publish", "--topic", self.topic, "--event-type",
                            self.types[name]["EventType"], "--data", text, "--source", "checkout")
            self.published.append((answer["Offset"], name, text))

    def user(self, name, team):
        answer = sealed(ADMIN, "iam", "create-user", name, "--team", team)
        return {"name": name, "arn": answer["Arn"], "keys": (answer["AccessKeyId"], answer["SecretAccessKey"])}

    def session(self, name):
        """The consumer's credentials from assuming the reader role of `name` (raises ClientError when refused)."""
        sts = client("sts", self.consumer["keys"])
        answer = sts.assume_role(RoleArn=self.types[name]["ReaderRoleArn"], RoleSessionName=self.consumer["name"])
        credentials = answer["Credentials"]
        return credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]

    def spec(self, session):
        """A keyring spec for the peer: the MPL AWS KMS keyring on the catalog's key, over boto3 KMS with `session`."""
        kms = client("kms", session[:2], session[2])
        keyring = peer.MPL.create_aws_kms_keyring(input=CreateAwsKmsKeyringInput(kms_key_id=self.key_arn,
                                                                                  kms_client=kms))
        return {"type": "keyring", "keyring": keyring}


def read_events(topic, credentials, start=1):
    """`GET /v1/topics/TOPIC/events`, signed with botocore's SigV4 for the service `sealed`; the answer parsed so
    that member order and number literals survive (the peer's `loads`)."""
    query = urllib.parse.urlencode({"from": str(start), "limit": "1000"})
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/v1/topics/{urllib.parse.quote(topic, safe='')}/events?{query}")
    SigV4Auth(Credentials(*credentials), "sealed", REGION).add_auth(request)
    prepared = request.prepare()
    # Straight to the loopback server, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET"),
                     timeout=30) as response:
        answer = peer.loads(response.read().decode("utf-8"))
    return [(int(item["Offset"].literal), item["Event"]) for item in answer["Events"]]


@pytest.fixture(scope="module")
def platform():
    return Platform()


@pytest.fixture(scope="module")
def events(platform):
    """The topic's events as the consumer reads them: {offset: envelope}."""
    return dict(read_events(platform.topic, platform.consumer["keys"]))


@pytest.fixture(scope="module")
def sessions(platform):
    """The consumer's access requests, approved; then one reader-role session per event type."""
    for name, entry in platform.types.items():
        request = sealed(platform.consumer["keys"], "access", "request", entry["EventType"], "--justification",
                         "reconciliation")
        approved = sealed(platform.reviewer["keys"], "access", "approve", request["RequestId"])
        assert approved["Status"] == "approved", approved
    return {name: platform.spec(platform.session(name)) for name in platform.types}


def event(events, offset):
    """A fresh copy of the envelope at `offset` (the peer's `open_envelope` changes `data` in place)."""
    return peer.loads(peer.dumps(events[offset]))


def test_before_approval_the_consumer_reads_metadata_but_cannot_assume_a_reader_role(platform, events):
    # This test runs first (pytest keeps file order), before the `sessions` fixture approves anything.
    assert sorted(events) == [offset for offset, _, _ in platform.published]
    for offset, name, _ in platform.published:
        meta = events[offset]["metaData"]
        assert meta["eventType"] == platform.types[name]["EventType"] and meta["domain"] == platform.domain
        assert meta["source"] == "checkout" and meta["encryption"]["keyArn"] == platform.key_arn
    for name in platform.types:
        with pytest.raises(ClientError) as refused:
            platform.session(name)
        assert error_code(refused) == "AccessDenied"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Its own credentials do not open an event either: KMS refuses the Decrypt (no plaintext comes back).
    own = {"type": "keyring", "keyring": peer.MPL.create_aws_kms_keyring(input=CreateAwsKmsKeyringInput(
        kms_key_id=platform.key_arn, kms_client=client("kms", platform.consumer["keys"])))}
    offset = platform.published[0][0]
    with pytest.raises(Exception) as denied:
        peer.open_envelope(event(events, offset), own)
    assert isinstance(denied.value, AWSEncryptionSDKClientError) and "AccessDenied" in repr(denied.value), repr(
        denied.value)


def test_the_envelopes_carry_what_the_catalog_says(platform, events):
    for offset, name, _ in platform.published:
        scope, suite, classification, fields = Platform.TYPES[name]
        meta = events[offset]["metaData"]
        encryption = meta["encryption"]
        assert meta["classification"] == classification
        assert list(encryption["encryptionContext"].items()) in (
            [("eventType", meta["eventType"]), ("domain", platform.domain)],
            [("domain", platform.domain), ("eventType", meta["eventType"])],
        )
        assert (encryption["format"], encryption["algorithmSuite"], encryption["scope"]) == ("aws-esdk", suite, scope)
        message = base64.b64decode(encryption["ciphertext"] if scope == "fields" else events[offset]["data"])
        # ESDK message format version 2, the catalog's suite.
        assert message[0] == 2 and message[1:3].hex() == suite[2:]
        if scope == "fields":
            assert "ciphertext" in encryption and encryption["sealedFields"]
            for pointer in encryption["sealedFields"]:
                assert pointer in fields
                assert peer.same(peer.get(events[offset]["data"], pointer), peer.MARKER)
        else:
            assert isinstance(events[offset]["data"], str) and "sealedFields" not in encryption


def test_the_python_consumer_opens_every_event_exactly(platform, events, sessions):
    for offset, name, text in platform.published:
        opened = peer.open_envelope(event(events, offset), sessions[name])
        # Field-level and whole-data sealing round-trip the producer's JSON exactly.
        assert peer.dumps(opened["data"]) == text, (name, offset)


def test_a_reader_session_opens_its_own_event_type_only(platform, events, sessions):
    for offset, name, _ in platform.published:
        for other in platform.types:
            if other == name:
                continue
            with pytest.raises(Exception) as refused:
                peer.open_envelope(event(events, offset), sessions[other])
            # KMS refuses the Decrypt: the role's policy names one eventType in the encryption context.
            assert "AccessDenied" in repr(refused.value), (name, other, repr(refused.value))


def offsets_of(platform, name):
    return [offset for offset, kind, _ in platform.published if kind == name]


def test_sealed_data_copied_into_another_event_fails_the_binding(platform, events, sessions):
    # Whole-data sealing, both suites: the same type and context, so the ESDK decrypts; the eventId check refuses.
    first, second = offsets_of(platform, "refunded")
    moved = event(events, second)
    moved["data"] = events[first]["data"]
    with pytest.raises(peer.BindingError, match="another event"):
        peer.open_envelope(moved, sessions["refunded"])
    # Field-level sealing: the first event's message and pointers, with its markers, into the second event.
    first, second = offsets_of(platform, "captured")
    moved = event(events, second)
    donor = event(events, first)
    moved["metaData"]["encryption"]["ciphertext"] = donor["metaData"]["encryption"]["ciphertext"]
    moved["metaData"]["encryption"]["sealedFields"] = donor["metaData"]["encryption"]["sealedFields"]
    moved["data"] = donor["data"]
    with pytest.raises(peer.BindingError, match="another event"):
        peer.open_envelope(moved, sessions["captured"])
    # A changed eventId is the same attack from the other side.
    renamed = event(events, first)
    renamed["metaData"]["eventId"] = renamed["metaData"]["eventId"][:-1] + (
        "A" if renamed["metaData"]["eventId"][-1] != "A" else "B")
    with pytest.raises(peer.BindingError, match="another event"):
        peer.open_envelope(renamed, sessions["captured"])


@pytest.mark.parametrize("name", ["captured", "authorized", "refunded", "settled"])
def test_a_tampered_encryption_block_fails(platform, events, sessions, name):
    offset = offsets_of(platform, name)[0]
    # The untouched event opens: every failure below is the tampering's.
    peer.open_envelope(event(events, offset), sessions[name])

    # Another key named: the message's data key is not wrapped by it (section 5, step 5).
    tampered = event(events, offset)
    tampered["metaData"]["encryption"]["keyArn"] = platform.other_key_arn
    with pytest.raises(peer.BindingError, match="keyArn"):
        peer.open_envelope(tampered, sessions[name])

    # The context names another event type (step 2) ...
    tampered = event(events, offset)
    tampered["metaData"]["encryption"]["encryptionContext"]["eventType"] = platform.types["settled" if name != "settled" else "refunded"]["EventType"]
    with pytest.raises(peer.BindingError, match="encryption context"):
        peer.open_envelope(tampered, sessions[name])

    # ... or carries a pair the message does not hold: the ESDK refuses the reproduced context (step 4).
    tampered = event(events, offset)
    tampered["metaData"]["encryption"]["encryptionContext"]["tenant"] = "acme"
    with pytest.raises(Exception) as refused:
        peer.open_envelope(tampered, sessions[name])
    # (The MPL hands the reproduced pairs to KMS with the data key, and the key service's authentication fails.)
    assert isinstance(refused.value, AWSEncryptionSDKClientError), repr(refused.value)

    # ... or lacks one (step 2).
    tampered = event(events, offset)
    del tampered["metaData"]["encryption"]["encryptionContext"]["domain"]
    with pytest.raises(peer.BindingError, match="encryption context"):
        peer.open_envelope(tampered, sessions[name])

    # Another suite named (step 5).
    tampered = event(events, offset)
    encryption = tampered["metaData"]["encryption"]
    encryption["algorithmSuite"] = "0x0478" if encryption["algorithmSuite"] == "0x0578" else "0x0578"
    with pytest.raises(peer.BindingError, match="suite"):
        peer.open_envelope(tampered, sessions[name])


def test_reordered_or_dropped_sealed_pointers_fail(platform, events, sessions):
    offset = offsets_of(platform, "captured")[0]
    tampered = event(events, offset)
    tampered["metaData"]["encryption"]["sealedFields"].reverse()
    with pytest.raises(peer.BindingError, match="pointers"):
        peer.open_envelope(tampered, sessions["captured"])
    tampered = event(events, offset)
    tampered["metaData"]["encryption"]["sealedFields"].pop()
    with pytest.raises(peer.BindingError, match="pointers"):
        peer.open_envelope(tampered, sessions["captured"])
    # A marker replaced by a value: the envelope no longer says where the sealed value goes (step 3).
    tampered = event(events, offset)
    tampered["data"]["card"]["number"] = "4000 0000 0000 0002"
    with pytest.raises(peer.BindingError, match="marker"):
        peer.open_envelope(tampered, sessions["captured"])


def test_sealed_consume_shows_the_same_events(platform, events):
    """`sealed consume --output json` (the consumer's own credentials, no --open) lists the events the signed GET
    returned: same offsets, same ids, same sealed parts."""
    text = sealed(platform.consumer["keys"], "consume", "--topic", platform.topic, output="text")
    lines = [line for line in text.splitlines() if line.strip()]
    assert [int(line.split()[0]) for line in lines] == sorted(events)
    for line in lines:
        offset = int(line.split()[0])
        encryption = events[offset]["metaData"]["encryption"]
        sealed_part = encryption["ciphertext"] if encryption["scope"] == "fields" else events[offset]["data"]
        assert sealed_part in line and events[offset]["metaData"]["eventId"] in line


def test_the_server_sent_event_stream_delivers_the_events_in_order(platform, events):
    """`GET /v1/topics/T/stream?from=2`: one server-sent event per stored event (`id:` its offset, `data:` the envelope
    as stored), in order, from the offset asked for; the test reads what it expects and hangs up."""
    request = AWSRequest(method="GET",
                         url=f"{ENDPOINT}/v1/topics/{urllib.parse.quote(platform.topic, safe='')}/stream?from=2")
    SigV4Auth(Credentials(*platform.consumer["keys"]), "sealed", REGION).add_auth(request)
    prepared = request.prepare()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    expected = [offset for offset in sorted(events) if offset >= 2]
    received = []
    with opener.open(urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET"),
                     timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        offset = None
        while len(received) < len(expected):
            line = response.readline().decode("utf-8").rstrip("\n")
            if line.startswith("id: "):
                offset = int(line[4:])
            elif line.startswith("data: "):
                received.append((offset, peer.loads(line[6:])))
    assert [offset for offset, _ in received] == expected
    for offset, envelope in received:
        assert envelope["metaData"]["eventId"] == events[offset]["metaData"]["eventId"]
        assert peer.dumps(envelope) == peer.dumps(events[offset])


def test_a_revoked_consumer_can_no_longer_assume_the_role(platform, sessions):
    # Runs last: it revokes the `refunded` grant the other tests used.
    requests = sealed(ADMIN, "access", "matrix")["Grants"]
    [grant] = [row for row in requests if row["Principal"] == platform.consumer["arn"]
               and row["EventType"] == platform.types["refunded"]["EventType"]]
    sealed(platform.reviewer["keys"], "access", "revoke", grant["RequestId"])
    with pytest.raises(ClientError) as refused:
        platform.session("refunded")
    assert error_code(refused) == "AccessDenied"
    # The other types' grants stand.
    assert platform.session("captured")[0].startswith("ASIA")

