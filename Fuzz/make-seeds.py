#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora under Fuzz/Corpus/<target>/.

Run with the peers' venv (scripts/test creates it): `.venv/bin/python Fuzz/make-seeds.py`. The ESDK seeds are
encrypted by the official Python ESDK with the raw AES keyring the harness decrypts with (ESDKTargets.keyring), the
SigV4 seeds are the AWS SigV4 test suite's signed requests (../shared/vectors/sigv4), the rest are real requests,
envelopes and records of this project. Seeds are small on purpose: libFuzzer grows its own corpus from them.
"""
import hashlib
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "Corpus"
VECTORS = pathlib.Path(os.environ.get("SEALED_VECTORS", ROOT.parent / "shared" / "vectors"))


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def esdk():
    import aws_encryption_sdk
    from aws_encryption_sdk import CommitmentPolicy
    from aws_encryption_sdk.identifiers import Algorithm
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import AesWrappingAlg, CreateRawAesKeyringInput

    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    keyring = mpl.create_raw_aes_keyring(input=CreateRawAesKeyringInput(
        key_namespace="sealed-fuzz", key_name="fuzz-key", wrapping_key=bytes([0x5A] * 32),
        wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16))
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
    cases = [
        (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, 4096, b"", {}),
        (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, 128, bytes(range(256)) * 2, {"eventType": "orders.placed"}),
        (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, 0, b"not framed", {"a": "1", "b": "2"}),
        (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 128, b"signed " * 40, {"domain": "sales"}),
        (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 4096, b"", {}),
    ]
    for index, (suite, frame, plaintext, context) in enumerate(cases):
        message, _ = client.encrypt(source=plaintext, keyring=keyring, algorithm=suite, frame_length=frame,
                                    encryption_context=context)
        write("esdk-header", message)
        # The decrypt target's first byte: chunk size (low 6 bits) and commitment policy (bit 6).
        write("esdk-decrypt", bytes([index * 13 % 64]) + message)


def sigv4():
    for path in sorted(VECTORS.joinpath("sigv4").rglob("*-signed-request.txt")):
        write("sigv4", path.read_bytes())


def policies():
    fields = "\0".join([
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:000000000000:key/2f1e7a9c-4b1d-4f3e-9a51-1c2d3e4f5a6b",
        "arn:aws:sts::000000000000:assumed-role/sealed-reader-orders/consumer",
        "10.1.2.3", "eventType", "orders.placed", "1790000000",
    ])
    documents = [
        (0, '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],'
            '"Resource":"arn:aws:kms:us-east-1:000000000000:key/*",'
            '"Condition":{"StringEquals":{"kms:EncryptionContext:eventType":"orders.placed"}}}]}'),
        (0, '{"Version":"2012-10-17","Statement":[{"Sid":"DenyOld","Effect":"Deny","NotAction":"kms:Encrypt*",'
            '"Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},'
            '"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}]}'),
        (1, '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},'
            '"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",'
            '"Condition":{"Null":{"kms:EncryptionContext:eventType":"true"}}}]}'),
        (2, '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":['
            '"arn:aws:iam::000000000000:user/alice"]},"Action":"sts:AssumeRole",'
            '"Condition":{"StringLike":{"sts:RoleSessionName":"consumer-*"},"Bool":{"aws:SecureTransport":"true"},'
            '"NumericLessThanEquals":{"sts:DurationSeconds":3600}}}]}'),
    ]
    for kind, document in documents:
        write("iam-policy", bytes([kind]) + (fields + "\0" + document).encode())


def json_documents():
    for text in [
        '{"a":[1,-2.5e10,true,false,null,"x\\u00e9\\ud83d\\ude00"],"b":{"c":{}},"d":[]}',
        '\ufeff{"Version":"2012-10-17"}',
        '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
        '{"n":123456789012345678901234567890,"m":1e400,"s":"tab\\tline\\n"}',
        '"just a string"',
    ]:
        write("json", text)


def kms_json():
    blob = "AQICAHh8yuJH0qkGxMrJx6lQ7ewmvRxnyfC1KEpvJ2mrVoF9AQHzXk0L8kV5B1mIlUHnFRfbAAAAbjBsBgkqhkiG9w0BBwagXzBdAgEAMFgGCSqGSIb3DQEHATAeBglghkgBZQMEAS4wEQQM"
    bodies = [
        (0, '{"KeyId":"alias/sealed/sales","Plaintext":"aGVsbG8=","EncryptionContext":{"eventType":"orders.placed"}}'),
        (1, '{"CiphertextBlob":"%s","KeyId":"arn:aws:kms:us-east-1:000000000000:key/k","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}' % blob),
        (2, '{"CiphertextBlob":"%s","EncryptionContext":{"eventType":"orders.placed"},"GrantTokens":["t"],"DryRun":false}' % blob),
        (3, '{"KeyId":"arn:aws:kms:us-east-1:000000000000:key/k","Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}'),
        (4, '{"CiphertextBlob":"%s","DestinationKeyId":"alias/b","SourceEncryptionContext":{"a":"b"},"DestinationEncryptionContext":{}}' % blob),
        (6, '{"KeyId":"alias/sealed/sales","KeySpec":"AES_256","EncryptionContext":{"eventType":"orders.placed"}}'),
        (6, '{"KeyId":"alias/sealed/sales","NumberOfBytes":32}'),
        (7, '{"CiphertextBlob":"%s","KeyId":"k","Plaintext":"AAEC"}' % blob),
        (8, '{"KeyId":"k","KeySpec":"AES_128"}'),
    ]
    for choice, body in bodies:
        write("kms-json", bytes([choice]) + body.encode())


def sts_query():
    for body in [
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fsealed%2Fsealed-reader-orders"
        "&RoleSessionName=consumer-1&DurationSeconds=900",
        "Action=GetCallerIdentity&Version=2011-06-15",
        "Action=AssumeRole&RoleArn=r&RoleSessionName=a+b%2Fc%2B&DurationSeconds=x",
        "Action\0AssumeRole\0RoleArn\0arn:aws:iam::000000000000:role/r\0",
    ]:
        write("sts-query", body)


def nats_protocol():
    stream = (
        b'INFO {"server_id":"x","version":"2.10.0","headers":true,"max_payload":1048576}\r\n'
        b"+OK\r\nPING\r\nPONG\r\nMSG greet.1 7 5\r\nhello\r\nMSG svc 3 _INBOX.a.b 0\r\n\r\n"
        b"HMSG h 2 34 38\r\nNATS/1.0\r\nNats-Msg-Id: id-1\r\nX: y\r\n\r\nbody\r\n"
        b"HMSG s 9 _INBOX.r 28 28\r\nNATS/1.0 503\r\nStatus: 1\r\n\r\n\r\n-ERR 'Authorization Violation'\r\n"
    )
    for chunk in (1, 7, 31):
        write("nats-protocol", bytes([chunk]) + stream)


def events():
    envelope = (
        '{"metaData":{"eventId":"6f1c1d8e-0c9b-4a52-a0d6-0a3f4d1b2c3d","eventType":"orders.placed","domain":"sales",'
        '"source":"checkout","time":"2026-12-04T10:00:00Z","classification":"confidential","regulations":["PCI-DSS","GDPR"],'
        '"encryption":{"keyArn":"arn:aws:kms:us-east-1:000000000000:key/k","scope":"fields","fields":["/card/number"]},'
        '"x-extra":1},"data":{"card":{"number":"AYADeK2...","brand":"visa"},"amount":12.5},"trace":"t-1"}'
    )
    whole = (
        '{"metaData":{"eventId":"e-2","eventType":"customers.created","domain":"crm","source":"signup",'
        '"time":"2026-12-04T10:00:00.123Z","encryption":{"keyArn":"arn:aws:kms:us-east-1:000000000000:key/k",'
        '"scope":"data"}},"data":"AYADeHl0ZXN0"}'
    )
    cloud = (
        '{"specversion":"1.0","id":"e-3","source":"checkout","type":"orders.placed","time":"2026-12-04T10:00:00Z",'
        '"datacontenttype":"application/json","domain":"sales","dataclassification":"internal",'
        '"dataregulation":"GDPR","data":{"a":1}}'
    )
    for text in (envelope, whole, cloud):
        write("event-envelope", text)
    for line in (
        '{"EventId":"e-1","Offset":42}',
        '{"EventId":"e-2","Error":{"Code":"EventTooLarge","Message":"the event is 2 MiB"}}',
        '{"Error":{"Code":"MalformedEnvelope","Message":"line 3 is not JSON"}}',
        '{"StreamError":{"Code":"IdleTimeout","Message":"no event for 60 s"}}',
    ):
        write("event-stream-line", line)


def audit_records():
    # Records as the server wrote them (an intent record, a completed one, a KMS call with its encryption context).
    for record in [
        (
            '{"additionalEventData":{"auditPhase":"Intent"},"awsRegion":"us-east-1","eventID":"b00748f1-b82d-47d6'
            '-9f90-bb0e335eaf52","eventName":"CreateKey","eventSource":"kms.amazonaws.com","eventTime":"2026-12-0'
            '4T18:55:20Z","eventType":"AwsApiCall","eventVersion":"1.08","previousHash":"000000000000000000000000'
            '0000000000000000000000000000000000000000","readOnly":false,"recipientAccountId":"000000000000","requ'
            'estID":"58a0641b-875d-4c9b-9907-5b7a28e92096","requestParameters":{},"sequenceNumber":1,"sourceIPAdd'
            'ress":"127.0.0.1","userAgent":"sealed-events-kms/1.0","userIdentity":{"accessKeyId":"AKIASEH77GHFIAK'
            'JHD2H","accountId":"000000000000","arn":"arn:aws:iam::000000000000:user/admin","type":"IAMUser","use'
            'rName":"admin"}}'
        ),
        (
            '{"awsRegion":"us-east-1","eventID":"3d9e800b-10ee-400b-98f9-950fd78e0051","eventName":"CreateKey","e'
            'ventSource":"kms.amazonaws.com","eventTime":"2026-12-04T18:55:20Z","eventType":"AwsApiCall","eventVe'
            'rsion":"1.08","previousHash":"257ca9829d3d268e3826cf8e98143294628e3c79b6a615c83b15402bf957b990","rea'
            'dOnly":false,"recipientAccountId":"000000000000","requestID":"58a0641b-875d-4c9b-9907-5b7a28e92096",'
            '"requestParameters":{},"resources":[{"ARN":"arn:aws:kms:us-east-1:000000000000:key/b2a94c22-367b-434'
            '9-9d3a-65a5e73eec36","accountId":"000000000000","type":"AWS::KMS::Key"}],"sequenceNumber":2,"sourceI'
            'PAddress":"127.0.0.1","userAgent":"sealed-events-kms/1.0","userIdentity":{"accessKeyId":"AKIASEH77GH'
            'FIAKJHD2H","accountId":"000000000000","arn":"arn:aws:iam::000000000000:user/admin","type":"IAMUser",'
            '"userName":"admin"}}'
        ),
        (
            '{"awsRegion":"us-east-1","eventID":"c503e15d-c87b-4953-84ca-e8f0b732f30b","eventName":"Encrypt","eve'
            'ntSource":"kms.amazonaws.com","eventTime":"2026-12-04T18:55:20Z","eventType":"AwsApiCall","eventVers'
            'ion":"1.08","previousHash":"f8c4a770a8aea2d064b14b604af614b6a63e3275fecbd7148f3557959cbced23","readO'
            'nly":true,"recipientAccountId":"000000000000","requestID":"2e4a6e0e-61f8-4bdb-8667-111d4cc7939f","re'
            'questParameters":{"encryptionContext":{"eventType":"payments.card.captured"},"keyId":"b2a94c22-367b-'
            '4349-9d3a-65a5e73eec36"},"resources":[{"ARN":"arn:aws:kms:us-east-1:000000000000:key/b2a94c22-367b-4'
            '349-9d3a-65a5e73eec36","accountId":"000000000000","type":"AWS::KMS::Key"}],"sequenceNumber":3,"sourc'
            'eIPAddress":"127.0.0.1","userAgent":"sealed-events-kms/1.0","userIdentity":{"accessKeyId":"AKIASEH77'
            'GHFIAKJHD2H","accountId":"000000000000","arn":"arn:aws:iam::000000000000:user/admin","type":"IAMUser'
            '","userName":"admin"}}'
        ),
    ]:
        write("audit-record", record)


def encodings():
    for text in ["", "AA==", "AAE=", "AAEC", "aGVsbG8gd29ybGQ=", "////", "+/+/", "AB==", "A===", "QUJD\nREVG"]:
        write("base64", text)
    for pointer, document in [
        ("/card/number", '{"card":{"number":"4111","brand":"visa"}}'),
        ("/items/0/sku", '{"items":[{"sku":"a"},{"sku":"b"}]}'),
        ("/a~1b/m~0n", '{"a/b":{"m~n":1}}'),
        ("", '"whole"'),
        ("/items/-", '{"items":[]}'),
    ]:
        write("json-pointer", pointer + "\0" + document)


if __name__ == "__main__":
    generators = [esdk, sigv4, policies, json_documents, kms_json, sts_query, nats_protocol, events, audit_records,
                  encodings]
    only = set(sys.argv[1:])
    for generator in generators:
        if not only or generator.__name__ in only:
            generator()
    for folder in sorted(CORPUS.iterdir()):
        print(f"{folder.name}: {len(list(folder.iterdir()))} seeds")
