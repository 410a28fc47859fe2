#!/usr/bin/env python3
"""Reads back, with boto3, what the platform made in an AWS account (moto in the tests), and prints it as JSON.

Usage: aws_readback.py --endpoint URL --region R --role NAME... --key ARN... --policy ARN...
Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for IAM (an IAM administrator), and KMS_ACCESS_KEY_ID /
KMS_SECRET_ACCESS_KEY for KMS (a KMS administrator), so the reader is never the platform's own identity.

Prints {"roles": {NAME: {"arn", "path", "trust", "policies": {NAME: DOC}, "tags": {K: V}} or null},
        "keys": {ARN: {"state", "spec", "usage", "policy", "tags": {K: V}, "aliases": [NAME]}},
        "policies": {ARN: {"document", "defaultVersion", "users": [NAME], "roles": [NAME]}}}
with every policy document as JSON text, keys sorted (boto3 decodes IAM's URL-encoded documents).
"""

import argparse
import json
import os

import boto3
import botocore.exceptions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--role", action="append", default=[])
    parser.add_argument("--key", action="append", default=[])
    parser.add_argument("--policy", action="append", default=[])
    args = parser.parse_args()
    iam = boto3.client("iam", endpoint_url=args.endpoint, region_name=args.region)
    kms = boto3.client(
        "kms", endpoint_url=args.endpoint, region_name=args.region,
        aws_access_key_id=os.environ["KMS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["KMS_SECRET_ACCESS_KEY"])

    def document(value):
        """A policy document as canonical JSON text (sorted keys), however boto3 handed it over."""
        return json.dumps(value if isinstance(value, dict) else json.loads(value), sort_keys=True)

    roles = {}
    for name in args.role:
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                roles[name] = None
                continue
            raise
        policies = {}
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            policies[policy_name] = document(
                iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
        tags = {tag["Key"]: tag["Value"] for tag in iam.list_role_tags(RoleName=name)["Tags"]}
        roles[name] = {"arn": role["Arn"], "path": role["Path"], "trust": document(role["AssumeRolePolicyDocument"]),
                       "policies": policies, "tags": tags}

    aliases = kms.list_aliases()["Aliases"]
    keys = {}
    for arn in args.key:
        metadata = kms.describe_key(KeyId=arn)["KeyMetadata"]
        keys[arn] = {
            "state": metadata["KeyState"], "spec": metadata["KeySpec"], "usage": metadata["KeyUsage"],
            "policy": document(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]),
            "tags": {tag["TagKey"]: tag["TagValue"] for tag in kms.list_resource_tags(KeyId=arn)["Tags"]},
            "aliases": sorted(a["AliasName"] for a in aliases if a.get("TargetKeyId") == metadata["KeyId"]),
        }

    policies = {}
    for arn in args.policy:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        policies[arn] = {"document": document(doc), "defaultVersion": version,
                         "users": sorted(u["UserName"] for u in entities["PolicyUsers"]),
                         "roles": sorted(r["RoleName"] for r in entities["PolicyRoles"])}

    print(json.dumps({"roles": roles, "keys": keys, "policies": policies}, sort_keys=True))


if __name__ == "__main__":
    main()
