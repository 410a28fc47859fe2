#!/usr/bin/env python3
"""Prepares a running moto server for the KMS tests and writes a JSON fixture describing it.

Usage: moto_setup.py --endpoint http://127.0.0.1:PORT --output FIXTURE.json [--region us-east-1]

Waits (up to 30 s) until the server answers, then creates with boto3:
  * two symmetric KMS keys ("primary", "secondary") and the alias alias/sealed-test -> primary;
  * IAM user "sealed-allowed" (kms:*, dynamodb:*, sts:AssumeRole, sts:GetCallerIdentity) with an access key;
  * IAM user "sealed-denied" (only kms:DescribeKey and kms:ListKeys) with an access key;
  * IAM user "sealed-tablereader" (only dynamodb:GetItem and dynamodb:Query: reads keystore items, cannot
    unwrap them) with an access key;
  * IAM user "sealed-iamadmin" (iam:*, s3:* and sts:GetCallerIdentity: the IAM and S3 clients' tests) with an
    access key;
  * IAM user "sealed-platform" with docs/aws/platform-policy.json (the platform's identity in AWS mode), plus the
    same actions on "*" (moto checks identity policies against the resource "*": only the actions are enforced);
  * role "sealed-reader" whose trust policy lets sealed-allowed assume it, with kms:* permissions;
then turns on moto's IAM enforcement (POST /moto-api/reset-auth with "0": from then on every request must
be signed by a known access key and be allowed by its IAM policies; moto 5.2.5 has no other switch for
server mode), checks that it is on, and writes the fixture (atomically):

  {"endpoint", "region", "account",
   "keys": {"primary": ARN, "secondary": ARN}, "alias": "alias/sealed-test", "aliasArn": ARN,
   "users": {"allowed": {"arn", "accessKeyId", "secretAccessKey"}, "denied": {...}, "tablereader": {...},
             "iamadmin": {...}},
   "role": {"arn", "name"}}

Notes on moto 5.2.5: identity policies are evaluated against the resource "*" for KMS (so the
policies here use "Resource": "*"), and key policies are stored but not enforced.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

SETUP_KEY = ("AKIAMOTOSETUP0000000", "moto-setup-secret")  # any key works before enforcement


def wait_until_up(endpoint, seconds=30.0):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
            last = error
        except Exception as error:  # connection refused while starting
            last = error
        time.sleep(0.1)
    raise SystemExit("moto_setup: %s did not answer within %.0f s (%s)" % (endpoint, seconds, last))


def client(service, args, key=SETUP_KEY):
    return boto3.client(
        service, endpoint_url=args.endpoint, region_name=args.region,
        aws_access_key_id=key[0], aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 2, "mode": "standard"}))


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    args.endpoint = args.endpoint.rstrip("/")
    wait_until_up(args.endpoint)

    kms = client("kms", args)
    iam = client("iam", args)
    keys = {}
    for name in ("primary", "secondary"):
        metadata = kms.create_key(Description="sealed-events test key (%s)" % name,
                                  KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
        keys[name] = metadata["Arn"]
    alias = "alias/sealed-test"
    kms.create_alias(AliasName=alias, TargetKeyId=keys["primary"])
    account = keys["primary"].split(":")[4]

    users = {}
    user_policies = {
        "allowed": policy({"Effect": "Allow",
                           "Action": ["kms:*", "dynamodb:*", "sts:AssumeRole", "sts:GetCallerIdentity"],
                           "Resource": "*"}),
        "denied": policy({"Effect": "Allow", "Action": ["kms:DescribeKey", "kms:ListKeys"], "Resource": "*"}),
        "tablereader": policy({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "*"}),
        "iamadmin": policy({"Effect": "Allow", "Action": ["iam:*", "s3:*", "sts:GetCallerIdentity"], "Resource": "*"}),
        # The platform's own identity in AWS mode: exactly the policy the project ships.
        "platform": open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "aws",
                                      "platform-policy.json")).read(),
    }
    for name, document in user_policies.items():
        user = iam.create_user(UserName="sealed-%s" % name)["User"]
        iam.put_user_policy(UserName=user["UserName"], PolicyName="sealed-%s" % name, PolicyDocument=document)
        if name == "platform":
            # moto 5 evaluates identity policies against the resource "*" (see above), so the shipped policy's
            # resource-scoped statements would deny everything here: its actions, exactly, on "*" stand in for them.
            # moto so checks that the platform needs no action beyond the shipped policy; the policy's resource and
            # condition scoping is checked by the platform's own evaluator (AWSDocumentsInAWSTests).
            actions = sorted({action for statement in json.loads(document)["Statement"]
                              for action in ([statement["Action"]] if isinstance(statement["Action"], str)
                                             else statement["Action"])})
            iam.put_user_policy(UserName=user["UserName"], PolicyName="moto-actions-on-any-resource",
                                PolicyDocument=policy({"Effect": "Allow", "Action": actions, "Resource": "*"}))
        key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
        users[name] = {"arn": user["Arn"], "accessKeyId": key["AccessKeyId"],
                       "secretAccessKey": key["SecretAccessKey"]}

    role_name = "sealed-reader"
    trust = policy({"Effect": "Allow", "Principal": {"AWS": users["allowed"]["arn"]}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust, MaxSessionDuration=3600)["Role"]
    iam.put_role_policy(RoleName=role_name, PolicyName="sealed-reader",
                        PolicyDocument=policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))

    # Turn on IAM enforcement: every later request needs a known, allowed access key.
    # (a form content type would make Flask consume the body as form data, so send it as text)
    request = urllib.request.Request(args.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise SystemExit("moto_setup: enabling IAM enforcement failed (HTTP %d)" % response.status)
    try:
        client("kms", args).list_keys()
        raise SystemExit("moto_setup: IAM enforcement is not on (an unknown key could list keys)")
    except botocore.exceptions.ClientError:
        pass
    allowed = (users["allowed"]["accessKeyId"], users["allowed"]["secretAccessKey"])
    client("kms", args, allowed).describe_key(KeyId=alias)

    fixture = {
        "endpoint": args.endpoint, "region": args.region, "account": account,
        "keys": keys, "alias": alias, "aliasArn": "arn:aws:kms:%s:%s:%s" % (args.region, account, alias),
        "users": users, "role": {"arn": role["Arn"], "name": role_name},
    }
    tmp = args.output + ".tmp-%d" % os.getpid()
    with open(tmp, "w") as handle:
        json.dump(fixture, handle, indent=1, sort_keys=True)
    os.replace(tmp, args.output)
    sys.stderr.write("moto_setup: %s ready (keys %s, IAM enforced)\n" % (args.endpoint, ", ".join(sorted(keys))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
