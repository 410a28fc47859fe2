"""The DynamoDB subset of a live `sealed serve` with boto3 and the aws CLI.

    SEALED_KMS_ENDPOINT=http://127.0.0.1:PORT SEALED_KMS_ACCESS_KEY_ID=... SEALED_KMS_SECRET_ACCESS_KEY=... \
    SEALED_BIN=.build/debug/sealed python -m pytest -q scripts/peers/test_dynamodb_server.py

Run by Tests/SealedCLITests/PytestSuiteTests.swift. botocore must read every answer as it reads DynamoDB's: the
shapes, the error codes (ConditionalCheckFailedException, TransactionCanceledException with its CancellationReasons,
ValidationException, ResourceNotFoundException, AccessDeniedException), and its paginator must page a Query through
LastEvaluatedKey. Every test makes its own tables and users (unique names).
"""
import base64
import json
import os
import subprocess
import sys
import urllib.request
import uuid

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
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


def dynamodb(credentials=ADMIN):
    return boto3.client(
        "dynamodb", endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1], config=NO_RETRIES,
    )


def error(excinfo):
    return excinfo.value.response["Error"]["Code"]


def table_arn(name):
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def create_keystore_table(client, name=None):
    name = name or f"keys-{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "branch-key-id", "AttributeType": "S"},
                              {"AttributeName": "type", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "branch-key-id", "KeyType": "HASH"},
                   {"AttributeName": "type", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def item(branch_key, kind, enc=b"\x01\x02"):
    return {"branch-key-id": {"S": branch_key}, "type": {"S": kind}, "enc": {"B": enc},
            "hierarchy-version": {"N": "1"}}


def key(branch_key, kind):
    return {"branch-key-id": {"S": branch_key}, "type": {"S": kind}}


NOT_EXISTS = {"ConditionExpression": "attribute_not_exists(#b)", "ExpressionAttributeNames": {"#b": "branch-key-id"}}


def test_tables_are_created_described_listed_and_deleted():
    client = dynamodb()
    name = create_keystore_table(client)
    described = client.describe_table(TableName=name)["Table"]
    assert described["TableArn"] == table_arn(name)
    assert described["TableStatus"] == "ACTIVE"
    assert {(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]} == {("branch-key-id", "HASH"),
                                                                                     ("type", "RANGE")}
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    names = [n for page in client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
             for n in page["TableNames"]]
    assert name in names
    with pytest.raises(ClientError) as raised:
        create_keystore_table(client, name)
    assert error(raised) == "ResourceInUseException"
    client.delete_table(TableName=name)
    with pytest.raises(ClientError) as raised:
        client.describe_table(TableName=name)
    assert error(raised) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        client.describe_table(TableName="no")
    assert error(raised) == "ValidationException"


def test_conditional_writes_and_reads():
    client = dynamodb()
    name = create_keystore_table(client)
    client.put_item(TableName=name, Item=item("k", "branch:ACTIVE"), **NOT_EXISTS)
    with pytest.raises(ClientError) as raised:
        client.put_item(TableName=name, Item=item("k", "branch:ACTIVE", b"\x09"), **NOT_EXISTS)
    assert error(raised) == "ConditionalCheckFailedException"
    got = client.get_item(TableName=name, Key=key("k", "branch:ACTIVE"), ConsistentRead=True)["Item"]
    assert got["enc"]["B"] == b"\x01\x02" and got["hierarchy-version"]["N"] == "1"
    assert "Item" not in client.get_item(TableName=name, Key=key("k", "other"))
    old = client.delete_item(TableName=name, Key=key("k", "branch:ACTIVE"), ReturnValues="ALL_OLD")["Attributes"]
    assert old["enc"]["B"] == b"\x01\x02"
    with pytest.raises(ClientError) as raised:
        client.get_item(TableName=name, Key={"branch-key-id": {"S": "k"}})
    assert error(raised) == "ValidationException"
    with pytest.raises(ClientError) as raised:
        client.put_item(TableName=name, Item=item("k", "t"), ConditionExpression="attribute_exists(#unused)")
    assert error(raised) == "ValidationException"


def test_transactions_are_all_or_nothing_with_cancellation_reasons():
    client = dynamodb()
    name = create_keystore_table(client)
    client.put_item(TableName=name, Item=item("k", "branch:ACTIVE"))
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": item("k", "branch:version:1"), **NOT_EXISTS}},
            {"Put": {"TableName": name, "Item": item("k", "branch:ACTIVE", b"\x07"), **NOT_EXISTS}},
        ])
    assert error(raised) == "TransactionCanceledException"
    reasons = raised.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in client.get_item(TableName=name, Key=key("k", "branch:version:1"))
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": item("k", "branch:version:1"), **NOT_EXISTS}},
        {"Put": {"TableName": name, "Item": item("k", "branch:ACTIVE", b"\x07"),
                 "ConditionExpression": "attribute_exists(#b)", "ExpressionAttributeNames": {"#b": "branch-key-id"}}},
        {"ConditionCheck": {"TableName": name, "Key": key("k", "beacon:ACTIVE"),
                            "ConditionExpression": "attribute_not_exists(enc)"}},
    ])
    assert client.get_item(TableName=name, Key=key("k", "branch:ACTIVE"))["Item"]["enc"]["B"] == b"\x07"
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Delete": {"TableName": name, "Key": key("k", "x")}}, {"Delete": {"TableName": name, "Key": key("k", "x")}},
        ])
    assert error(raised) == "ValidationException"


def test_query_pages_in_sort_key_order():
    client = dynamodb()
    name = create_keystore_table(client)
    kinds = [f"branch:version:{i:02d}" for i in range(7)] + ["branch:ACTIVE", "beacon:ACTIVE"]
    for kind in reversed(kinds):
        client.put_item(TableName=name, Item=item("k", kind))
    paginator = client.get_paginator("query")
    pages = list(paginator.paginate(
        TableName=name, KeyConditionExpression="#b = :k AND begins_with(#t, :v)",
        ExpressionAttributeNames={"#b": "branch-key-id", "#t": "type"},
        ExpressionAttributeValues={":k": {"S": "k"}, ":v": {"S": "branch:version:"}},
        PaginationConfig={"PageSize": 3},
    ))
    seen = [entry["type"]["S"] for page in pages for entry in page["Items"]]
    assert seen == [f"branch:version:{i:02d}" for i in range(7)]
    assert len(pages) >= 3
    backwards = client.query(TableName=name, KeyConditionExpression="#b = :k", ScanIndexForward=False,
                             ExpressionAttributeNames={"#b": "branch-key-id"},
                             ExpressionAttributeValues={":k": {"S": "k"}})
    assert [entry["type"]["S"] for entry in backwards["Items"]] == sorted(kinds, reverse=True)
    assert backwards["Count"] == len(kinds)


def put_user_policy(user, policy_name, document):
    """`PUT /v1/iam/users/USER/policies/NAME` as the administrator, signed for the service `sealed`."""
    body = json.dumps({"PolicyDocument": json.dumps(document)}).encode()
    request = AWSRequest(method="PUT", url=f"{ENDPOINT}/v1/iam/users/{user}/policies/{policy_name}", data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*ADMIN), "sealed", REGION).add_auth(request)
    prepared = request.prepare()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="PUT"),
                     timeout=30) as response:
        assert response.status == 200


def sealed(*arguments):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_ACCESS_KEY_ID": ADMIN[0], "AWS_SECRET_ACCESS_KEY": ADMIN[1], "AWS_REGION": REGION,
                        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"})
    result = subprocess.run([SEALED, *arguments, "--endpoint-url", ENDPOINT, "--output", "json"],
                            capture_output=True, text=True, env=environment, timeout=60, check=True)
    return json.loads(result.stdout)


def test_identity_policies_decide_per_action_and_table():
    admin = dynamodb()
    name = create_keystore_table(admin)
    other = create_keystore_table(admin)
    admin.put_item(TableName=name, Item=item("k", "branch:ACTIVE"))
    admin.put_item(TableName=other, Item=item("k", "branch:ACTIVE"))
    user = f"reader-{uuid.uuid4().hex[:8]}"
    created = sealed("iam", "create-user", user)
    reader = dynamodb((created["AccessKeyId"], created["SecretAccessKey"]))
    with pytest.raises(ClientError) as raised:
        reader.get_item(TableName=name, Key=key("k", "branch:ACTIVE"))
    assert error(raised) == "AccessDeniedException"
    assert "dynamodb:GetItem" in raised.value.response["Error"]["Message"]
    put_user_policy(user, "read-keys", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table_arn(name)}]})
    assert reader.get_item(TableName=name, Key=key("k", "branch:ACTIVE"))["Item"]["type"]["S"] == "branch:ACTIVE"
    for call in (lambda: reader.get_item(TableName=other, Key=key("k", "branch:ACTIVE")),
                 lambda: reader.put_item(TableName=name, Item=item("k", "x")),
                 lambda: reader.delete_item(TableName=name, Key=key("k", "branch:ACTIVE")),
                 lambda: reader.list_tables()):
        with pytest.raises(ClientError) as raised:
            call()
        assert error(raised) == "AccessDeniedException"


def aws(*arguments, check=True):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update({"AWS_ACCESS_KEY_ID": ADMIN[0], "AWS_SECRET_ACCESS_KEY": ADMIN[1],
                        "AWS_DEFAULT_REGION": REGION, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                        "AWS_CONFIG_FILE": "/nonexistent", "AWS_MAX_ATTEMPTS": "1"})
    executable = os.path.join(os.path.dirname(sys.executable), "aws")
    if not os.path.exists(executable):
        executable = "aws"
    return subprocess.run([executable, "dynamodb", *arguments, "--endpoint-url", ENDPOINT, "--output", "json"],
                          capture_output=True, text=True, env=environment, timeout=60, check=check)


def test_the_aws_cli():
    name = create_keystore_table(dynamodb())
    put = aws("put-item", "--table-name", name, "--item", json.dumps(
        {"branch-key-id": {"S": "cli"}, "type": {"S": "branch:ACTIVE"}, "enc": {"B": "AQI="}}))
    assert put.returncode == 0, put.stderr
    got = json.loads(aws("get-item", "--table-name", name, "--key",
                         json.dumps({"branch-key-id": {"S": "cli"}, "type": {"S": "branch:ACTIVE"}})).stdout)
    # aws CLI v1 base64-encodes a blob given on the command line, as it does against DynamoDB: the stored bytes are
    # the text "AQI=", answered in base64.
    assert base64.b64decode(got["Item"]["enc"]["B"]) == b"AQI="
    listed = json.loads(aws("list-tables").stdout)
    assert name in listed["TableNames"]
    queried = json.loads(aws("query", "--table-name", name, "--key-condition-expression", "#b = :k",
                             "--expression-attribute-names", json.dumps({"#b": "branch-key-id"}),
                             "--expression-attribute-values", json.dumps({":k": {"S": "cli"}})).stdout)
    assert queried["Count"] == 1
    refused = aws("put-item", "--table-name", name, "--item", json.dumps(
        {"branch-key-id": {"S": "cli"}, "type": {"S": "branch:ACTIVE"}}),
        "--condition-expression", "attribute_not_exists(#b)",
        "--expression-attribute-names", json.dumps({"#b": "branch-key-id"}), check=False)
    assert refused.returncode != 0
    assert "ConditionalCheckFailedException" in refused.stderr
