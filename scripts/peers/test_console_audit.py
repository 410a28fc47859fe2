"""The web console's audit pages (issue 21) in a real browser, Debian's chromium driven by Selenium, against a live
`sealed serve` with a data directory (the audit log, its digests and anchor).

The auditor's story: a consumer with an approved access request opens events with `sealed consume --open` (the
reader role's KMS Decrypt calls, each recorded with the event type in its encryption context); an auditor (whose
identity policy allows `audit:Read` on the trail) signs in, filters the trail to the decrypts of that event
type and sees exactly the records `sealed audit query` finds, opens one record, verifies the chain from the page,
downloads the export and the public key through the browser, and `sealed audit verify --file … --public-key …`
accepts them; the usage page shows the numbers `sealed access usage` reports. A principal without `audit:Read` has
no Audit link and gets the refusal page. Screenshots (audit.png, audit-record.png,
usage.png) go where test_console.py puts its own.

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    SEALED_BIN=.build/debug/sealed python -m pytest -q scripts/peers/test_console_audit.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. The browser helpers are test_console.py's and the policy
helper test_dynamodb_server.py's (imported, not copied). Without
chromium and chromium-driver the browser test skips, unless CI=true, where it fails.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_console import (  # noqa: E402
    ADMIN, ENDPOINT, SEALED, browsers, by, click, cookie_of, request, screenshot, sealed, sign_in_with_key, text,
)
from test_dynamodb_server import put_user_policy  # noqa: E402

__all__ = ["browsers"]  # the fixture, imported for pytest


class Story:
    """A domain owned by `owners` with one event type (one approval) and a topic with three of its events; a consumer
    whose request is approved and who opened them; an auditor whose identity policy allows `audit:Read`."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        owners, consumers = f"owners-{tag}", f"consumers-{tag}"
        for team in (owners, consumers):
            sealed(ADMIN, "iam", "create-team", team)
        self.reviewer = self.user(f"rita-{tag}", owners)
        self.consumer = self.user(f"carl-{tag}", consumers)
        self.auditor = self.user(f"audrey-{tag}", None)
        account = self.auditor["arn"].split(":")[4]
        put_user_policy(self.auditor["name"], "read-trail", {"Statement": [{
            "Effect": "Allow", "Action": "audit:Read", "Resource": f"arn:sealed:audit::{account}:trail"}]})
        domain = f"ledger{tag}"
        sealed(ADMIN, "catalog", "create-domain", domain, "--owner", owners)
        self.event_type = f"{domain}.entry.posted"
        sealed(ADMIN, "catalog", "create-event-type", self.event_type, "--domain", domain, "--approvals", "1",
               "--classification", "confidential", "--sensitive-field", "/amount")
        self.topic = f"ledger-{tag}"
        sealed(ADMIN, "topics", "create", self.topic)
        for amount in (10, 20, 30):
            sealed(ADMIN, "publish", "--topic", self.topic, "--event-type", self.event_type,
                   "--data", json.dumps({"entry": f"e-{amount}", "amount": amount}), "--source", "ledger")
        asked = sealed(self.consumer["keys"], "access", "request", self.event_type, "--justification", "month end")
        assert sealed(self.reviewer["keys"], "access", "approve", asked["RequestId"])["Status"] == "approved"
        opened = sealed(self.consumer["keys"], "consume", "--topic", self.topic, "--open", output="text")
        assert opened.count('"entry"') >= 3 or opened.count("e-") >= 3, opened

    @staticmethod
    def user(name, team):
        answer = sealed(ADMIN, "iam", "create-user", name, *(("--team", team) if team else ()))
        return {"name": name, "arn": answer["Arn"], "keys": (answer["AccessKeyId"], answer["SecretAccessKey"])}


def downloaded(folder, suffix, timeout=30):
    """The path of the one finished download in `folder` ending in `suffix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [name for name in os.listdir(folder) if name.endswith(suffix)]
        if done and not any(name.endswith(".crdownload") for name in os.listdir(folder)):
            return os.path.join(folder, done[0])
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download in {folder}: {os.listdir(folder)}")


def test_the_auditor_filters_the_trail_and_verifies_the_export(browsers):
    story = Story()
    decrypts = sealed(story.auditor["keys"], "audit", "query", "--event-type", story.event_type,
                      "--event-name", "Decrypt", "--limit", "1000")["Records"]
    assert len(decrypts) >= 1, "sealed consume --open decrypted through the reader role"
    expected = sorted((record["sequenceNumber"] for record in decrypts), reverse=True)

    auditor = browsers()
    sign_in_with_key(auditor, story.auditor)
    click(auditor, by("link", "Audit"))
    assert auditor.current_url.endswith("/console/audit")
    auditor.find_element(*by("id", "f-event-type")).send_keys(story.event_type)
    auditor.find_element(*by("id", "f-event-name")).send_keys("Decrypt")
    click(auditor, by("id", "apply-filters"))
    rows = auditor.find_elements(*by("css", "#trail tr.record"))
    assert [int(row.get_attribute("data-sequence")) for row in rows] == expected, "exactly the CLI's records"
    for row in rows:
        assert "Decrypt" in row.text and story.event_type in row.text and "UTC" in row.text
    screenshot(auditor, "audit")

    # One record: its full JSON, escaped text in a <pre>, and its place in the hash chain.
    click(auditor, by("css", f"#trail a[href='/console/audit/records/{expected[0]}']"))
    shown = json.loads(text(auditor, "id", "record-json"))
    assert shown["eventName"] == "Decrypt" and shown["sequenceNumber"] == expected[0]
    assert shown["requestParameters"]["encryptionContext"]["eventType"] == story.event_type
    assert len(text(auditor, "id", "record-hash")) == 64 and len(text(auditor, "id", "previous-hash")) == 64
    screenshot(auditor, "audit-record")

    # The chain, verified from the page (the live log, its digests and anchor).
    auditor.get(ENDPOINT + "/console/audit")
    click(auditor, by("id", "verify-now"))
    assert "The chain verifies" in text(auditor, "id", "verify-result")

    # The export and the public key, downloaded by the browser; the CLI's offline verifier accepts them.
    folder = tempfile.mkdtemp(prefix="sealed-console-downloads-")
    auditor.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
    auditor.get(ENDPOINT + "/console/audit")
    auditor.find_element(*by("id", "export-link")).click()
    export = downloaded(folder, ".json")
    auditor.find_element(*by("id", "public-key-link")).click()
    public_key = downloaded(folder, ".pem")
    verified = subprocess.run([SEALED, "audit", "verify", "--file", export, "--public-key", public_key],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK:"), verified.stdout
    with open(export, encoding="utf-8") as file:
        exported = {record["sequenceNumber"] for record in json.load(file)["Records"]}
    assert set(expected) <= exported

    # The usage report: the numbers of `sealed access usage` (GET /v1/access/usage).
    auditor.get(ENDPOINT + "/console/audit/usage")
    api = [row for row in sealed(story.auditor["keys"], "access", "usage")["Rows"] if row["EventType"] == story.event_type]
    assert api and sum(row["Decrypts"] for row in api) == len([r for r in decrypts if not r.get("errorCode")])
    page = [[cell.text for cell in row.find_elements(*by("css", "td"))]
            for row in auditor.find_elements(*by("css", "#usage tbody tr"))]
    for row in api:
        assert [row["EventType"], row["Principal"], str(row["Decrypts"]), str(row["Denials"])] in page, page
    screenshot(auditor, "usage")

    # Every audit page fits a 360 px phone without sideways scrolling (wide tables scroll inside their box).
    auditor.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    )
    for path in ("/console/audit", f"/console/audit/records/{expected[0]}", "/console/audit/usage"):
        auditor.get(ENDPOINT + path)
        assert auditor.execute_script("return document.documentElement.scrollWidth") <= 360, path

    # A principal without audit:Read: no Audit link, and the refusal page.
    consumer = browsers()
    sign_in_with_key(consumer, story.consumer)
    assert not consumer.find_elements(*by("css", "a[href='/console/audit']"))
    consumer.get(ENDPOINT + "/console/audit")
    assert "not allowed" in text(consumer, "css", "h1")
    assert "audit:Read" in text(consumer, "id", "message")
    assert not consumer.find_elements(*by("id", "trail"))
    status, _, _ = request("GET", "/console/audit/export", cookie=cookie_of(consumer))
    assert status == 403
