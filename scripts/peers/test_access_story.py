"""The access story of issue 5 with real clients against a live `sealed serve`.

The administrator sets the platform up with the `sealed` CLI (teams, users, a domain, event types); the producer
encrypts with boto3's KMS client; consumers assume reader roles with boto3's STS client and decrypt with the
session; requests are made, approved, denied and revoked with the CLI under each person's own credentials.

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    SEALED_BIN=.build/debug/sealed python -m pytest -q scripts/peers/test_access_story.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. Every test makes its own teams, users and domain (unique
names), so the tests are independent and the suite runs against a server that is not fresh.
"""
import json
import os
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (see the module docstring)", returncode=2)
    return value


ENDPOINT = _environment("SEALED_KMS_ENDPOINT")
ADMIN = (_environment("SEALED_KMS_ACCESS_KEY_ID"), _environment("SEALED_KMS_SECRET_ACCESS_KEY"))
SEALED = _environment("SEALED_BIN")
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


class CLIError(Exception):
    pass


def sealed(credentials, *arguments, output="json"):
    """Runs the CLI as the owner of `credentials`; returns its JSON answer or raises CLIError with its stderr."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_")
    }
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": credentials[0],
            "AWS_SECRET_ACCESS_KEY": credentials[1],
            "AWS_REGION": REGION,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
        }
    )
    result = subprocess.run(
        [SEALED, *arguments, "--endpoint-url", ENDPOINT, "--output", output],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    if result.returncode != 0:
        raise CLIError(result.stderr.strip())
    return json.loads(result.stdout) if output == "json" else result.stdout


def client(service, credentials, token=None):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        aws_session_token=token,
        config=NO_RETRIES,
    )


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


class Platform:
    """One domain owned by a producer team, with two event types, a producer, two reviewers and consumers."""

    def __init__(self, consumers=2, approvals=1):
        tag = uuid.uuid4().hex[:8]
        self.tag = tag
        self.domain = f"d{tag}"
        self.owners = f"owners-{tag}"
        sealed(ADMIN, "iam", "create-team", self.owners)
        sealed(ADMIN, "iam", "create-team", f"consumers-{tag}")
        self.producer = self.user(f"producer-{tag}", self.owners)
        self.reviewer = self.user(f"reviewer-{tag}", self.owners)
        self.second_reviewer = self.user(f"reviewer2-{tag}", self.owners)
        self.consumers = [self.user(f"consumer{i}-{tag}", f"consumers-{tag}") for i in range(consumers)]
        created = sealed(ADMIN, "catalog", "create-domain", self.domain, "--owner", self.owners)
        self.key_arn = created["KeyArn"]
        self.types = {}
        for name, extra in (("captured", ["--classification", "restricted", "--regulation", "PCI-DSS"]), ("refunded", [])):
            event_type = f"{self.domain}.card.{name}"
            answer = sealed(
                ADMIN, "catalog", "create-event-type", event_type, "--domain", self.domain,
                "--approvals", str(approvals), *extra,
            )
            self.types[name] = answer
        self.blobs = {name: self.encrypt(answer["EventType"]) for name, answer in self.types.items()}

    def user(self, name, team):
        answer = sealed(ADMIN, "iam", "create-user", name, "--team", team)
        return {"name": name, "arn": answer["Arn"], "keys": (answer["AccessKeyId"], answer["SecretAccessKey"])}

    def context(self, event_type):
        return {"eventType": event_type, "domain": self.domain}

    def encrypt(self, event_type):
        kms = client("kms", self.producer["keys"])
        key = kms.generate_data_key(KeyId=self.key_arn, KeySpec="AES_256", EncryptionContext=self.context(event_type))
        return key["CiphertextBlob"], key["Plaintext"]

    def session(self, consumer, name):
        """The consumer's session of the reader role of event type `name` (raises ClientError when refused)."""
        sts = client("sts", consumer["keys"])
        answer = sts.assume_role(RoleArn=self.types[name]["ReaderRoleArn"], RoleSessionName=consumer["name"])
        credentials = answer["Credentials"]
        return client(
            "kms", (credentials["AccessKeyId"], credentials["SecretAccessKey"]), credentials["SessionToken"]
        ), answer

    def decrypts(self, kms, name):
        blob, plaintext = self.blobs[name]
        event_type = self.types[name]["EventType"]
        try:
            answer = kms.decrypt(CiphertextBlob=blob, EncryptionContext=self.context(event_type))
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException", error
            return False
        assert answer["Plaintext"] == plaintext
        return True

    def request(self, consumer, name, *extra):
        return sealed(
            consumer["keys"], "access", "request", self.types[name]["EventType"],
            "--justification", "fraud analytics", *extra,
        )


def test_the_whole_story():
    platform = Platform()
    consumer = platform.consumers[0]
    # Before approval the consumer reads nothing: AssumeRole of the reader role is refused.
    with pytest.raises(ClientError) as refused:
        platform.session(consumer, "captured")
    assert error_code(refused) == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Nor may it decrypt with its own credentials.
    assert not platform.decrypts(client("kms", consumer["keys"]), "captured")

    request = platform.request(consumer, "captured")
    assert request["Status"] == "pending" and request["RequestId"].startswith("ar-")
    approved = sealed(platform.reviewer["keys"], "access", "approve", request["RequestId"], "--comment", "ok")
    assert approved["Status"] == "approved"

    kms, answer = platform.session(consumer, "captured")
    assert answer["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/reader-{platform.domain}.card.captured/{consumer['name']}"
    )
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
    identity = client(
        "sts",
        (answer["Credentials"]["AccessKeyId"], answer["Credentials"]["SecretAccessKey"]),
        answer["Credentials"]["SessionToken"],
    ).get_caller_identity()
    assert identity["Arn"] == answer["AssumedRoleUser"]["Arn"] and identity["Account"] == ACCOUNT
    assert platform.decrypts(kms, "captured")
    # The same session gets AccessDeniedException for the other type of the same domain and key.
    assert not platform.decrypts(kms, "refunded")
    # And it cannot encrypt or generate data keys.
    with pytest.raises(ClientError) as denied:
        kms.generate_data_key(
            KeyId=platform.key_arn, KeySpec="AES_256", EncryptionContext=platform.context(platform.types["captured"]["EventType"])
        )
    assert error_code(denied) == "AccessDeniedException"

    matrix = sealed(ADMIN, "access", "matrix")["Grants"]
    rows = [row for row in matrix if row["Principal"] == consumer["arn"]]
    assert [(row["EventType"], row["ApprovedBy"]) for row in rows] == [
        (platform.types["captured"]["EventType"], [platform.reviewer["arn"]])
    ]

    revoked = sealed(platform.reviewer["keys"], "access", "revoke", request["RequestId"], "--comment", "done")
    assert revoked["Status"] == "revoked"
    with pytest.raises(ClientError) as again:
        platform.session(consumer, "captured")
    assert error_code(again) == "AccessDenied"
    assert not any(row["RequestId"] == request["RequestId"] for row in sealed(ADMIN, "access", "matrix")["Grants"])


def test_an_approval_with_a_duration_carries_its_expiry_into_the_trust_policy():
    platform = Platform(consumers=1)
    consumer = platform.consumers[0]
    request = platform.request(consumer, "captured", "--duration", "2h")
    assert request["DurationSeconds"] == 7200
    approved = sealed(platform.reviewer["keys"], "access", "approve", request["RequestId"])
    assert approved["ExpirationDate"]
    role = sealed(ADMIN, "iam", "get-role", f"reader-{platform.domain}.card.captured")["Role"]
    trust = json.loads(role["AssumeRolePolicyDocument"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": consumer["arn"]}
    assert statement["Condition"]["DateLessThan"]["aws:CurrentTime"] == approved["ExpirationDate"]
    kms, _ = platform.session(consumer, "captured")
    assert platform.decrypts(kms, "captured")


def test_reviews_follow_the_rules():
    platform = Platform(consumers=2, approvals=2)
    consumer, outsider = platform.consumers
    request = platform.request(consumer, "captured")
    identifier = request["RequestId"]
    # A reviewer outside the owning team.
    with pytest.raises(CLIError, match="AccessDenied"):
        sealed(outsider["keys"], "access", "approve", identifier)
    # The administrator is not a reviewer either (but may revoke).
    with pytest.raises(CLIError, match="AccessDenied"):
        sealed(ADMIN, "access", "approve", identifier)
    # Self-approval, by a requester who is in the owning team.
    own = platform.request(platform.producer, "refunded")
    with pytest.raises(CLIError, match="cannot approve their own"):
        sealed(platform.producer["keys"], "access", "approve", own["RequestId"])
    # Two approvals needed: the first leaves it pending, the same reviewer again is refused.
    first = sealed(platform.reviewer["keys"], "access", "approve", identifier)
    assert first["Status"] == "pending" and len(first["Approvals"]) == 1
    with pytest.raises(CLIError, match="already approved"):
        sealed(platform.reviewer["keys"], "access", "approve", identifier)
    with pytest.raises(ClientError):
        platform.session(consumer, "captured")
    second = sealed(platform.second_reviewer["keys"], "access", "approve", identifier)
    assert second["Status"] == "approved"
    # A type one already holds cannot be requested again.
    with pytest.raises(CLIError, match="already holds"):
        platform.request(consumer, "captured")
    # A denial needs a comment; a decided request cannot be decided again; only the requester cancels.
    other = platform.request(outsider, "captured")
    with pytest.raises(CLIError, match="cancel"):
        sealed(platform.reviewer["keys"], "access", "cancel", other["RequestId"])
    denied = sealed(platform.reviewer["keys"], "access", "deny", other["RequestId"], "--comment", "not needed")
    assert denied["Status"] == "denied" and denied["Denial"]["Comment"] == "not needed"
    with pytest.raises(CLIError, match="InvalidState"):
        sealed(platform.second_reviewer["keys"], "access", "approve", other["RequestId"])
    third = platform.request(outsider, "refunded")
    assert sealed(outsider["keys"], "access", "cancel", third["RequestId"])["Status"] == "cancelled"


def test_unauthenticated_and_unknown_callers_are_refused():
    platform = Platform(consumers=1)
    with pytest.raises(CLIError, match="UnrecognizedClientException"):
        sealed(("AKIAUNKNOWNUNKNOWN00", "x" * 40), "access", "request", platform.types["captured"]["EventType"], "--justification", "x")
    consumer = platform.consumers[0]
    with pytest.raises(CLIError, match="InvalidSignatureException"):
        sealed((consumer["keys"][0], "y" * 40), "access", "request", platform.types["captured"]["EventType"], "--justification", "x")
    with pytest.raises(ClientError) as bad:
        client("sts", (consumer["keys"][0], "y" * 40)).get_caller_identity()
    assert error_code(bad) == "SignatureDoesNotMatch"
    # A consumer cannot manage identities or the catalog.
    with pytest.raises(CLIError, match="AccessDenied"):
        sealed(consumer["keys"], "iam", "create-user", f"intruder-{platform.tag}")
    with pytest.raises(CLIError, match="AccessDenied"):
        sealed(consumer["keys"], "catalog", "create-domain", f"x{platform.tag}", "--owner", platform.owners)


def test_the_access_matrix_decides_exactly_which_decrypts_succeed():
    """Three consumers × two event types × grant states: nobody ever decrypts a type it was not granted."""
    platform = Platform(consumers=3)
    a, b, c = platform.consumers
    grants = {}
    # a: captured approved; b: refunded approved then revoked, captured pending; c: refunded denied.
    grants[(a["name"], "captured")] = platform.request(a, "captured")["RequestId"]
    sealed(platform.reviewer["keys"], "access", "approve", grants[(a["name"], "captured")])
    revoked = platform.request(b, "refunded")["RequestId"]
    sealed(platform.reviewer["keys"], "access", "approve", revoked)
    sealed(ADMIN, "access", "revoke", revoked)
    platform.request(b, "captured")
    denied = platform.request(c, "refunded")["RequestId"]
    sealed(platform.reviewer["keys"], "access", "deny", denied, "--comment", "no")
    expected = {(a["name"], "captured")}
    for consumer in platform.consumers:
        own = client("kms", consumer["keys"])
        for name in ("captured", "refunded"):
            assert not platform.decrypts(own, name), (consumer["name"], name, "with its own credentials")
        for role_type in ("captured", "refunded"):
            try:
                kms, _ = platform.session(consumer, role_type)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "AccessDenied"
                assert (consumer["name"], role_type) not in expected
                continue
            assert (consumer["name"], role_type) in expected
            for name in ("captured", "refunded"):
                assert platform.decrypts(kms, name) == (name == role_type), (consumer["name"], role_type, name)


def test_access_keys_two_at_most_deactivated_and_deleted():
    tag = uuid.uuid4().hex[:8]
    created = sealed(ADMIN, "iam", "create-user", f"rotating-{tag}")
    first = (created["AccessKeyId"], created["SecretAccessKey"])
    assert first[0].startswith("AKIA") and len(first[1]) == 40
    second = sealed(ADMIN, "iam", "create-access-key", f"rotating-{tag}")["AccessKey"]
    with pytest.raises(CLIError, match="LimitExceeded"):
        sealed(ADMIN, "iam", "create-access-key", f"rotating-{tag}")
    assert client("sts", first).get_caller_identity()["Arn"].endswith(f":user/rotating-{tag}")
    sealed(ADMIN, "iam", "deactivate-access-key", first[0])
    listed = {key["AccessKeyId"]: key["Status"] for key in sealed(ADMIN, "iam", "list-access-keys", f"rotating-{tag}")["AccessKeys"]}
    assert listed == {first[0]: "Inactive", second["AccessKeyId"]: "Active"}
    with pytest.raises(ClientError) as refused:
        client("sts", first).get_caller_identity()
    assert error_code(refused) == "InvalidClientTokenId"
    assert client("sts", (second["AccessKeyId"], second["SecretAccessKey"])).get_caller_identity()["Account"] == ACCOUNT
    sealed(ADMIN, "iam", "delete-access-key", first[0])
    listed = [key["AccessKeyId"] for key in sealed(ADMIN, "iam", "list-access-keys", f"rotating-{tag}")["AccessKeys"]]
    assert listed == [second["AccessKeyId"]]
    # A user cannot manage another user's keys.
    other = sealed(ADMIN, "iam", "create-user", f"other-{tag}")
    with pytest.raises(CLIError, match="AccessDenied"):
        sealed((other["AccessKeyId"], other["SecretAccessKey"]), "iam", "create-access-key", f"rotating-{tag}")
