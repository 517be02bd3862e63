#!/usr/bin/env python3
"""Generate the fictional `leastpriv` demo snapshot under fixtures/demo/ (overwriting it).

    python3 scripts/gen-demo.py            # writes <repo>/fixtures/demo/
    python3 scripts/gen-demo.py -o DIR     # writes DIR instead

Python 3 standard library only, fully deterministic (fixed seed, fixed times, gzip mtime=0):
running it twice gives byte-identical output.

Everything is fictional: account 111122223333, documentation IP ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24), access key ids of the form AKIAEXAMPLE... / ASIAEXAMPLE...,
and no credential material anywhere. See fixtures/demo/README.md (written by this script) for
the story and the conclusions a correct audit must reach.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
EU = "eu-west-1"
TRAIL_NAME = "acme-main-trail"
TRAIL_BUCKET = "acme-cloudtrail-logs"
SNAPSHOT_TIME = datetime(2026, 10, 31, 6, 0, 0, tzinfo=timezone.utc)  # iam.json / credential report

rng = random.Random(20261001)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM_MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# ----------------------------------------------------------------------------------------------
# small helpers


def T(day: int, h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 10, day, h, m, s, tzinfo=timezone.utc)


def ct_time(t: datetime) -> str:  # CloudTrail form
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cli_time(t: datetime) -> str:  # AWS CLI / credential report form
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def new_uuid() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def s3_request_id() -> str:
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(16))


def s3_id2() -> str:
    return "".join(rng.choice(ALNUM_MIXED) for _ in range(76)) + "="


def iam_id(prefix: str, name: str) -> str:
    """21-character unique id such as AIDAEXAMPLEALICE00000 (prefix + 17)."""
    body = "EXAMPLE" + "".join(c for c in name.upper() if c.isalnum())
    return prefix + body[:17].ljust(17, "0")


def session_key() -> str:
    return "ASIAEXAMPLE" + "".join(rng.choice(ALNUM) for _ in range(9))


def hexstr(n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def doc(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# ----------------------------------------------------------------------------------------------
# principals

USERS = {
    name: {
        "name": name,
        "id": iam_id("AIDA", name),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
    }
    for name in ("alice", "bob", "ci-deploy")
}
KEYS = {
    "bob-1": "AKIAEXAMPLEBOB000001",
    "ci-1": "AKIAEXAMPLECIDEPLOY1",
    "ci-2": "AKIAEXAMPLECIDEPLOY2",
}


def role(name: str, path: str = "/") -> dict:
    return {"name": name, "path": path, "id": iam_id("AROA", name),
            "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}"}


SSO_ROLE_NAME = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
ROLES = {
    "orders-api": role("orders-api", "/service/"),
    "support-agent": role("support-agent"),
    SSO_ROLE_NAME: role(SSO_ROLE_NAME, "/aws-reserved/sso.amazonaws.com/"),
    "github-deploy": role("github-deploy"),
    "legacy-batch": role("legacy-batch"),
    "triage-agent": role("triage-agent", "/agents/"),
}

SECRET_ORDERS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/orders/db-AbCdEf"
SECRET_SUPPORT = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/support/helpdesk-token-Zx12Ab"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SAML_PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_abc_DO_NOT_DELETE"
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
GH_SUB = "repo:acme/orders-api:ref:refs/heads/main"
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"

IP = {
    "alice": "198.51.100.23",
    "bob": "198.51.100.77",
    "root": "198.51.100.9",
    "carol": "198.51.100.140",
    "ci-deploy": "203.0.113.10",
    "github": "203.0.113.200",
    "contractor": "203.0.113.55",
    "orders-api": "192.0.2.44",
    "support-agent": "192.0.2.90",
}

UA = {
    "browser": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "bob-cli": "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off command/{cmd}",
    "ci-cli": "aws-cli/2.17.50 md/awscrt#0.21.2 ua/2.0 os/linux#5.15.0-1071-aws md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython exec-env/Jenkins cfg/retry-mode#standard md/installer#exe command/{cmd}",
    "lambda-sdk": "aws-sdk-js/3.654.0 ua/2.1 os/linux#5.10.226-235.879.amzn2.x86_64 lang/js md/nodejs#20.17.0 api/{api}#3.654.0 exec-env/AWS_Lambda_nodejs20.x",
    "lambda-worker": "awslambda-worker/1.0 rusoto/0.48.0 rust/1.80.0 linux",
    "agent": "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.1.109-118.189.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36",
    "gh-creds": "configure-aws-credentials-for-github-actions",
    "gh-cli": "aws-cli/2.18.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHub-Actions cfg/retry-mode#standard md/installer#exe command/{cmd}",
    "contractor": "aws-cli/2.15.30 Python/3.11.8 Linux/6.8.0-45-generic exe/x86_64.ubuntu.24 prompt/off command/s3.ls",
}

# ----------------------------------------------------------------------------------------------
# userIdentity builders


def ui_user(name: str, key: str | None = None, console_since: datetime | None = None,
            mfa: bool = False) -> dict:
    u = USERS[name]
    d = {"type": "IAMUser", "principalId": u["id"], "arn": u["arn"], "accountId": ACCOUNT}
    if key:
        d["accessKeyId"] = key
    d["userName"] = name
    if console_since:
        d["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": ct_time(console_since),
                           "mfaAuthenticated": "true" if mfa else "false"},
        }
    return d


def ui_role(rname: str, session: str, key: str, since: datetime, *, source_identity=None,
            invoked_by=None, web_identity=False, mfa=False) -> dict:
    r = ROLES[rname]
    ctx = {
        "sessionIssuer": {"type": "Role", "principalId": r["id"], "arn": r["arn"],
                          "accountId": ACCOUNT, "userName": rname},
        "webIdFederationData": ({"federatedProvider": OIDC_PROVIDER, "attributes": {}}
                                if web_identity else {}),
        "attributes": {"creationDate": ct_time(since),
                       "mfaAuthenticated": "true" if mfa else "false"},
    }
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    d = {"type": "AssumedRole", "principalId": f"{r['id']}:{session}",
         "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{rname}/{session}",
         "accountId": ACCOUNT, "accessKeyId": key, "sessionContext": ctx}
    if invoked_by:
        d["invokedBy"] = invoked_by
    return d


def ui_service(service: str) -> dict:
    return {"type": "AWSService", "invokedBy": service}


# ----------------------------------------------------------------------------------------------
# record builder

RECORDS: list[dict] = []
META: dict[int, dict] = {}  # id(record) -> {"who": label, "sink": ...}


def host_for(source: str, region: str) -> str:
    svc = source.split(".")[0]
    if svc in ("iam",):
        return "iam.amazonaws.com"
    if svc == "signin":
        return "signin.aws.amazon.com"
    if svc == "bedrock":
        return f"bedrock-runtime.{region}.amazonaws.com"
    return f"{svc}.{region}.amazonaws.com"


def rec(who: str, t: datetime, source: str, name: str, ui: dict, *, region=REGION, ip=None,
        ua=None, req=None, resp=None, read_only=True, resources=None, error=None,
        etype="AwsApiCall", data=False, additional=None, request_id="uuid", host=None,
        tls=True, console=False, version=None, shared_event_id=None, sink=None) -> dict:
    r: dict = {"eventVersion": version or ("1.10" if data else "1.09"), "userIdentity": ui,
               "eventTime": ct_time(t), "eventSource": source, "eventName": name,
               "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua}
    if error:
        r["errorCode"], r["errorMessage"] = error
    r["requestParameters"] = req
    r["responseElements"] = resp
    if additional is not None:
        r["additionalEventData"] = additional
    if request_id == "uuid":
        r["requestID"] = new_uuid()
    elif request_id == "s3":
        r["requestID"] = s3_request_id()
    elif request_id:
        r["requestID"] = request_id
    r["eventID"] = new_uuid()
    r["readOnly"] = read_only
    if resources is not None:
        r["resources"] = resources
    r["eventType"] = etype
    r["managementEvent"] = not data
    r["recipientAccountId"] = ACCOUNT
    if shared_event_id:
        r["sharedEventID"] = shared_event_id
    r["eventCategory"] = "Data" if data else "Management"
    if console:
        r["sessionCredentialFromConsole"] = "true"
    if tls:
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": host or host_for(source, region)}
    RECORDS.append(r)
    META[id(r)] = {"who": who, "sink": sink}
    return r


def fake_credentials(key: str, expires: datetime) -> dict:
    return {"accessKeyId": key, "sessionToken": "EXAMPLE-SESSION-TOKEN-NOT-A-REAL-CREDENTIAL",
            "expiration": f"{expires:%b} {expires.day}, {expires.year}, "
                          f"{(expires.hour % 12) or 12}:{expires:%M:%S %p}"}


def s3_additional(bytes_out: int = 0, bytes_in: int = 0) -> dict:
    return {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": bytes_in, "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": s3_id2(), "bytesTransferredOut": bytes_out}


def console_login(who: str, ui: dict, t: datetime, ip: str, mfa: bool, mfa_device=None):
    add = {"LoginTo": "https://console.aws.amazon.com/console/home?region=us-east-1",
           "MobileVersion": "No"}
    if mfa_device:
        add["MFAIdentifier"] = mfa_device
    add["MFAUsed"] = "Yes" if mfa else "No"
    return rec(who, t, "signin.amazonaws.com", "ConsoleLogin", ui, ip=ip, ua=UA["browser"],
               resp={"ConsoleLogin": "Success"}, additional=add, request_id=None,
               read_only=False, etype="AwsConsoleSignIn")


def jitter(t: datetime, max_s: int = 240) -> datetime:
    return t + timedelta(seconds=rng.randint(5, max_s))


# ----------------------------------------------------------------------------------------------
# the story


def gen_alice():
    for day in (1, 3, 6, 9, 14, 17, 21, 27):
        login = T(day, 8, rng.randint(0, 40), rng.randint(0, 59))
        console_login("alice", ui_user("alice"), login, IP["alice"], True,
                      f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone")
        key = session_key()
        ui = ui_user("alice", key, console_since=login, mfa=True)
        t = login
        for _ in range(rng.choice((1, 2))):
            t = jitter(t)
            rec("alice", t, "logs.amazonaws.com", "DescribeLogGroups", ui, ip=IP["alice"],
                ua=UA["browser"], console=True,
                req={"limit": 50, "logGroupNamePrefix": "/aws/lambda/orders"})
        t = jitter(t)
        start = t - timedelta(hours=3)
        rec("alice", t, "monitoring.amazonaws.com", "GetMetricData", ui, ip=IP["alice"],
            ua=UA["browser"], console=True,
            req={"metricDataQueries": [{"id": "m1", "metricStat": {
                "metric": {"namespace": "AWS/Lambda", "metricName": "Errors",
                           "dimensions": [{"name": "FunctionName", "value": "orders-api"}]},
                "period": 300, "stat": "Sum"}, "returnData": True}],
                "startTime": ct_time(start), "endTime": ct_time(t)})
        if day == 14:
            t = jitter(t)
            rec("alice", t, "iam.amazonaws.com", "ListUsers", ui, ip=IP["alice"],
                ua=UA["browser"], console=True, req=None,
                error=("AccessDenied",
                       f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
                       f"iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ because no "
                       "identity-based policy allows the iam:ListUsers action"))


def gen_bob():
    key = KEYS["bob-1"]
    ui = ui_user("bob", key)
    for day in (2, 13, 23):
        console_login("bob", ui_user("bob"), T(day, 9, rng.randint(0, 50)), IP["bob"], False)

    def describe(day, region):
        t = T(day, rng.randint(10, 17), rng.randint(0, 59), rng.randint(0, 59))
        rec("bob", t, "ec2.amazonaws.com", "DescribeInstances", ui, region=region, ip=IP["bob"],
            ua=UA["bob-cli"].format(cmd="ec2.describe-instances"),
            req={"instancesSet": {}, "filterSet": {}})

    for day in (2, 5, 8, 12, 16, 22):
        describe(day, REGION)
    for day in (12, 26):
        describe(day, EU)
    for i, day in enumerate((5, 22)):
        t = T(day, 14, 12 + i, 7)
        inst = "i-0" + hexstr(16)
        rec("bob", t, "ec2.amazonaws.com", "RunInstances", ui, ip=IP["bob"],
            ua=UA["bob-cli"].format(cmd="ec2.run-instances"), read_only=False,
            req={"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1,
                                             "maxCount": 1}]},
                 "instanceType": "t3.small", "blockDeviceMapping": {},
                 "monitoring": {"enabled": False}, "disableApiTermination": False,
                 "disableApiStop": False, "clientToken": new_uuid(),
                 "subnetId": "subnet-0123456789abcdef0",
                 "iamInstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/legacy-batch"}},
            resp={"requestId": new_uuid(), "reservationId": "r-0" + hexstr(16), "ownerId": ACCOUNT,
                  "groupSet": {},
                  "instancesSet": {"items": [{
                      "instanceId": inst, "imageId": "ami-0abcdef1234567890",
                      "instanceState": {"code": 0, "name": "pending"},
                      "privateDnsName": f"ip-10-0-1-{20 + i}.ec2.internal", "amiLaunchIndex": 0,
                      "productCodes": {}, "instanceType": "t3.small",
                      "launchTime": int(t.timestamp() * 1000),
                      "placement": {"availabilityZone": "us-east-1a", "tenancy": "default"},
                      "monitoring": {"state": "disabled"}, "subnetId": "subnet-0123456789abcdef0",
                      "vpcId": "vpc-0123456789abcdef0", "privateIpAddress": f"10.0.1.{20 + i}",
                      "stateReason": {"code": "pending", "message": "pending"},
                      "architecture": "x86_64", "rootDeviceType": "ebs",
                      "rootDeviceName": "/dev/xvda", "blockDeviceMapping": {},
                      "virtualizationType": "hvm", "hypervisor": "xen",
                      "iamInstanceProfile": {
                          "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/legacy-batch",
                          "id": iam_id("AIPA", "legacy-batch")},
                      "groupSet": {"items": [{"groupId": "sg-0123456789abcdef0",
                                              "groupName": "default"}]},
                      "sourceDestCheck": True, "networkInterfaceSet": {}, "ebsOptimized": False,
                      "enaSupport": True, "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
                      "capacityReservationSpecification": {"capacityReservationPreference": "open"},
                      "enclaveOptions": {"enabled": False},
                      "metadataOptions": {"state": "pending", "httpTokens": "required",
                                          "httpPutResponseHopLimit": 2,
                                          "httpEndpoint": "enabled"},
                      "privateDnsNameOptions": {"hostnameType": "ip-name"},
                      "currentInstanceBootMode": "uefi"}]}})
    for day in (2, 9, 19):
        t = T(day, 11, rng.randint(0, 59), rng.randint(0, 59))
        rec("bob", t, "s3.amazonaws.com", "ListBuckets", ui, ip=IP["bob"],
            ua=UA["bob-cli"].format(cmd="s3.ls"), req={"Host": "s3.amazonaws.com"},
            additional=s3_additional(bytes_out=1834), request_id="s3",
            host="s3.amazonaws.com")
    for day in (2, 5, 12, 26):
        t = T(day, 10, rng.randint(0, 9), rng.randint(0, 59))
        rec("bob", t, "sts.amazonaws.com", "GetCallerIdentity", ui, ip=IP["bob"],
            ua=UA["bob-cli"].format(cmd="sts.get-caller-identity"),
            host="sts.us-east-1.amazonaws.com")

    # bob issues a federation token for a contractor; the contractor then lists buckets
    t = T(9, 14, 2, 31)
    fed_key = session_key()
    rec("bob", t, "sts.amazonaws.com", "GetFederationToken", ui, ip=IP["bob"],
        ua=UA["bob-cli"].format(cmd="sts.get-federation-token"), read_only=False,
        req={"name": "contractor", "durationSeconds": 43200,
             "policyArns": [{"arn": f"arn:aws:iam::{ACCOUNT}:policy/contractor-readonly-s3"}]},
        resp={"credentials": fake_credentials(fed_key, t + timedelta(hours=12)),
              "federatedUser": {"federatedUserId": f"{ACCOUNT}:contractor",
                                "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/contractor"},
              "packedPolicySize": 6},
        host="sts.us-east-1.amazonaws.com")
    fed_ui = {"type": "FederatedUser", "principalId": f"{ACCOUNT}:contractor",
              "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/contractor", "accountId": ACCOUNT,
              "accessKeyId": fed_key,
              "sessionContext": {
                  "sessionIssuer": {"type": "IAMUser", "principalId": USERS["bob"]["id"],
                                    "arn": USERS["bob"]["arn"], "accountId": ACCOUNT,
                                    "userName": "bob"},
                  "webIdFederationData": {},
                  "attributes": {"creationDate": ct_time(t), "mfaAuthenticated": "false"}}}
    for tt in (T(9, 14, 11, 5), T(9, 15, 34, 48)):
        rec("contractor(federated)", tt, "s3.amazonaws.com", "ListBuckets", fed_ui,
            ip=IP["contractor"], ua=UA["contractor"], req={"Host": "s3.amazonaws.com"},
            additional=s3_additional(bytes_out=1834), request_id="s3",
            host="s3.amazonaws.com", sink="stream")


def gen_ci_deploy():
    key = KEYS["ci-1"]
    ui = ui_user("ci-deploy", key)
    deploys = (3, 7, 10, 15, 18, 24, 28, 29)
    for n, day in enumerate(deploys):
        t = T(day, rng.randint(13, 18), rng.randint(0, 50), rng.randint(0, 59))
        fn = "orders-api" if n % 3 else "orders-worker"
        build = 4100 + n * 7
        if n not in (2, 5):  # 6 deploys check the stack first
            rec("ci-deploy", t, "cloudformation.amazonaws.com", "DescribeStacks", ui,
                ip=IP["ci-deploy"], ua=UA["ci-cli"].format(cmd="cloudformation.describe-stacks"),
                req={"stackName": "orders-prod"})
            t = jitter(t, 30)
        rec("ci-deploy", t, "lambda.amazonaws.com", "GetFunction20150331v2", ui,
            ip=IP["ci-deploy"], ua=UA["ci-cli"].format(cmd="lambda.get-function"),
            req={"functionName": fn})
        t = jitter(t, 30)
        rec("ci-deploy", t, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", ui,
            ip=IP["ci-deploy"], ua=UA["ci-cli"].format(cmd="lambda.update-function-code"),
            read_only=False,
            req={"functionName": fn, "s3Bucket": "acme-artifacts",
                 "s3Key": f"{fn}/build-{build}.zip", "publish": True, "dryRun": False},
            resp={"functionName": fn,
                  "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}",
                  "runtime": "nodejs20.x", "role": ROLES["orders-api"]["arn"],
                  "handler": "index.handler", "codeSize": 1843000 + n * 1311,
                  "description": "", "timeout": 30, "memorySize": 512,
                  "lastModified": t.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                  "codeSha256": hashlib.sha256(f"{fn}-{build}".encode()).hexdigest()[:43] + "=",
                  "version": str(20 + n), "tracingConfig": {"mode": "PassThrough"},
                  "revisionId": new_uuid(), "state": "Active",
                  "lastUpdateStatus": "InProgress",
                  "lastUpdateStatusReason": "The function is being created.",
                  "lastUpdateStatusReasonCode": "Creating", "packageType": "Zip",
                  "architectures": ["arm64"], "ephemeralStorage": {"size": 512},
                  "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
                  "loggingConfig": {"logFormat": "Text", "logGroup": f"/aws/lambda/{fn}"}})
        if day == 18:
            t = jitter(t, 60)
            rec("ci-deploy", t, "sts.amazonaws.com", "AssumeRole", ui, ip=IP["ci-deploy"],
                ua=UA["ci-cli"].format(cmd="sts.assume-role"),
                req={"roleArn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/prod-deployer",
                     "roleSessionName": f"ci-deploy-{build}"},
                error=("AccessDenied",
                       f"User: arn:aws:iam::{ACCOUNT}:user/ci-deploy is not authorized to perform: "
                       f"sts:AssumeRole on resource: arn:aws:iam::{OTHER_ACCOUNT}:role/prod-deployer"),
                host="sts.us-east-1.amazonaws.com", sink="lookup")


DUPLICATE_EVENT_IDS: list[str] = []


def gen_orders_api():
    r = ROLES["orders-api"]
    day_sessions = {}

    def session(day):
        if day not in day_sessions:
            since = T(day, 0, 3, rng.randint(0, 59))
            key = session_key()
            day_sessions[day] = (key, since)
            if day in (1, 15, 29):  # a few of the service-side AssumeRole calls are in the logs
                rec("aws-service", since - timedelta(seconds=1), "sts.amazonaws.com", "AssumeRole",
                    ui_service("lambda.amazonaws.com"), ip="lambda.amazonaws.com",
                    ua="lambda.amazonaws.com", tls=False,
                    req={"roleArn": r["arn"], "roleSessionName": "orders-api"},
                    resp={"credentials": fake_credentials(key, since + timedelta(hours=12)),
                          "assumedRoleUser": {"assumedRoleId": f"{r['id']}:orders-api",
                                              "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-api/orders-api"}},
                    resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": r["arn"]}],
                    shared_event_id=new_uuid())
        return day_sessions[day]

    secret_by_name = {5, 18, 33, 47, 59}  # these calls pass the secret name, not its ARN
    n = 0
    for day in range(1, 31):
        key, since = session(day)
        if day == 15:  # fixed times: this hour is covered by the digest file
            times = [T(15, 11, 12, 9), T(15, 11, 27, 44)]
        else:
            times = sorted(T(day, rng.randint(1, 22), rng.randint(0, 59), rng.randint(0, 59))
                           for _ in range(2))
        for t in times:
            ui = ui_role("orders-api", "orders-api", key, since)
            secret_id = "prod/orders/db" if n in secret_by_name else SECRET_ORDERS
            g = rec("orders-api", t, "secretsmanager.amazonaws.com", "GetSecretValue", ui,
                    ip=IP["orders-api"], ua=UA["lambda-sdk"].format(api="secrets-manager"),
                    req={"secretId": secret_id})
            if n in (20, 41):
                DUPLICATE_EVENT_IDS.append(g["eventID"])
            ui_kms = ui_role("orders-api", "orders-api", key, since,
                             invoked_by="secretsmanager.amazonaws.com")
            rec("orders-api", t + timedelta(seconds=0), "kms.amazonaws.com", "Decrypt", ui_kms,
                ip="secretsmanager.amazonaws.com", ua="secretsmanager.amazonaws.com", tls=False,
                req={"encryptionContext": {"SecretARN": SECRET_ORDERS,
                                           "SecretVersionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
                     "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KMS_KEY}])
            n += 1
        if day in (1, 4, 6, 9, 11, 14, 17, 19, 22, 24, 27, 30):
            t = T(day, rng.randint(1, 22), rng.randint(0, 59), rng.randint(0, 59))
            rec("orders-api", t, "ssm.amazonaws.com", "GetParameter",
                ui_role("orders-api", "orders-api", key, since), ip=IP["orders-api"],
                ua=UA["lambda-sdk"].format(api="ssm"),
                req={"name": "/prod/orders/db-host", "withDecryption": True})
        if day in (1, 6, 12, 15, 22, 29):
            t = since + timedelta(seconds=rng.randint(20, 90))
            rec("orders-api", t, "logs.amazonaws.com", "CreateLogStream",
                ui_role("orders-api", "orders-api", key, since), ip=IP["orders-api"],
                ua=UA["lambda-worker"], read_only=False,
                req={"logGroupName": "/aws/lambda/orders-api",
                     "logStreamName": f"2026/10/{day:02d}/[$LATEST]{hexstr(32)}"})


def gen_support_agent():
    r = ROLES["support-agent"]
    bucket = "acme-customer-data"
    sessions = [  # (day, hour, sourceIdentity, objects read, list?, extra)
        (4, 10, "user-1001", ["profile.json", "orders/2026-09.json", "tickets/latest.json"], True, None, None),
        (11, 15, "user-1002", ["profile.json", "tickets/latest.json", "notes.txt"], False, "delete", None),
        (19, 9, "user-1003", ["profile.json", "orders/2026-10.json", "tickets/latest.json"], True, "secret", None),
        (20, 16, None, [], True, "createkey", None),
        (25, 13, None, [], True, None, "stream"),
    ]
    for day, hour, who_for, objects, do_list, extra, sink in sessions:
        since = T(day, hour, rng.randint(0, 20), rng.randint(0, 59))
        sess = f"agent-session-{hexstr(12)}"
        key = session_key()
        req = {"roleArn": r["arn"], "roleSessionName": sess, "durationSeconds": 900,
               "tags": [{"key": "channel", "value": "helpdesk"}, {"key": "tenant", "value": "acme"}]}
        if who_for:
            req["sourceIdentity"] = who_for
        resp = {"credentials": fake_credentials(key, since + timedelta(minutes=15)),
                "assumedRoleUser": {"assumedRoleId": f"{r['id']}:{sess}",
                                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/support-agent/{sess}"}}
        if who_for:
            resp["sourceIdentity"] = who_for
        rec("aws-service", since - timedelta(seconds=1), "sts.amazonaws.com", "AssumeRole",
            ui_service("bedrock.amazonaws.com"), ip="bedrock.amazonaws.com",
            ua="bedrock.amazonaws.com", tls=False, req=req, resp=resp,
            resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": r["arn"]}],
            shared_event_id=new_uuid(), sink=sink)
        ui = ui_role("support-agent", sess, key, since, source_identity=who_for)
        t = since
        prefix = f"customers/{who_for.split('-')[1]}/" if who_for else "customers/"

        def invoke():
            nonlocal t
            t = jitter(t, 40)
            rec("support-agent", t, "bedrock.amazonaws.com", "InvokeModel", ui,
                ip=IP["support-agent"], ua=UA["agent"], req={"modelId": MODEL_ID}, sink=sink)

        invoke()
        if do_list:
            t = jitter(t, 20)
            rec("support-agent", t, "s3.amazonaws.com", "ListObjects", ui, ip=IP["support-agent"],
                ua=f"[{UA['agent']}]", data=True, request_id="s3",
                host=f"{bucket}.s3.us-east-1.amazonaws.com",
                req={"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
                     "prefix": prefix, "list-type": "2", "encoding-type": "url"},
                additional=s3_additional(bytes_out=rng.randint(900, 4000)),
                resources=[{"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/{prefix}"},
                           {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                            "ARN": f"arn:aws:s3:::{bucket}"}], sink=sink)
        for obj in objects:
            okey = prefix + obj
            t = jitter(t, 20)
            if extra == "delete" and obj == "notes.txt":
                rec("support-agent", t, "s3.amazonaws.com", "DeleteObject", ui,
                    ip=IP["support-agent"], ua=f"[{UA['agent']}]", data=True, request_id="s3",
                    read_only=False, host=f"{bucket}.s3.us-east-1.amazonaws.com",
                    error=("AccessDenied",
                           f"User: arn:aws:sts::{ACCOUNT}:assumed-role/support-agent/{sess} is not "
                           f"authorized to perform: s3:DeleteObject on resource: "
                           f"\"arn:aws:s3:::{bucket}/{okey}\" because no permissions boundary "
                           "allows the s3:DeleteObject action"),
                    req={"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
                         "key": okey},
                    additional=s3_additional(),
                    resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{okey}"},
                               {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                "ARN": f"arn:aws:s3:::{bucket}"}])
                continue
            rec("support-agent", t, "s3.amazonaws.com", "GetObject", ui, ip=IP["support-agent"],
                ua=f"[{UA['agent']}]", data=True, request_id="s3",
                host=f"{bucket}.s3.us-east-1.amazonaws.com",
                req={"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
                     "key": okey},
                additional=s3_additional(bytes_out=rng.randint(400, 24000)),
                resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{okey}"},
                           {"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                            "ARN": f"arn:aws:s3:::{bucket}"}])
        if extra == "secret":
            t = jitter(t, 20)
            rec("support-agent", t, "secretsmanager.amazonaws.com", "GetSecretValue", ui,
                ip=IP["support-agent"], ua=UA["agent"], req={"secretId": SECRET_SUPPORT})
        if extra == "createkey":
            t = jitter(t, 20)
            rec("support-agent", t, "iam.amazonaws.com", "CreateAccessKey", ui,
                ip=IP["support-agent"], ua=UA["agent"], read_only=False,
                req={"userName": "ci-deploy"},
                error=("AccessDenied",
                       f"User: arn:aws:sts::{ACCOUNT}:assumed-role/support-agent/{sess} is not "
                       "authorized to perform: iam:CreateAccessKey on resource: user ci-deploy "
                       "with an explicit deny in a permissions boundary: "
                       f"arn:aws:iam::{ACCOUNT}:policy/agent-boundary"))
        invoke()


def gen_sso():
    r = ROLES[SSO_ROLE_NAME]
    for day, hour in ((8, 9), (21, 14)):
        since = T(day, hour, rng.randint(0, 10), rng.randint(0, 59))
        key = session_key()
        rec("saml-user", since, "sts.amazonaws.com", "AssumeRoleWithSAML",
            {"type": "SAMLUser", "principalId": "EXAMPLEnFlrDzh3BsE8sLVdQ9Ug=:carol@example.com",
             "userName": "carol@example.com", "identityProvider": "EXAMPLEnFlrDzh3BsE8sLVdQ9Ug="},
            ip=IP["carol"], ua="aws-internal/3 aws-sdk-java/1.12.772 Linux/5.10.227-198.884.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS java/17.0.12 vendor/Amazon.com_Inc. cfg/retry-mode/standard",
            req={"sAMLAssertionID": "_" + hexstr(32), "roleSessionName": "carol@example.com",
                 "durationSeconds": 3600, "roleArn": r["arn"], "principalArn": SAML_PROVIDER},
            resp={"credentials": fake_credentials(key, since + timedelta(hours=1)),
                  "assumedRoleUser": {"assumedRoleId": f"{r['id']}:carol@example.com",
                                      "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE_NAME}/carol@example.com"},
                  "packedPolicySize": 1, "subject": "carol@example.com",
                  "subjectType": "persistent",
                  "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/EXAMPLEMDEyMzQ1Njc4OQ",
                  "audience": "https://signin.aws.amazon.com/saml",
                  "nameQualifier": "EXAMPLEnFlrDzh3BsE8sLVdQ9Ug="},
            resources=[{"ARN": r["arn"], "accountId": ACCOUNT, "type": "AWS::IAM::Role"},
                       {"ARN": SAML_PROVIDER, "accountId": ACCOUNT, "type": "AWS::IAM::SAMLProvider"}],
            host="sts.amazonaws.com", sink="lookup")
        ui = ui_role(SSO_ROLE_NAME, "carol@example.com", key, since)
        t = jitter(since, 120)
        rec("sso-admin", t, "iam.amazonaws.com", "ListRoles", ui, ip=IP["carol"],
            ua=UA["browser"], console=True, req={"maxItems": 100}, sink="lookup")
        t = jitter(t, 60)
        rec("sso-admin", t, "ec2.amazonaws.com", "DescribeVpcs", ui, ip=IP["carol"],
            ua=UA["browser"], console=True, req={"vpcSet": {}, "filterSet": {}}, sink="lookup")
        if day == 8:
            t = jitter(t, 60)
            rec("sso-admin", t, "ec2.amazonaws.com", "DescribeVpcs", ui, region=EU, ip=IP["carol"],
                ua=UA["browser"], console=True, req={"vpcSet": {}, "filterSet": {}})


def gen_github():
    r = ROLES["github-deploy"]
    for n, day in enumerate((6, 13, 20, 27)):
        since = T(day, 16, rng.randint(0, 30), rng.randint(0, 59))
        key = session_key()
        rec("web-identity-user", since, "sts.amazonaws.com", "AssumeRoleWithWebIdentity",
            {"type": "WebIdentityUser",
             "principalId": f"{OIDC_PROVIDER}:sts.amazonaws.com:{GH_SUB}",
             "userName": GH_SUB, "identityProvider": OIDC_PROVIDER},
            ip=IP["github"], ua=UA["gh-creds"],
            req={"roleArn": r["arn"], "roleSessionName": "GitHubActions", "durationSeconds": 3600},
            resp={"credentials": fake_credentials(key, since + timedelta(hours=1)),
                  "subjectFromWebIdentityToken": GH_SUB,
                  "assumedRoleUser": {"assumedRoleId": f"{r['id']}:GitHubActions",
                                      "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/github-deploy/GitHubActions"},
                  "provider": OIDC_PROVIDER, "audience": "sts.amazonaws.com"},
            additional={"identityProviderConnectionVerificationMethod": "IAMTrustStore"},
            resources=[{"ARN": r["arn"], "accountId": ACCOUNT, "type": "AWS::IAM::Role"}],
            host="sts.us-east-1.amazonaws.com")
        ui = ui_role("github-deploy", "GitHubActions", key, since, web_identity=True)
        t = jitter(since, 20)
        rec("github-deploy", t, "ecr.amazonaws.com", "GetAuthorizationToken", ui, ip=IP["github"],
            ua=UA["gh-cli"].format(cmd="ecr.get-login-password"), req=None, host="api.ecr.us-east-1.amazonaws.com")
        t = jitter(t, 90)
        tag = f"sha-{hexstr(7)}"
        digest = "sha256:" + hexstr(64)
        repo_arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/orders-api"
        rec("github-deploy", t, "ecr.amazonaws.com", "PutImage", ui, ip=IP["github"],
            ua=UA["gh-cli"].format(cmd="ecr.put-image"), read_only=False,
            req={"repositoryName": "orders-api", "registryId": ACCOUNT, "imageTag": tag,
                 "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json"},
            resp={"image": {"registryId": ACCOUNT, "repositoryName": "orders-api",
                            "imageId": {"imageDigest": digest, "imageTag": tag},
                            "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json"}},
            resources=[{"accountId": ACCOUNT, "ARN": repo_arn}],
            host="api.ecr.us-east-1.amazonaws.com")


def gen_service_and_root():
    for day in (1, 11, 21):
        t = T(day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        rec("aws-service", t, "s3.amazonaws.com", "GetBucketAcl", ui_service("cloudtrail.amazonaws.com"),
            ip="cloudtrail.amazonaws.com", ua="cloudtrail.amazonaws.com", tls=False, request_id="s3",
            req={"bucketName": TRAIL_BUCKET, "Host": f"{TRAIL_BUCKET}.s3.us-east-1.amazonaws.com",
                 "acl": ""},
            additional={"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                        "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                        "x-amz-id-2": s3_id2(), "bytesTransferredOut": 542},
            resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                        "ARN": f"arn:aws:s3:::{TRAIL_BUCKET}"}])
    # AwsServiceEvent: yearly automatic key rotation
    rec("aws-service", T(17, 3, 41, 12), "kms.amazonaws.com", "RotateKey",
        {"accountId": ACCOUNT, "invokedBy": "kms.amazonaws.com"},
        ip="kms.amazonaws.com", ua="kms.amazonaws.com", tls=False, request_id=None,
        req=None, resp=None, additional={"keyId": KMS_KEY},
        resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KMS_KEY}],
        etype="AwsServiceEvent", version="1.08")
    # root console sign-in
    console_login("root", {"type": "Root", "principalId": ACCOUNT,
                           "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
                           "accessKeyId": ""},
                  T(12, 7, 58, 3), IP["root"], True, f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device")
    META[id(RECORDS[-1])]["sink"] = "lookup"


# ----------------------------------------------------------------------------------------------
# IAM snapshot


def policy_version(document, version, default, created):
    return {"Document": document, "VersionId": version, "IsDefaultVersion": default,
            "CreateDate": cli_time(created)}


CI_POLICY_V1 = doc(
    {"Sid": "Deploy", "Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
    {"Sid": "Artifacts", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-artifacts/*"},
    {"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
)
CI_POLICY_V2 = doc(
    {"Sid": "DeployOrdersFunctions", "Effect": "Allow",
     "Action": ["lambda:UpdateFunctionCode", "lambda:GetFunction", "lambda:CreateFunction"],
     "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-*"},
    {"Sid": "UploadArtifacts", "Effect": "Allow", "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::acme-artifacts/*"},
    {"Sid": "PassOrdersRole", "Effect": "Allow", "Action": "iam:PassRole",
     "Resource": ROLES["orders-api"]["arn"]},
    {"Sid": "Stacks", "Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
)
AGENT_BOUNDARY = doc(
    {"Sid": "AgentCeiling", "Effect": "Allow",
     "Action": ["secretsmanager:GetSecretValue", "s3:GetObject", "s3:ListBucket",
                "bedrock:InvokeModel", "kms:Decrypt"], "Resource": "*"},
    {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"},
)
SUPPORT_AGENT_POLICY = doc(
    {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
    {"Sid": "CustomerData", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::acme-customer-data", "arn:aws:s3:::acme-customer-data/*"]},
    {"Sid": "Models", "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
    {"Sid": "Keys", "Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"},
    {"Sid": "Hop", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
)
LEGACY_BATCH_POLICY = doc(
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
)
ADMIN_DOC = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
LAMBDA_BASIC_DOC = doc({"Effect": "Allow",
                        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": "*"})


def managed(name, path, document_versions, attach, boundary=0, aws=False, pid=None,
            created=None, updated=None):
    arn = f"arn:aws:iam::aws:policy{path}{name}" if aws else f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"
    default = next(v["VersionId"] for v in document_versions if v["IsDefaultVersion"])
    return {"PolicyName": name, "PolicyId": pid or iam_id("ANPA", name), "Arn": arn, "Path": path,
            "DefaultVersionId": default, "AttachmentCount": attach,
            "PermissionsBoundaryUsageCount": boundary, "IsAttachable": True,
            "CreateDate": cli_time(created), "UpdateDate": cli_time(updated or created),
            "PolicyVersionList": document_versions}


def pol_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def role_last_used(rname):
    times = [(r["eventTime"], r["awsRegion"]) for r in RECORDS
             if r["userIdentity"].get("type") == "AssumedRole"
             and r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == rname]
    if not times:
        return None
    t, region = max(times)
    return {"LastUsedDate": t.replace("Z", "+00:00"), "Region": region}


def build_iam():
    d = lambda y, m, dd, h=10, mi=0: datetime(y, m, dd, h, mi, tzinfo=timezone.utc)
    users = [
        {"Path": "/", "UserName": "alice", "UserId": USERS["alice"]["id"], "Arn": USERS["alice"]["arn"],
         "CreateDate": cli_time(d(2024, 2, 12, 9, 31)), "GroupList": ["developers"],
         "AttachedManagedPolicies": []},
        {"Path": "/", "UserName": "bob", "UserId": USERS["bob"]["id"], "Arn": USERS["bob"]["arn"],
         "CreateDate": cli_time(d(2023, 6, 5, 14, 2)), "GroupList": [],
         "UserPolicyList": [{"PolicyName": "bob-power-user", "PolicyDocument": doc(
             {"Sid": "PowerUser", "Effect": "Allow",
              "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
             {"Sid": "PassLegacyBatchToEc2", "Effect": "Allow", "Action": "iam:PassRole",
              "Resource": ROLES["legacy-batch"]["arn"],
              "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
             {"Sid": "NoSecrets", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"},
             {"Sid": "NoTerminateOutsideHome", "Effect": "Deny", "Action": "ec2:TerminateInstances",
              "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}})}],
         "AttachedManagedPolicies": [],
         "Tags": [{"Key": "leastpriv:kind", "Value": "human"}, {"Key": "team", "Value": "platform"}]},
        {"Path": "/", "UserName": "ci-deploy", "UserId": USERS["ci-deploy"]["id"],
         "Arn": USERS["ci-deploy"]["arn"], "CreateDate": cli_time(d(2023, 1, 20, 16, 45)),
         "GroupList": [],
         "AttachedManagedPolicies": [{"PolicyName": "ci-deploy-policy",
                                      "PolicyArn": pol_arn("ci-deploy-policy")}],
         "Tags": [{"Key": "owner", "Value": "platform"}, {"Key": "purpose", "Value": "jenkins-deploy"}]},
    ]
    groups = [{
        "Path": "/", "GroupName": "developers", "GroupId": iam_id("AGPA", "developers"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/developers", "CreateDate": cli_time(d(2023, 3, 1, 12)),
        "GroupPolicyList": [{"PolicyName": "developers-access", "PolicyDocument": doc(
            {"Sid": "AppAssetsRead", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
             "Resource": ["arn:aws:s3:::acme-app-assets", "arn:aws:s3:::acme-app-assets/*"]},
            {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"})}],
        "AttachedManagedPolicies": [],
    }]

    def role_entry(rname, trust, created, *, inline=(), attached=(), boundary=None, tags=None,
                   profiles=(), last_used=None, desc=None):
        r = ROLES[rname]
        e = {"Path": r["path"], "RoleName": rname, "RoleId": r["id"], "Arn": r["arn"],
             "CreateDate": cli_time(created), "AssumeRolePolicyDocument": trust,
             "InstanceProfileList": list(profiles),
             "RolePolicyList": [{"PolicyName": n, "PolicyDocument": p} for n, p in inline],
             "AttachedManagedPolicies": [{"PolicyName": n, "PolicyArn": a} for n, a in attached]}
        if boundary:
            e["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                        "PermissionsBoundaryArn": boundary}
        if tags:
            e["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        e["RoleLastUsed"] = last_used if last_used is not None else (role_last_used(rname) or {})
        return e

    legacy_created = d(2021, 8, 14, 11, 20)
    roles = [
        role_entry("orders-api", doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}), d(2024, 5, 2, 10, 11),
                   inline=[("orders-api-runtime", doc(
                       {"Sid": "DbSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                        "Resource": SECRET_ORDERS},
                       {"Sid": "DbSecretKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_KEY},
                       {"Sid": "OrdersTable", "Effect": "Allow",
                        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                                   "dynamodb:DeleteTable"],
                        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"},
                       {"Sid": "Config", "Effect": "Allow", "Action": "ssm:GetParameter",
                        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/orders/*"}))],
                   attached=[("AWSLambdaBasicExecutionRole",
                              "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
                   tags=[("app", "orders")]),
        role_entry("support-agent", doc({"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
                                         "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                                         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}),
                   d(2025, 11, 18, 15, 40),
                   attached=[("support-agent-policy", pol_arn("support-agent-policy"))],
                   boundary=pol_arn("agent-boundary"), tags=[("app", "support-assistant")]),
        role_entry(SSO_ROLE_NAME, doc({"Effect": "Allow", "Principal": {"Federated": SAML_PROVIDER},
                                       "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                                       "Condition": {"StringEquals": {
                                           "SAML:aud": "https://signin.aws.amazon.com/saml"}}}),
                   d(2024, 9, 30, 8, 5),
                   attached=[("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess")]),
        role_entry("github-deploy", doc({"Effect": "Allow", "Principal": {"Federated": OIDC_PROVIDER},
                                         "Action": "sts:AssumeRoleWithWebIdentity",
                                         "Condition": {
                                             "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                             "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/orders-api:*"}}}),
                   d(2025, 3, 3, 13, 0),
                   inline=[("ecr-push", doc(
                       {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                       {"Sid": "Push", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:PutImage"],
                        "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/orders-api"}))]),
        role_entry("legacy-batch", doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                        "Action": "sts:AssumeRole"}), legacy_created,
                   attached=[("legacy-batch-policy", pol_arn("legacy-batch-policy"))],
                   profiles=[{"Path": "/", "InstanceProfileName": "legacy-batch",
                              "InstanceProfileId": iam_id("AIPA", "legacy-batch"),
                              "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/legacy-batch",
                              "CreateDate": cli_time(legacy_created),
                              "Roles": [{"Path": "/", "RoleName": "legacy-batch",
                                         "RoleId": ROLES["legacy-batch"]["id"],
                                         "Arn": ROLES["legacy-batch"]["arn"],
                                         "CreateDate": cli_time(legacy_created),
                                         "AssumeRolePolicyDocument": doc(
                                             {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                              "Action": "sts:AssumeRole"})}]}],
                   last_used={"LastUsedDate": "2025-11-03T08:12:44+00:00", "Region": "us-east-1"}),
    ]
    roles.extend(agentcore_roles(role_entry, d))
    policies = [
        managed("ci-deploy-policy", "/", [
            policy_version(CI_POLICY_V2, "v2", True, d(2025, 4, 9, 10, 3)),
            policy_version(CI_POLICY_V1, "v1", False, d(2023, 1, 20, 16, 50)),
        ], 1, created=d(2023, 1, 20, 16, 50), updated=d(2025, 4, 9, 10, 3)),
        managed("agent-boundary", "/", [policy_version(AGENT_BOUNDARY, "v1", True, d(2025, 11, 18, 15, 30))],
                0, boundary=1, created=d(2025, 11, 18, 15, 30)),
        managed("support-agent-policy", "/", [policy_version(SUPPORT_AGENT_POLICY, "v1", True, d(2025, 11, 18, 15, 35))],
                1, created=d(2025, 11, 18, 15, 35)),
        managed("legacy-batch-policy", "/", [policy_version(LEGACY_BATCH_POLICY, "v1", True, legacy_created)],
                1, created=legacy_created),
        managed("AdministratorAccess", "/", [policy_version(ADMIN_DOC, "v1", True, d(2015, 2, 6, 18, 39, ))],
                1, aws=True, pid="ANPAIWMBCKSKIEE64ZLYK", created=d(2015, 2, 6, 18, 39)),
        managed("AWSLambdaBasicExecutionRole", "/service-role/",
                [policy_version(LAMBDA_BASIC_DOC, "v1", True, d(2015, 4, 9, 15, 3))],
                1, aws=True, pid="ANPAJNCQGXC42545SKXIK", created=d(2015, 4, 9, 15, 3)),
    ]
    return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
            "Policies": policies, "IsTruncated": False}


# ----------------------------------------------------------------------------------------------
# credential report

CRED_HEADER = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used",
               "password_last_changed", "password_next_rotation", "mfa_active",
               "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
               "access_key_1_last_used_region", "access_key_1_last_used_service",
               "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
               "access_key_2_last_used_region", "access_key_2_last_used_service",
               "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]


def key_usage(key):
    hits = [(r["eventTime"], r["awsRegion"], r["eventSource"].split(".")[0]) for r in RECORDS
            if r["userIdentity"].get("accessKeyId") == key]
    if not hits:
        return ["N/A", "N/A", "N/A"]
    t, region, svc = max(hits)
    svc = {"monitoring": "cloudwatch"}.get(svc, svc)
    return [t.replace("Z", "+00:00"), region, svc]


def last_login(user_type, name=None):
    ts = [r["eventTime"] for r in RECORDS if r["eventName"] == "ConsoleLogin"
          and r["userIdentity"]["type"] == user_type
          and (name is None or r["userIdentity"].get("userName") == name)]
    return max(ts).replace("Z", "+00:00") if ts else "no_information"


def build_credential_report():
    na4 = ["N/A", "N/A", "N/A", "N/A"]
    no_key = ["false", "N/A", "N/A", "N/A", "N/A"]
    certs = ["false", "N/A", "false", "N/A"]
    rows = [
        ["<root_account>", f"arn:aws:iam::{ACCOUNT}:root", "2019-04-02T09:00:00+00:00", "not_supported",
         last_login("Root"), "not_supported", "not_supported", "true"] + no_key + no_key + certs,
        ["alice", USERS["alice"]["arn"], "2024-02-12T09:31:00+00:00", "true", last_login("IAMUser", "alice"),
         "2026-07-30T08:14:52+00:00", "N/A", "true"] + no_key + no_key + certs,
        ["bob", USERS["bob"]["arn"], "2023-06-05T14:02:00+00:00", "true", last_login("IAMUser", "bob"),
         "2025-12-01T17:40:09+00:00", "N/A", "false",
         "true", "2026-02-14T10:20:31+00:00"] + key_usage(KEYS["bob-1"]) + no_key + certs,
        ["ci-deploy", USERS["ci-deploy"]["arn"], "2023-01-20T16:45:00+00:00", "false", "N/A", "N/A", "N/A",
         "false",
         "true", "2026-03-02T11:05:47+00:00"] + key_usage(KEYS["ci-1"]) +
        ["true", cli_time(SNAPSHOT_TIME - timedelta(days=400))] + key_usage(KEYS["ci-2"]) + certs,
    ]
    assert all(len(r) == len(CRED_HEADER) for r in rows)
    assert na4 == ["N/A"] * 4
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CRED_HEADER)
    w.writerows(rows)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# trails


def build_trails():
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
    return {"trailList": [{
        "Name": TRAIL_NAME, "S3BucketName": TRAIL_BUCKET, "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True, "HomeRegion": REGION, "TrailARN": arn,
        "LogFileValidationEnabled": True,
        "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-cloudtrail-logs:*",
        "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/service-role/cloudtrail-to-cwl",
        "HasCustomEventSelectors": True, "HasInsightSelectors": False, "IsOrganizationTrail": False,
        "EventSelectors": [{
            "ReadWriteType": "All", "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object",
                               "Values": ["arn:aws:s3:::acme-customer-data/"]}],
            "ExcludeManagementEventSources": []}],
    }]}


# ----------------------------------------------------------------------------------------------
# writing


def gz_bytes(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(payload)
    return buf.getvalue()


def dump_records(recs) -> bytes:
    return json.dumps({"Records": recs}, separators=(",", ":")).encode()


def suffix16() -> str:
    return "".join(rng.choice(ALNUM_MIXED) for _ in range(16))


def write(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ----------------------------------------------------------------------------------------------
# Agents as AWS runs them today, and a console change (issue 24). Their records fall on
# 2026-10-20 in us-east-1, so they go to the uncompressed export of that day and no S3 log file
# is added or renamed; they draw from their own random stream (`own_random`), so the records and
# names generated before them stay as they were.

AGENTCORE_RUNTIMES = [f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/triage-Ab12Cd34Ef",
                      f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/billing-Gh56Ij78Kl"]
AGENTCORE_WORKLOAD = "spiffe://acme.example.com/agents/triage"
TICKETS_TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tickets"


class own_random:
    """Swaps the module's random stream for one of its own while the block runs."""

    def __init__(self, seed):
        self.seed = seed

    def __enter__(self):
        global rng
        self.saved, rng = rng, random.Random(self.seed)

    def __exit__(self, *exc):
        global rng
        rng = self.saved


def agentcore_roles(role_entry, d):
    """triage-agent: the execution role of two AgentCore runtimes (triage and billing)."""
    trust = doc({"Effect": "Allow", "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
                 "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                               "ArnLike": {"aws:SourceArn": AGENTCORE_RUNTIMES}}})
    policy = doc(
        {"Sid": "Model", "Effect": "Allow", "Action": "bedrock:InvokeModel",
         "Resource": f"arn:aws:bedrock:{REGION}::foundation-model/{MODEL_ID}"},
        {"Sid": "Tickets", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
         "Resource": TICKETS_TABLE},
        {"Sid": "Memory", "Effect": "Allow",
         "Action": ["bedrock-agentcore:CreateEvent", "bedrock-agentcore:RetrieveMemoryRecords"],
         "Resource": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:memory/*"},
        {"Sid": "OutboundTokens", "Effect": "Allow",
         "Action": ["bedrock-agentcore:GetResourceOauth2Token",
                    "bedrock-agentcore:GetWorkloadAccessTokenForUserId"],
         "Resource": "*"})
    return [role_entry("triage-agent", trust, d(2026, 9, 15, 9, 0),
                       inline=[("triage-agent-runtime", policy)], tags=[("app", "triage")])]


def gen_agentcore_agent():
    r = ROLES["triage-agent"]
    since = T(20, 11, 5, 12)
    sess = f"agentcore-{hexstr(12)}"
    key = session_key()
    rec("aws-service", since - timedelta(seconds=1), "sts.amazonaws.com", "AssumeRole",
        {"type": "AWSService", "invokedBy": "bedrock-agentcore.amazonaws.com",
         "onBehalfOf": {"subject": AGENTCORE_WORKLOAD, "subjectType": "workload",
                        "issuer": f"arn:aws:iam::{ACCOUNT}:workload-identity-provider/acme-agents"}},
        ip="bedrock-agentcore.amazonaws.com", ua="bedrock-agentcore.amazonaws.com", tls=False,
        req={"roleArn": r["arn"], "roleSessionName": sess, "durationSeconds": 3600},
        resp={"credentials": fake_credentials(key, since + timedelta(hours=1)),
              "assumedRoleUser": {"assumedRoleId": f"{r['id']}:{sess}",
                                  "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/triage-agent/{sess}"}},
        resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": r["arn"]}],
        shared_event_id=new_uuid())
    ui = ui_role("triage-agent", sess, key, since)
    t = since
    for name, source, req in (
            ("InvokeModel", "bedrock.amazonaws.com", {"modelId": MODEL_ID}),
            ("Query", "dynamodb.amazonaws.com", {"tableName": "tickets", "keyConditionExpression": "pk = :p"}),
            ("InvokeModel", "bedrock.amazonaws.com", {"modelId": MODEL_ID})):
        t = jitter(t, 30)
        rec("triage-agent", t, source, name, ui, ip=IP["support-agent"], ua=UA["agent"], req=req,
            resources=([{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": TICKETS_TABLE}]
                       if source.startswith("dynamodb") else None))


def gen_console_change():
    """carol, through the Identity Center admin role, opens a security group in the console."""
    r = ROLES[SSO_ROLE_NAME]
    since = T(20, 15, 2, 40)
    key = session_key()
    ui = ui_role(SSO_ROLE_NAME, "carol@example.com", key, since)
    t = jitter(since, 60)
    rec("sso-admin", t, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", ui, ip=IP["carol"],
        ua=UA["browser"], console=True, read_only=False,
        req={"groupId": "sg-0a1b2c3d4e5f67890",
             "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                          "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
        resp={"_return": True},
        resources=[{"accountId": ACCOUNT, "type": "AWS::EC2::SecurityGroup",
                    "ARN": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0a1b2c3d4e5f67890"}])


def agentcore_readme():
    return f"""**triage-agent** (role, path `/agents/`, trusted by `bedrock-agentcore.amazonaws.com` for two
AgentCore runtimes by `aws:SourceArn`, kind **agent**). One session started by AgentCore on behalf
of the workload identity `{AGENTCORE_WORKLOAD}` (`onBehalfOf` on the AssumeRole) calls
`bedrock:InvokeModel` (2) and `dynamodb:Query` on `tickets` with no `sourceIdentity`: the agent
reaches AWS as its execution role (`agent-calls-as-execution-role`), and two runtimes share the
role (`agent-role-shared`). It may read OAuth2 tokens and workload access tokens for any user id
on `*` (`bedrock-agentcore:GetResourceOauth2Token`, `GetWorkloadAccessTokenForUserId`): secrets
access, critical for an agent. Its AgentCore memory actions are data events the trail does not
record (`agent-use-unobservable`), and the report says so first.

**Console change**: on 2026-10-20 carol, in the Identity Center admin role's console session,
opens port 22 of `sg-0a1b2c3d4e5f67890` to the world (`ec2:AuthorizeSecurityGroupIngress`,
`sessionCredentialFromConsole`): `change-outside-pipeline`.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "fixtures", "demo"))
    out = os.path.normpath(ap.parse_args().out)

    gen_alice()
    gen_bob()
    gen_ci_deploy()
    gen_orders_api()
    gen_support_agent()
    gen_sso()
    gen_github()
    gen_service_and_root()
    with own_random(20261020):
        gen_agentcore_agent()
        gen_console_change()
    RECORDS.sort(key=lambda r: (r["eventTime"], r["eventID"]))

    for name in ("iam.json", "credential-report.csv", "trails.json", "README.md",
                 "organization.json", "resource-policies.json"):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    shutil.rmtree(os.path.join(out, "cloudtrail"), ignore_errors=True)

    write(os.path.join(out, "iam.json"), (json.dumps(build_iam(), indent=4) + "\n").encode())
    write(os.path.join(out, "credential-report.csv"), build_credential_report().encode())
    write(os.path.join(out, "trails.json"), (json.dumps(build_trails(), indent=4) + "\n").encode())
    write(os.path.join(out, "organization.json"), (json.dumps(build_organization(), indent=4) + "\n").encode())
    write(os.path.join(out, "resource-policies.json"),
          (json.dumps(build_resource_policies(), indent=4) + "\n").encode())

    ct = os.path.join(out, "cloudtrail")
    lookup, stream, plain, s3 = [], [], [], defaultdict(list)
    for r in RECORDS:
        sink = META[id(r)]["sink"]
        if sink == "lookup" and r["awsRegion"] == REGION:
            lookup.append(r)
        elif sink == "stream":
            stream.append(r)
        elif r["awsRegion"] == REGION and r["eventTime"].startswith("2026-10-20"):
            plain.append(r)
        else:
            half = "am" if int(r["eventTime"][11:13]) < 12 else "pm"
            s3[(r["awsRegion"], r["eventTime"][:10], half)].append(r)
    dups = [r for r in RECORDS if r["eventID"] in DUPLICATE_EVENT_IDS]
    stream_out = sorted(stream + dups, key=lambda r: r["eventTime"])

    files = []  # (relative path, kind, records)
    digest_candidates = []
    for (region, _day, _half), recs in sorted(s3.items()):
        last = max(datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
                   for r in recs)
        delivered = last.replace(minute=last.minute - last.minute % 5, second=0) + timedelta(minutes=5)
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        rel = (f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{last:%Y/%m/%d}/"
               f"{ACCOUNT}_CloudTrail_{region}_{stamp}_{suffix16()}.json.gz")
        raw = dump_records(recs)
        write(os.path.join(ct, rel), gz_bytes(raw))
        files.append((rel, "gz", recs))
        if region == REGION and T(15, 11) <= delivered < T(15, 12):
            digest_candidates.append((rel, raw, recs))
    # one plain, not gzipped, file in the S3 layout
    last = plain[-1]["eventTime"]
    rel = (f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/10/20/"
           f"{ACCOUNT}_CloudTrail_{REGION}_20261020T2355Z_{suffix16()}.json")
    write(os.path.join(ct, rel), (json.dumps({"Records": plain}, indent=2) + "\n").encode())
    files.append((rel, "json", plain))
    write(os.path.join(ct, "exports/lookup-events.json"), (json.dumps(lookup, indent=2) + "\n").encode())
    files.append(("exports/lookup-events.json", "array", lookup))
    write(os.path.join(ct, "exports/stream.ndjson"),
          "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in stream_out).encode())
    files.append(("exports/stream.ndjson", "ndjson", stream_out))

    # digest file covering 11:00-12:00 on 2026-10-15 (must be skipped by the tool)
    assert digest_candidates, "no log file delivered 2026-10-15 11:xx"
    dstamp = "20261015T120000Z"
    drel = (f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/10/15/"
            f"{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{dstamp}.json.gz")
    prev = (f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/10/15/"
            f"{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_20261015T110000Z.json.gz")
    log_files = []
    for lrel, raw, recs in digest_candidates:
        times = sorted(r["eventTime"] for r in recs)
        log_files.append({"s3Bucket": TRAIL_BUCKET, "s3Object": lrel,
                          "hashValue": hashlib.sha256(raw).hexdigest(), "hashAlgorithm": "SHA-256",
                          "newestEventTime": times[-1], "oldestEventTime": times[0]})
    digest = {
        "awsAccountId": ACCOUNT, "digestStartTime": "2026-10-15T11:00:00Z",
        "digestEndTime": "2026-10-15T12:00:00Z", "digestS3Bucket": TRAIL_BUCKET,
        "digestS3Object": drel, "digestPublicKeyFingerprint": hexstr(32),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": max(f["newestEventTime"] for f in log_files),
        "oldestEventTime": min(f["oldestEventTime"] for f in log_files),
        "previousDigestS3Bucket": TRAIL_BUCKET, "previousDigestS3Object": prev,
        "previousDigestHashValue": hexstr(64), "previousDigestHashAlgorithm": "SHA-256",
        "previousDigestSignature": hexstr(512), "logFiles": log_files,
    }
    write(os.path.join(ct, drel), gz_bytes(json.dumps(digest, separators=(",", ":")).encode()))

    write(os.path.join(out, "README.md"), build_readme(files, drel).encode())
    total = sum(len(f[2]) for f in files)
    print(f"wrote {out}: {len(files)} record files + 1 digest, {total} records "
          f"({len(RECORDS)} unique, {len(dups)} duplicated by eventID)")
    for who, n in sorted(Counter(META[id(r)]["who"] for r in RECORDS).items()):
        print(f"  {who:24} {n}")


# ----------------------------------------------------------------------------------------------
# Organization and resource policies (issue 22): kept apart from the rest, and built from
# constants only (no `rng`), so adding them changes nothing else in the demo.

ORG_ID = "o-acme12345"
ORG_MGMT = "999900001111"
ANALYTICS = "444455556666"  # another account of the organization
PAYMENTS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/9f8e7d6c-5b4a-3210-fedc-ba9876543210"
PAYMENTS_PARAM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/payments/api-key"
SSO_ADMIN_PATTERN = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_*"


def org_policy(pid, name, kind, statements, targets, managed=False):
    ptype = "service_control_policy" if kind == "SERVICE_CONTROL_POLICY" else "resource_control_policy"
    arn = (f"arn:aws:organizations::aws:policy/{ptype}/{pid}" if managed
           else f"arn:aws:organizations::{ORG_MGMT}:policy/{ORG_ID}/{ptype}/{pid}")
    return {
        "PolicySummary": {"Id": pid, "Arn": arn, "Name": name, "Description": "",
                          "Type": kind, "AwsManaged": managed},
        "Content": json.dumps({"Version": "2012-10-17", "Statement": statements}),
        "Targets": [{"TargetId": t, "Arn": "", "Name": t, "Type": "ACCOUNT" if t.isdigit() else
                     ("ROOT" if t.startswith("r-") else "ORGANIZATIONAL_UNIT")} for t in targets],
    }


def build_organization():
    """The organization the demo account belongs to: Root > Workloads > Prod > 111122223333.
    SCPs: protect-audit (no one but the SSO administrators may switch the trail off: bob's
    cloudtrail grants are blocked), region-lockdown (everything but global services only in
    us-east-1 and eu-west-1: conditional, so it limits and never blocks). RCP: secrets only for
    principals of the organization."""
    root, workloads, prod = "r-acme", "ou-acme-workloads", "ou-acme-prod"
    full = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    every = [root, workloads, prod, ACCOUNT, ANALYTICS, ORG_MGMT]
    policies = [
        org_policy("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", full, every, True),
        org_policy("p-protectaudit", "protect-audit", "SERVICE_CONTROL_POLICY", [{
            "Sid": "NoTrailTampering", "Effect": "Deny",
            "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                       "cloudtrail:PutEventSelectors"],
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": SSO_ADMIN_PATTERN}}}], [root]),
        org_policy("p-regionlock", "region-lockdown", "SERVICE_CONTROL_POLICY", [{
            "Sid": "OnlyTwoRegions", "Effect": "Deny",
            "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}],
            [workloads]),
        org_policy("p-RCPFullAWSAccess", "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY",
                   [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}], every, True),
        org_policy("p-orgsecrets", "secrets-for-the-organization", "RESOURCE_CONTROL_POLICY", [{
            "Sid": "OnlyOurOrganization", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                          "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}], [root]),
    ]
    return {
        "Organization": {"Id": ORG_ID, "Arn": f"arn:aws:organizations::{ORG_MGMT}:organization/{ORG_ID}",
                         "FeatureSet": "ALL", "MasterAccountId": ORG_MGMT,
                         "MasterAccountArn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{ORG_MGMT}",
                         "MasterAccountEmail": "aws-management@example.com"},
        "Roots": [{"Id": root, "Arn": f"arn:aws:organizations::{ORG_MGMT}:root/{ORG_ID}/{root}", "Name": "Root",
                   "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
                                   {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"}]}],
        "OrganizationalUnits": [
            {"Id": workloads, "Arn": f"arn:aws:organizations::{ORG_MGMT}:ou/{ORG_ID}/{workloads}",
             "Name": "Workloads", "ParentId": root},
            {"Id": prod, "Arn": f"arn:aws:organizations::{ORG_MGMT}:ou/{ORG_ID}/{prod}",
             "Name": "Prod", "ParentId": workloads},
        ],
        "Accounts": [
            {"Id": ORG_MGMT, "Arn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{ORG_MGMT}",
             "Name": "management", "Email": "aws-management@example.com", "Status": "ACTIVE", "ParentId": root},
            {"Id": ACCOUNT, "Arn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{ACCOUNT}",
             "Name": "acme-prod", "Email": "aws-prod@example.com", "Status": "ACTIVE", "ParentId": prod},
            {"Id": ANALYTICS, "Arn": f"arn:aws:organizations::{ORG_MGMT}:account/{ORG_ID}/{ANALYTICS}",
             "Name": "acme-analytics", "Email": "aws-analytics@example.com", "Status": "ACTIVE",
             "ParentId": workloads},
        ],
        "Policies": policies,
    }


def build_resource_policies():
    """Resource policies: the orders database secret is shared with a role of the analytics
    account (its key lets that role decrypt through Secrets Manager); the payments key's policy
    names only orders-api (no account statement: IAM policies cannot grant its use, so nobody
    can read the parameter it encrypts); the customer-data bucket refuses plain HTTP."""
    reporting = f"arn:aws:iam::{ANALYTICS}:role/reporting"
    orders_api = ROLES["orders-api"]["arn"]
    doc = lambda *st: json.dumps({"Version": "2012-10-17", "Statement": list(st)})
    return {"ResourcePolicies": [
        {"ResourceArn": SECRET_ORDERS, "ResourceType": "AWS::SecretsManager::Secret",
         "Policy": doc({"Sid": "AnalyticsReporting", "Effect": "Allow", "Principal": {"AWS": reporting},
                        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
         "KmsKeyId": KMS_KEY},
        {"ResourceArn": SECRET_SUPPORT, "ResourceType": "AWS::SecretsManager::Secret", "Policy": None,
         "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/secretsmanager"},
        {"ResourceArn": KMS_KEY, "ResourceType": "AWS::KMS::Key",
         "Policy": doc({"Sid": "EnableIAMPolicies", "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
                       {"Sid": "AnalyticsThroughSecretsManager", "Effect": "Allow",
                        "Principal": {"AWS": reporting}, "Action": ["kms:Decrypt", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}})},
        {"ResourceArn": PAYMENTS_KEY, "ResourceType": "AWS::KMS::Key",
         "Policy": doc({"Sid": "OrdersApiOnly", "Effect": "Allow", "Principal": {"AWS": orders_api},
                        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                        "Resource": "*"})},
        {"ResourceArn": PAYMENTS_PARAM, "ResourceType": "AWS::SSM::Parameter", "Policy": None,
         "KmsKeyId": PAYMENTS_KEY},
        {"ResourceArn": "arn:aws:s3:::acme-customer-data", "ResourceType": "AWS::S3::Bucket",
         "Policy": doc({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::acme-customer-data", "arn:aws:s3:::acme-customer-data/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
         "KmsKeyId": None},
    ]}


def org_readme():
    return f"""
## Organization and resource policies

`organization.json`: account `{ACCOUNT}` is in OU `Prod` under `Workloads` of organization
`{ORG_ID}` (management account `{ORG_MGMT}`; `{ANALYTICS}` `acme-analytics` is another member).
SCP `protect-audit` (`p-protectaudit`, on the root) denies switching CloudTrail off to everyone
but the Identity Center administrators (`ArnNotLike aws:PrincipalArn`): bob's
`cloudtrail:StopLogging`, `DeleteTrail`, `UpdateTrail` and `PutEventSelectors` are **blocked**, so
not granted (not unused, and his `human-no-audit-tampering` guardrail is the SCP); the SSO
administrator keeps them. SCP `region-lockdown` (`p-regionlock`, on `Workloads`) denies all but
global services outside us-east-1 and eu-west-1: a condition on the Region, so it limits grants and
blocks none. RCP `secrets-for-the-organization` (`p-orgsecrets`) denies Secrets Manager to
principals outside the organization.

`resource-policies.json`: the secret `prod/orders/db` lets role `reporting` of `{ANALYTICS}` read
it, and its key `1234abcd-…` lets that role decrypt through Secrets Manager (a cross-account
secret: allowed if the other account's own policies allow it). The key `9f8e7d6c-…` has a key
policy that names only `orders-api` and does not trust the account: IAM policies cannot grant its
use, so nobody can read the parameter `/prod/payments/api-key` it encrypts (a locked key).
`acme-customer-data` refuses requests over plain HTTP (`aws:SecureTransport` false).
"""


# ----------------------------------------------------------------------------------------------
# README


def counts_table():
    by = defaultdict(Counter)
    for r in RECORDS:
        who = META[id(r)]["who"]
        action = f"{r['eventSource'].split('.')[0]}:{r['eventName']}"
        if r.get("errorCode"):
            action += f" ({r['errorCode']})"
        by[who][action] += 1
    lines = ["| principal (record owner) | records | eventSource-prefix:eventName (count) |",
             "|---|---|---|"]
    for who in sorted(by):
        acts = ", ".join(f"{a} ×{n}" for a, n in sorted(by[who].items()))
        lines.append(f"| {who} | {sum(by[who].values())} | {acts} |")
    return "\n".join(lines)


def build_readme(files, digest_rel):
    n_files = Counter(k for _, k, _ in files)
    listing = "\n".join(f"- `cloudtrail/{rel}` — {kind}, {len(recs)} records"
                        for rel, kind, recs in files if kind != "gz")
    return f"""# Demo snapshot (fictional)

Generated by `scripts/gen-demo.py` (deterministic; do not edit by hand, re-run the script).
Account `{ACCOUNT}`, home region `us-east-1` (plus a few `eu-west-1` records), audit window
`2026-10-01T00:00:00Z` .. `2026-10-30T23:59:59Z`; `iam.json` and the credential report are
taken at {cli_time(SNAPSHOT_TIME)}. All names, ids, keys and IPs are invented
(`AKIAEXAMPLE…`/`ASIAEXAMPLE…` keys, documentation IP ranges, no credential material).

The trail `{TRAIL_NAME}` records all management events in every region and S3 object-level
data events **only** for `arn:aws:s3:::acme-customer-data/`. Nothing else at the data plane is
observable: S3 objects in any other bucket, DynamoDB items, CloudWatch Logs `PutLogEvents`.

## Files

- `iam.json` — `aws iam get-account-authorization-details` (CLI form).
- `credential-report.csv` — decoded `aws iam get-credential-report`.
- `trails.json` — `describe-trails` merged with `get-event-selectors`.
- `organization.json` — the organization, its SCPs and RCPs (see the end of this file).
- `resource-policies.json` — resource policies and KMS keys of the account's secrets, keys,
  parameter and bucket.
- `cloudtrail/AWSLogs/{ACCOUNT}/CloudTrail/<region>/2026/10/<dd>/*.json.gz` — {n_files['gz']} S3-delivered
  log files (`{{"Records": [...]}}`, gzip, mtime 0), one per region and half-day with events.
{listing}
- `cloudtrail/{digest_rel}` — a CloudTrail **digest** file (no `Records`); must be skipped.

`exports/stream.ndjson` repeats {len(DUPLICATE_EVENT_IDS)} `orders-api` `GetSecretValue` records
that are also in a `.json.gz` file (same `eventID`): a correct ingest de-duplicates by `eventID`.
Counts below are unique records.

## Record counts

{counts_table()}

`aws-service`, `saml-user`, `web-identity-user`, `root` and `contractor(federated)` are records
that must **not** create principals (see the end of this file).

## Principals and the conclusions a correct audit must reach

**alice** (IAM user, kind **human**: console password + MFA, no access keys). All her rights come
from group `developers` (inline `developers-access`). Used: `logs:DescribeLogGroups`,
`cloudwatch:GetMetricData` (eventSource `monitoring.amazonaws.com`). Her console work on
`acme-app-assets` (`s3:GetObject`, `s3:ListBucket`) is **unobservable**: that bucket is not in the
trail's data selectors, so the object-level and listing actions matched by `s3:Get*`/`s3:List*`
on it (GetObject*, ListBucket*, ListMultipartUploadParts, ...) must be reported as
*unobservable*, not *unused*; the bucket-configuration reads they also match (GetBucketPolicy,
GetBucketAcl, ... : management events) are *unused*. The rest of `logs:*` is unused. Denied: `iam:ListUsers` (AccessDenied; not granted,
so not a used grant). `signin:ConsoleLogin` is a sign-in, not a granted IAM action.

**bob** (IAM user, kind **human**: tag `leastpriv:kind=human`, console password without MFA, one
active CLI access key). Inline `bob-power-user`: Allow `NotAction [iam:*, organizations:*,
account:*]` on `*`; Allow `iam:PassRole` on role `legacy-batch` only when passed to EC2 (added so
that `RunInstances` with an instance profile is authorizable at all); explicit Deny
`secretsmanager:*` (so secretsmanager is **not** effective despite the NotAction allow); Deny
`ec2:TerminateInstances` outside us-east-1 (conditional: TerminateInstances stays granted in
us-east-1, and unused). Used: `ec2:DescribeInstances` (us-east-1 and eu-west-1),
`ec2:RunInstances` (passing instance profile `legacy-batch`, which implies `iam:PassRole` though
CloudTrail never logs PassRole itself), `s3:ListAllMyBuckets` (event `ListBuckets`),
`sts:GetCallerIdentity`, `sts:GetFederationToken`. Everything else granted is a massive
over-grant: unused for management events and for S3 object actions on `acme-customer-data`;
*unobservable* for data-plane actions the trail does not record (S3 objects in other buckets,
DynamoDB items, Lambda Invoke, ...).

**ci-deploy** (IAM user, kind **npe**: access keys only, no password). Key 1 active and used; key 2
active, rotated 400 days before the report, never used (a stale credential). Attached
`ci-deploy-policy`: only the default version **v2** counts; v1 (broader, `lambda:*`, `iam:PassRole`
on `*`) is a non-default version and must be ignored. Used: `lambda:UpdateFunctionCode` (event
`UpdateFunctionCode20150331v2`), `lambda:GetFunction` (`GetFunction20150331v2`),
`cloudformation:DescribeStacks`. Unobservable: `s3:PutObject` on `acme-artifacts/*` (not in data
selectors). Unused: `lambda:CreateFunction`, the rest of `cloudformation:*`, and `iam:PassRole`
(no CreateFunction/UpdateFunctionConfiguration call that would have needed it). Denied:
`sts:AssumeRole` on `arn:aws:iam::{OTHER_ACCOUNT}:role/prod-deployer` (AccessDenied; not granted).

**orders-api** (role, path `/service/`, trusted by `lambda.amazonaws.com`, kind **npe**). Records
are `AssumedRole` sessions `orders-api` whose `sessionIssuer.arn` carries the path
(`{ROLES['orders-api']['arn']}`) while `userIdentity.arn` does not
(`arn:aws:sts::{ACCOUNT}:assumed-role/orders-api/orders-api`). Used:
`secretsmanager:GetSecretValue` (60 calls; 5 of them name the secret `prod/orders/db` instead of
its ARN), `kms:Decrypt` (60 calls made by `secretsmanager.amazonaws.com` on the role's behalf:
`userIdentity.invokedBy` set, still the role's permission), `ssm:GetParameter`
(`/prod/orders/db-host`), `logs:CreateLogStream` (from `AWSLambdaBasicExecutionRole`).
Unobservable: `dynamodb:GetItem`, `dynamodb:PutItem`, `dynamodb:Query` (data events, not
recorded), `logs:PutLogEvents`. Unused: `dynamodb:DeleteTable` (a management event that would
have been recorded: a dangerous unused grant to remove), `logs:CreateLogGroup`.

**support-agent** (role trusted by `bedrock.amazonaws.com`, kind **agent**) with permissions
boundary `agent-boundary`. Effective = identity policy ∩ boundary:
`secretsmanager:GetSecretValue` (any secret), `s3:GetObject` and `s3:ListBucket` on
`acme-customer-data`, `bedrock:InvokeModel`. Granted by the identity policy but **not effective**:
the rest of `secretsmanager:*` and `s3:*`, `iam:CreateAccessKey` (boundary denies `iam:*`),
`sts:AssumeRole` (absent from the boundary); `kms:Decrypt` is in the boundary but not granted.
Used (all effective rights): `s3:GetObject` (data events on `customers/1001|1002|1003/...`),
`s3:ListBucket` (event `ListObjects`), `bedrock:InvokeModel`, `secretsmanager:GetSecretValue`
(once). 5 sessions `agent-session-…`: three carry `sessionContext.sourceIdentity` `user-1001`,
`user-1002`, `user-1003` (end users on whose behalf the agent acted, each reading only its own
prefix); two have no sourceIdentity. Denied: `iam:CreateAccessKey` (explicit deny in the
boundary) and `s3:DeleteObject` on `customers/1002/notes.txt` (no boundary allow).

**{SSO_ROLE_NAME}** (role, path `/aws-reserved/sso.amazonaws.com/`, trusted by SAML provider
`AWSSSO_abc_DO_NOT_DELETE` via `sts:AssumeRoleWithSAML`, kind **human** via IAM Identity Center).
`AdministratorAccess` attached. Used by session `carol@example.com`: `iam:ListRoles`,
`ec2:DescribeVpcs` (us-east-1 and eu-west-1). Everything else in `*:*` is unused.

**github-deploy** (role trusted by OIDC provider `token.actions.githubusercontent.com` with a
`sub` StringLike condition, kind **npe**/CI). Used: `ecr:GetAuthorizationToken`, `ecr:PutImage`.
Unused: `ecr:BatchGetImage` (a management event that would have been recorded).

**legacy-batch** (role trusted by `ec2.amazonaws.com`, instance profile `legacy-batch`, kind
**npe**). `legacy-batch-policy`: `s3:*` and `ec2:*` on `*`. **Dormant**: no record has this role as
its identity in the window (`RoleLastUsed` 2025-11-03); everything is unused (S3 data-plane
actions outside `acme-customer-data` are strictly unobservable, but the role has no activity at
all). Being *passed* by bob in `RunInstances` is bob's action, not use of the role.

{agentcore_readme()}
## Records that must not become principals

- `userIdentity.type = AWSService`: `AssumeRole` by `lambda.amazonaws.com` (orders-api, 3) and
  `bedrock.amazonaws.com` (support-agent, 5; `requestParameters.sourceIdentity` set for 3),
  `GetBucketAcl` by `cloudtrail.amazonaws.com` (3).
- `eventType = AwsServiceEvent`: KMS `RotateKey` (userIdentity has only `accountId`/`invokedBy`).
- `Root` `ConsoleLogin` (once; root is not an audited principal, though it may be flagged).
- `SAMLUser` `AssumeRoleWithSAML` (2) and `WebIdentityUser` `AssumeRoleWithWebIdentity` (4): the
  federation step into the SSO and github-deploy roles, governed by trust policies; they add no
  action to any role's used set.
- `FederatedUser` `contractor` (2 × `s3:ListBuckets`, session issued by bob via
  `GetFederationToken`): must not appear as a principal. Attributing it to bob does not change
  bob's used set (he calls `ListBuckets` himself).
- Records made **by** `orders-api` with `invokedBy: secretsmanager.amazonaws.com` (KMS `Decrypt`)
  are the role's usage, not a service principal's.
""" + org_readme()


if __name__ == "__main__":
    main()
