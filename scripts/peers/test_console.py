"""The web console (issue 21) in a real browser, Debian's chromium driven by Selenium, against a live `sealed serve`.

The story: a consumer signs in with an access key, finds the event type in the catalog and requests access (with a
justification holding `<script>`); a reviewer of another team, signed in with a one-time link from
`sealed console login`, has nothing to review; the owning team's reviewer sees the request (escaped), approves with a
comment, and with two approvals required it stays pending until a second reviewer approves. The consumer's row then
appears in the access matrix, the consumer opens an event of the type on the topic page, and the reviewer's revoke
removes the row and stops the opening. Security with raw HTTP:
forms without or with a wrong CSRF token are refused, one user's cookie cannot act as another, signed-out sessions
go back to sign-in, a one-time link works once, pages are `no-store` with a strict CSP, 20 wrong secrets in a row are
throttled. Screenshots of each page go to SEALED_CONSOLE_SCREENSHOTS (docs/console/ to refresh the README's), else
a scratch folder.

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    SEALED_BIN=.build/debug/sealed python -m pytest -q scripts/peers/test_console.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. Without chromium and chromium-driver the browser tests skip,
unless CI=true, where they fail.
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid

import pytest

REGION = "us-east-1"
IS_CI = os.environ.get("CI", "").lower() == "true"


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (see the module docstring)", returncode=2)
    return value


ENDPOINT = _environment("SEALED_KMS_ENDPOINT").rstrip("/")
ADMIN = (_environment("SEALED_KMS_ACCESS_KEY_ID"), _environment("SEALED_KMS_SECRET_ACCESS_KEY"))
SEALED = _environment("SEALED_BIN")
HOST = urllib.parse.urlsplit(ENDPOINT).netloc
# A test run does not rewrite the README's screenshots: they go to a scratch folder unless
# SEALED_CONSOLE_SCREENSHOTS names one (SEALED_CONSOLE_SCREENSHOTS=docs/console refreshes them).
SCREENSHOTS = os.environ.get("SEALED_CONSOLE_SCREENSHOTS") or os.path.join(
    tempfile.gettempdir(), "sealed-console-screenshots"
)


def sealed(credentials, *arguments, output="json"):
    """Runs the CLI as the owner of `credentials`; returns its JSON answer."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
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
        capture_output=True, text=True, env=environment, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if output == "json" else result.stdout


class Platform:
    """A domain owned by `owners` with an event type needing two approvals, two owner reviewers, a consumer, and a
    reviewer of another team that owns a domain of its own."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.owners, self.others, self.consumers = f"payments-{tag}", f"logistics-{tag}", f"analytics-{tag}"
        for team in (self.owners, self.others, self.consumers):
            sealed(ADMIN, "iam", "create-team", team)
        self.reviewer = self.user(f"rita-{tag}", self.owners)
        self.second = self.user(f"sam-{tag}", self.owners)
        self.outsider = self.user(f"olga-{tag}", self.others)
        self.consumer = self.user(f"carl-{tag}", self.consumers)
        self.domain = f"payments{tag}"
        sealed(ADMIN, "catalog", "create-domain", self.domain, "--owner", self.owners)
        sealed(ADMIN, "catalog", "create-domain", f"shipping{tag}", "--owner", self.others)
        self.event_type = f"{self.domain}.card.captured"
        sealed(
            ADMIN, "catalog", "create-event-type", self.event_type, "--domain", self.domain, "--approvals", "2",
            "--classification", "restricted", "--regulation", "PCI-DSS", "--sensitive-field", "/card",
        )

    def user(self, name, team):
        answer = sealed(ADMIN, "iam", "create-user", name, "--team", team)
        return {"name": name, "arn": answer["Arn"], "keys": (answer["AccessKeyId"], answer["SecretAccessKey"])}


# ---- the browser ---------------------------------------------------------------------------------------------------

def _browser_paths():
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    if IS_CI:
        pytest.fail(message + " (CI=true)")
    pytest.skip(message)


@pytest.fixture
def browsers():
    """Makes headless chromium browsers, each with its own cookies; quits them all at the end."""
    chromium, driver = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    made = []

    def make(width=1280, height=900):  # chromium's windows are at least 500 px wide: narrower is emulated
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={width},{height}", "--force-device-scale-factor=1"):
            options.add_argument(argument)
        browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        browser.implicitly_wait(0)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.quit()


def by(kind, value):
    from selenium.webdriver.common.by import By
    return {"id": By.ID, "css": By.CSS_SELECTOR, "link": By.LINK_TEXT}[kind], value


def click(browser, locator):
    """Clicks what `locator` finds and waits for the page it leads to (a link or a form's answer)."""
    from selenium.webdriver.support.ui import WebDriverWait
    page = browser.find_element(*by("css", "html"))
    browser.find_element(*locator).click()
    WebDriverWait(browser, 20).until(lambda _: _left_the_document(page))
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _left_the_document(element):
    """Whether `element` belongs to a page that was replaced: chromium says so with a stale-element error, or, caught
    mid-navigation, with "Node with given id does not belong to the document"."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def screenshot(browser, name):
    """The whole page as a PNG, however long (through the DevTools protocol, beyond the viewport)."""
    import base64
    os.makedirs(SCREENSHOTS, exist_ok=True)
    size = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 4000), "scale": 1}},
    )
    with open(os.path.join(SCREENSHOTS, f"{name}.png"), "wb") as file:
        file.write(base64.b64decode(shot["data"]))


def sign_in_with_key(browser, person):
    browser.get(ENDPOINT + "/console/sign-in")
    browser.find_element(*by("id", "access-key-id")).send_keys(person["keys"][0])
    browser.find_element(*by("id", "secret")).send_keys(person["keys"][1])
    click(browser, by("css", "form[action='/console/sign-in'] button"))
    assert browser.current_url.endswith("/console"), browser.page_source[:500]


def sign_in_with_link(browser, person):
    link = sealed(person["keys"], "console", "login")["Path"]
    assert link.startswith(ENDPOINT + "/console/link?token=")
    browser.get(link)
    assert person["arn"] in browser.find_element(*by("css", "main")).text
    click(browser, by("id", "continue"))
    assert browser.current_url.endswith("/console")
    return link


def assert_fits(browser, path, width):
    """Opens `path` and checks that it needs no sideways scrolling at `width` px; names what sticks out if it does."""
    browser.get(ENDPOINT + path)
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > arguments[0])"
        ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)",
        width,
    )
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width, f"{path}: {wide}"


def text(browser, kind, value):
    return browser.find_element(*by(kind, value)).text


def test_the_story_in_the_browser(browsers):
    platform = Platform()
    consumer = browsers()
    consumer.get(ENDPOINT + "/console")
    assert consumer.current_url.endswith("/console/sign-in"), "no session: sent to sign-in"
    screenshot(consumer, "sign-in")
    sign_in_with_key(consumer, platform.consumer)
    assert "You have made no access request" in text(consumer, "css", "main")

    # The catalog, then the event type's page and its form.
    click(consumer, by("link", "Catalog"))
    assert platform.event_type in text(consumer, "id", "event-types")
    assert "restricted" in text(consumer, "id", "event-types")
    screenshot(consumer, "catalog")
    click(consumer, by("css", f"#event-types a[href$='{platform.event_type}']"))
    facts = text(consumer, "css", "dl.facts")
    assert "PCI-DSS" in facts and "/card" in facts and platform.owners in facts and "2, from members" in facts
    screenshot(consumer, "event-type")
    justification = "<script>window.pwned = 1</script> Monthly card reconciliation"
    consumer.find_element(*by("id", "justification")).send_keys(justification)
    from selenium.webdriver.support.ui import Select
    Select(consumer.find_element(*by("id", "duration"))).select_by_visible_text("7 days")
    click(consumer, by("css", "form[action$='/request'] button"))
    assert consumer.current_url.endswith("/console"), text(consumer, "css", "main")[:500]
    assert f"waits for 2 approval(s) from {platform.owners}" in text(consumer, "id", "notice")
    mine = text(consumer, "id", "my-requests")
    assert platform.event_type in mine and "pending" in mine and "0 of 2" in mine and "7 days" in mine
    assert "7 days from the final approval" in mine and "decide by" in mine and "(in 7 days)" in mine, mine
    screenshot(consumer, "home")
    request_id = re.search(r"ar-[0-9a-f]{16}", mine).group(0)

    # A reviewer of another team, signed in with a one-time link: nothing to review.
    outsider = browsers()
    sign_in_with_link(outsider, platform.outsider)
    assert text(outsider, "id", "review-count") == "0"
    click(outsider, by("css", "a[href='/console/reviews']"))
    assert "Nothing to review" in text(outsider, "id", "no-reviews")

    # The owning team's reviewer: the request with its justification as text, approved with a comment.
    reviewer = browsers()
    sign_in_with_key(reviewer, platform.reviewer)
    assert text(reviewer, "id", "review-count") == "1"
    reviewer.get(ENDPOINT + "/console/reviews")
    card = text(reviewer, "id", f"review-{request_id}")
    assert justification in card, "the justification is shown as text, <script> and all"
    assert platform.consumer["arn"] in card and "restricted" in card and "7 days" in card and "0 of 2" in card
    assert "counted from the final approval" in card and "(in 7 days) (then it expires undecided)" in card, card
    assert reviewer.execute_script("return window.pwned === undefined"), "the justification's script never ran"
    assert "<script>window.pwned" not in reviewer.page_source, "the markup is escaped"
    screenshot(reviewer, "reviews")
    reviewer.find_element(*by("id", f"comment-{request_id}")).send_keys("Fine for the quarter")
    click(reviewer, by("css", f"#review-{request_id} button.approve"))
    assert "1 of 2 approvals; it stays pending" in text(reviewer, "id", "notice")
    assert text(reviewer, "id", "review-count") == "0", "nothing left for this reviewer to decide"
    # The same reviewer again: refused with the reason on the page.
    click(reviewer, by("css", f"#review-{request_id} button.approve"))
    assert f"already approved access request {request_id}" in text(reviewer, "id", "notice")

    # The requester cannot approve their own request, even from the reviews page's form.
    status = post_form(cookie_of(consumer), f"/console/reviews/{request_id}",
                       {"decision": "approve", "comment": "me", "csrf": csrf_of(consumer)})
    assert status == 303
    consumer.get(ENDPOINT + "/console/reviews")
    assert consumer.find_elements(*by("id", "no-reviews")), "the consumer's team reviews nothing"

    # The second reviewer, on a 360 px phone: every page fits without sideways scrolling; completes the grant.
    second = browsers()
    second.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    )
    sign_in_with_key(second, platform.second)
    for path in ("/console", "/console/catalog", f"/console/catalog/{platform.event_type}", "/console/reviews"):
        assert_fits(second, path, 360)
    screenshot(second, "reviews-360px")
    second.find_element(*by("id", f"comment-{request_id}")).send_keys("Second approval")
    click(second, by("css", f"#review-{request_id} button.approve"))
    assert f"Approved {request_id}" in text(second, "id", "notice")
    consumer.get(ENDPOINT + "/console")
    mine = text(consumer, "id", "my-requests")
    assert "approved" in mine and "2 of 2" in mine
    shown = sealed(ADMIN, "access", "show", request_id)
    assert shown["Status"] == "approved"
    assert [review["Comment"] for review in shown["Approvals"]] == ["Fine for the quarter", "Second approval"]

    # The consumer's row in the access matrix; the catalog says who may read the type now.
    consumer.get(ENDPOINT + "/console/access")
    row = text(consumer, "id", f"grant-{request_id}")
    assert platform.event_type in row and platform.reviewer["arn"] in row and platform.second["arn"] in row
    assert not consumer.find_elements(*by("css", f"#grant-{request_id} button")), "a consumer revokes nothing"
    screenshot(consumer, "access")
    consumer.get(ENDPOINT + "/console/catalog")
    assert f"user/{platform.consumer['name']} (until" in text(consumer, "id", "event-types")

    # An event published by the owning team: on the topic page its card number is sealed; Open opens it with the
    # consumer's grant (the reader role assumed, the data key decrypted, both audited).
    topic = f"{platform.domain}-events"
    sealed(ADMIN, "topics", "create", topic)
    sealed(platform.reviewer["keys"], "publish", "--topic", topic, "--event-type", platform.event_type,
           "--data", json.dumps({"amount": 42, "card": "4111-1111-1111-1111"}), "--source", "checkout")
    click(consumer, by("link", "Topics"))
    click(consumer, by("link", topic))
    assert "checkout" in text(consumer, "css", "#events li")
    assert "4111" not in consumer.page_source, "nothing is decrypted to show the topic"
    screenshot(consumer, "topic")
    click(consumer, by("css", "#events li form button"))
    assert "4111-1111-1111-1111" in text(consumer, "id", "data")
    assert consumer.find_elements(*by("id", "opened"))
    screenshot(consumer, "opened")
    for path in ("/console/access", "/console/topics", f"/console/topics/{topic}"):
        assert_fits(second, path, 360)

    # The auditor finds that open in the trail: a Decrypt of this event type by the reader role's console session.
    auditor = browsers()
    sign_in_with_key(auditor, {"keys": ADMIN})
    auditor.get(ENDPOINT + f"/console/audit?eventType={platform.event_type}&eventName=Decrypt")
    trail = text(auditor, "id", "trail")
    assert "assumed-role/" in trail and "/sealed-console" in trail and platform.event_type in trail, trail

    # The owning team's reviewer revokes it from the access page: the row goes, and Open now shows the request to
    # make instead of the data.
    reviewer.get(ENDPOINT + f"/console/access?eventType={platform.event_type}")
    reviewer.find_element(*by("id", f"revoke-comment-{request_id}")).send_keys("Quarter closed")
    click(reviewer, by("css", f"#grant-{request_id} button"))
    assert f"Revoked {request_id}" in text(reviewer, "id", "notice")
    assert not reviewer.find_elements(*by("id", f"grant-{request_id}"))
    assert sealed(ADMIN, "access", "show", request_id)["Status"] == "revoked"
    consumer.get(ENDPOINT + f"/console/topics/{topic}")
    click(consumer, by("css", "#events li form button"))
    refusal = text(consumer, "id", "refusal")
    assert f"sealed access request {platform.event_type}" in refusal, refusal
    assert "4111" not in consumer.page_source


def test_signing_out_goes_back_to_sign_in(browsers):
    platform = Platform()
    browser = browsers()
    sign_in_with_key(browser, platform.consumer)
    cookie = cookie_of(browser)
    click(browser, by("css", "form.signout button"))
    assert browser.current_url.endswith("/console/sign-in")
    browser.get(ENDPOINT + "/console/catalog")
    assert browser.current_url.endswith("/console/sign-in")
    status, headers, _ = request("GET", "/console", cookie=cookie)
    assert status == 303 and headers["location"] == "/console/sign-in", "the old cookie is no session"
    status, headers, _ = request("GET", "/console", cookie="0" * 64)
    assert status == 303 and headers["location"] == "/console/sign-in", "nor is a made-up one"


def test_a_one_time_link_works_once(browsers):
    platform = Platform()
    first = browsers()
    link = sign_in_with_link(first, platform.consumer)
    second = browsers()
    second.get(link)
    click(second, by("id", "continue"))
    assert "already used" in text(second, "id", "message")
    second.get(ENDPOINT + "/console")
    assert second.current_url.endswith("/console/sign-in")


# ---- raw HTTP ------------------------------------------------------------------------------------------------------

def request(method, path, body=None, cookie=None):
    connection = http.client.HTTPConnection(HOST, timeout=30)
    headers = {}
    if cookie:
        headers["Cookie"] = f"sealed_console={cookie}"
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode())
    connection.close()
    return answer


def post_form(cookie, path, fields):
    return request("POST", path, fields, cookie=cookie)[0]


def cookie_of(browser):
    return browser.get_cookie("sealed_console")["value"]


def csrf_of(browser):
    return browser.find_element(*by("css", "input[name=csrf]")).get_attribute("value")


class RawSession:
    """A session over raw HTTP: its cookie and the CSRF token of the last page."""

    def __init__(self):
        self.cookie = None
        self.csrf = None

    def get(self, path):
        status, headers, body = request("GET", path, cookie=self.cookie)
        self._take(headers, body)
        return status, headers, body

    def post(self, path, fields, csrf=True):
        fields = dict(fields)
        if csrf is True:
            fields["csrf"] = self.csrf
        elif csrf:
            fields["csrf"] = csrf
        status, headers, body = request("POST", path, fields, cookie=self.cookie)
        self._take(headers, body)
        return status, headers, body

    def _take(self, headers, body):
        if "set-cookie" in headers:
            value = headers["set-cookie"].split(";")[0].split("=", 1)[1]
            self.cookie = value or None
        match = re.search(r'name="csrf" value="([0-9a-f]{64})"', body)
        if match:
            self.csrf = match.group(1)

    def sign_in(self, person):
        self.get("/console/sign-in")
        status, headers, _ = self.post("/console/sign-in", {"accessKeyId": person["keys"][0], "secret": person["keys"][1]})
        assert status == 303 and headers["location"] == "/console"
        self.get("/console")  # the signed-in session's CSRF token


def test_forms_without_or_with_a_wrong_csrf_token_are_refused():
    platform = Platform()
    session = RawSession()
    session.get("/console/sign-in")
    credentials = {"accessKeyId": platform.consumer["keys"][0], "secret": platform.consumer["keys"][1]}
    assert session.post("/console/sign-in", credentials, csrf=None)[0] == 403
    assert session.post("/console/sign-in", credentials, csrf="f" * 64)[0] == 403
    session.sign_in(platform.consumer)
    path = f"/console/catalog/{platform.event_type}/request"
    ask = {"justification": "reports", "duration": "86400"}
    assert session.post(path, ask, csrf=None)[0] == 403
    assert session.post(path, ask, csrf="0" * 64)[0] == 403
    other = RawSession()
    other.sign_in(platform.outsider)
    other.get("/console")
    assert session.post(path, ask, csrf=other.csrf)[0] == 403, "another session's token does not do"
    assert sealed(platform.consumer["keys"], "access", "list")["AccessRequests"] == []
    assert session.post(path, ask)[0] == 303
    assert len(sealed(platform.consumer["keys"], "access", "list")["AccessRequests"]) == 1


def test_one_users_cookie_cannot_act_as_another():
    platform = Platform()
    consumer = RawSession()
    consumer.sign_in(platform.consumer)
    consumer.get(f"/console/catalog/{platform.event_type}")
    assert consumer.post(f"/console/catalog/{platform.event_type}/request",
                         {"justification": "x", "duration": "3600"})[0] == 303
    request_id = sealed(platform.consumer["keys"], "access", "list")["AccessRequests"][0]["RequestId"]
    reviewer = RawSession()
    reviewer.sign_in(platform.reviewer)
    reviewer.get("/console/reviews")
    # The reviewer's token with the consumer's cookie: refused; the consumer's own: acts as the consumer, refused.
    assert consumer.post(f"/console/reviews/{request_id}", {"decision": "approve", "comment": ""},
                         csrf=reviewer.csrf)[0] == 403
    consumer.get("/console")
    assert consumer.post(f"/console/reviews/{request_id}", {"decision": "approve", "comment": ""})[0] == 303
    _, _, page = consumer.get("/console")
    assert f"is not a member of {platform.owners}" in page
    assert sealed(ADMIN, "access", "show", request_id)["Approvals"] == []


def test_pages_with_data_are_not_cached_and_cannot_be_framed():
    platform = Platform()
    session = RawSession()
    session.sign_in(platform.consumer)
    for path in ("/console", "/console/catalog", f"/console/catalog/{platform.event_type}", "/console/reviews"):
        status, headers, _ = session.get(path)
        assert status == 200, path
        assert headers["cache-control"] == "no-store", path
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_twenty_wrong_secrets_in_a_row_are_throttled():
    platform = Platform()
    session = RawSession()
    session.get("/console/sign-in")
    wrong = {"accessKeyId": platform.outsider["keys"][0], "secret": "wrong-secret"}
    statuses = [session.post("/console/sign-in", wrong)[0] for _ in range(20)]
    assert statuses[0] == 401
    assert statuses[-1] == 429, statuses
    right = {"accessKeyId": platform.outsider["keys"][0], "secret": platform.outsider["keys"][1]}
    status, _, body = session.post("/console/sign-in", right)
    assert status == 429 and "Too many failed sign-ins" in body
    records = sealed(ADMIN, "audit", "query", "--event-name", "ConsoleLogin", "--errors-only", "--limit", "1000")
    failed = [r for r in records["Records"] if r.get("userIdentity", {}).get("accessKeyId") == wrong["accessKeyId"]]
    assert failed and all(r["userAgent"].startswith("sealed-console/1") for r in failed)
