"""Seeds the moto server with a small account, through the real AWS APIs.

Usage: seed.py ENDPOINT [--account-role ARN]

The account ("lp" below), used by tests/pull.rs:

* users: alice (human: console password, in group developers), ci-deployer
  (access key, managed policy ci-deploy);
* group developers: managed data-read, inline dev-secrets;
* roles: app-role (EC2, boundary boundary-app, inline app: secrets, S3, KMS
  outside the boundary), agent-role (trusted by Bedrock);
* trail main-trail to bucket lp-trail-logs, multi-region, with S3 data
  events for lp-data/ only;
* log files: two inside October 2026 (us-east-1 and us-west-2), one in
  August (outside the tests' window) and a digest file;
* LookupEvents records for us-east-1 and Access Advisor data for app-role
  (through the plugin's seeding endpoints).

Every time is fixed, so the verdicts are too.
"""

import gzip
import io
import json
import sys
import urllib.request

import boto3

ENDPOINT = sys.argv[1]
ROLE = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--account-role" else None
REGION = "us-east-1"

session = boto3.Session(
    aws_access_key_id="seed", aws_secret_access_key="seed", region_name=REGION
)
if ROLE:
    creds = session.client("sts", endpoint_url=ENDPOINT).assume_role(
        RoleArn=ROLE, RoleSessionName="seed"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def client(name, region=REGION):
    return session.client(name, endpoint_url=ENDPOINT, region_name=region)


iam, s3, ct, sts = client("iam"), client("s3"), client("cloudtrail"), client("sts")
ACCOUNT = sts.get_caller_identity()["Account"]


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def trust(service):
    return doc(
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    )


def managed(name, document):
    return iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]


data_read = managed(
    "data-read",
    doc(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::lp-data", "arn:aws:s3:::lp-data/*"])),
)
boundary = managed("boundary-app", doc(allow(["s3:*", "secretsmanager:*", "logs:*"])))
ci_deploy = managed(
    "ci-deploy",
    doc(
        allow("s3:PutObject", "arn:aws:s3:::lp-artifacts/*"),
        allow("lambda:UpdateFunctionCode"),
        allow("iam:PassRole"),
    ),
)

iam.create_group(GroupName="developers")
iam.attach_group_policy(GroupName="developers", PolicyArn=data_read)
iam.put_group_policy(
    GroupName="developers",
    PolicyName="dev-secrets",
    PolicyDocument=doc(
        allow(
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:dev/*",
        )
    ),
)
iam.create_user(UserName="alice", Path="/people/")
iam.create_login_profile(UserName="alice", Password="not-a-secret-1!")
iam.add_user_to_group(GroupName="developers", UserName="alice")
iam.create_user(UserName="ci-deployer")
iam.attach_user_policy(UserName="ci-deployer", PolicyArn=ci_deploy)
iam.create_access_key(UserName="ci-deployer")

iam.create_role(
    RoleName="app-role",
    AssumeRolePolicyDocument=trust("ec2.amazonaws.com"),
    PermissionsBoundary=boundary,
)
iam.put_role_policy(
    RoleName="app-role",
    PolicyName="app",
    PolicyDocument=doc(
        allow("s3:GetObject", "arn:aws:s3:::lp-data/*"),
        allow(["secretsmanager:GetSecretValue", "kms:Decrypt"]),
    ),
)
iam.create_role(RoleName="agent-role", AssumeRolePolicyDocument=trust("bedrock.amazonaws.com"))
iam.put_role_policy(
    RoleName="agent-role",
    PolicyName="agent",
    PolicyDocument=doc(allow(["secretsmanager:GetSecretValue", "s3:GetObject"])),
)

BUCKET = f"lp-trail-logs-{ACCOUNT}"
s3.create_bucket(Bucket=BUCKET)
ct.create_trail(Name="main-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True)
ct.put_event_selectors(
    TrailName="main-trail",
    EventSelectors=[
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::lp-data/"]}],
        }
    ],
)


def role_session(role, session_name):
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()}:{session_name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session_name}",
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "userName": role,
                "accountId": ACCOUNT,
            }
        },
    }


def user(name, path="/"):
    return {
        "type": "IAMUser",
        "principalId": f"AIDAEXAMPLE{name.upper()}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
        "accountId": ACCOUNT,
        "userName": name,
    }


def event(n, when, identity, source, name, region=REGION, resources=None, read_only=True, category="Management"):
    e = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "requestParameters": {},
        "eventID": f"00000000-0000-4000-8000-{n:012d}",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": ACCOUNT,
        "eventCategory": category,
    }
    if resources:
        e["resources"] = resources
    return e


def s3_object(bucket, key):
    return [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]


def secret(name):
    return [
        {
            "type": "AWS::SecretsManager::Secret",
            "ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf",
        }
    ]


east = [
    event(1, "2026-10-20T09:55:00Z", role_session("app-role", "i-0abc"), "secretsmanager.amazonaws.com",
          "GetSecretValue", resources=secret("prod/db")),
    event(2, "2026-10-20T09:56:00Z", role_session("app-role", "i-0abc"), "s3.amazonaws.com", "GetObject",
          resources=s3_object("lp-data", "report.csv"), category="Data"),
    event(3, "2026-10-20T10:01:00Z", user("alice", "/people/"), "secretsmanager.amazonaws.com",
          "GetSecretValue", resources=secret("dev/api")),
    event(4, "2026-10-20T10:02:00Z", user("ci-deployer"), "lambda.amazonaws.com",
          "UpdateFunctionCode20150331v2", read_only=False),
]
# Records carrying what a report must never repeat: a session's access key
# id, secret values in request parameters, new credentials in a response.
CANARY = "LEASTPRIV-CANARY-SECRET-0f6b"
hostile_identity = dict(role_session("app-role", "i-0abc"), accessKeyId="ASIACANARYKEY0000001")
hostile = [
    dict(event(8, "2026-10-20T10:03:00Z", hostile_identity, "ssm.amazonaws.com", "PutParameter", read_only=False),
         requestParameters={"name": "/prod/db/password", "type": "SecureString", "value": CANARY},
         errorCode="AccessDenied", errorMessage="not authorized"),
    dict(event(9, "2026-10-20T10:04:00Z", user("ci-deployer"), "iam.amazonaws.com", "CreateAccessKey", read_only=False),
         requestParameters={"userName": "ci-deployer"},
         responseElements={"accessKey": {"accessKeyId": "AKIACANARYKEY0000002", "secretAccessKey": CANARY,
                                         "userName": "ci-deployer", "status": "Active"}},
         errorCode="AccessDenied", errorMessage="not authorized"),
    dict(event(10, "2026-10-20T10:05:00Z", user("alice", "/people/"), "secretsmanager.amazonaws.com", "PutSecretValue",
               read_only=False, resources=secret("dev/api")),
         requestParameters={"secretId": "dev/api", "secretString": CANARY},
         errorCode="AccessDenied", errorMessage="not authorized"),
]
east += hostile
west = [
    event(5, "2026-10-21T08:00:00Z", user("ci-deployer"), "s3.amazonaws.com", "PutObject", region="us-west-2",
          resources=s3_object("lp-artifacts", "build.zip"), read_only=False, category="Data"),
]
august = [
    event(6, "2026-08-01T12:00:00Z", role_session("agent-role", "agent"), "secretsmanager.amazonaws.com",
          "GetSecretValue", resources=secret("prod/db")),
]


def put_log(region, day, stamp, records):
    body = io.BytesIO()
    with gzip.GzipFile(fileobj=body, mode="wb", mtime=0) as gz:
        gz.write(json.dumps({"Records": records}).encode())
    key = (
        f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day}/"
        f"{ACCOUNT}_CloudTrail_{region}_{stamp}_lp{len(records)}.json.gz"
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.getvalue())


put_log("us-east-1", "2026/10/20", "20261020T1005Z", east)
put_log("us-west-2", "2026/10/21", "20261021T0805Z", west)
put_log("us-east-1", "2026/08/01", "20260801T1205Z", august)
s3.put_object(
    Bucket=BUCKET,
    Key=f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/10/20/{ACCOUNT}_CloudTrail-Digest_us-east-1_main-trail_us-east-1_20261020T1100Z.json.gz",
    Body=b"not a log file",
)


def control(name, body):
    req = urllib.request.Request(
        f"{ENDPOINT}/moto-api/leastpriv/{name}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req).read()


later = event(7, "2026-10-25T15:00:00Z", user("alice", "/people/"), "iam.amazonaws.com", "ListUsers")
control("lookup-events", {"account_id": ACCOUNT, "region": REGION, "events": east + [later]})
control(
    "last-accessed",
    {
        "account_id": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:role/app-role",
        "services": [
            {
                "ServiceNamespace": "s3",
                "ServiceName": "Amazon S3",
                "LastAuthenticated": "2026-10-20T09:56:00Z",
                "LastAuthenticatedRegion": "us-east-1",
                "TotalAuthenticatedEntities": 1,
                "TrackedActionsLastAccessed": [
                    {"ActionName": "GetObject", "LastAccessedTime": "2026-10-20T09:56:00Z",
                     "LastAccessedRegion": "us-east-1"},
                    {"ActionName": "PutObject"},
                ],
            },
            {
                "ServiceNamespace": "kms",
                "ServiceName": "AWS Key Management Service",
                "LastAuthenticated": "2026-10-22T11:00:00Z",
                "LastAuthenticatedRegion": "us-east-1",
                "TotalAuthenticatedEntities": 1,
            },
        ],
    },
)
print(ACCOUNT)
