#!/usr/bin/env python3
"""Generate a synthetic account for benchmarks: N CloudTrail events in
S3-delivered .json.gz files and P principals with varied policies.

Usage: scripts/gen-synthetic.py OUT_DIR --events N --principals P [--per-file K]

Deterministic (fixed seed). Writes OUT_DIR/iam.json, OUT_DIR/trails.json and
OUT_DIR/cloudtrail/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz.
"""
import argparse, gzip, json, os, random, datetime

ACCOUNT = "210987654321"
CALLS = [
    ("s3.amazonaws.com", "GetObject", True), ("s3.amazonaws.com", "PutObject", False),
    ("s3.amazonaws.com", "ListBuckets", True), ("ec2.amazonaws.com", "DescribeInstances", True),
    ("ec2.amazonaws.com", "RunInstances", False), ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", False),
    ("lambda.amazonaws.com", "GetFunction20150331v2", True), ("secretsmanager.amazonaws.com", "GetSecretValue", True),
    ("kms.amazonaws.com", "Decrypt", True), ("dynamodb.amazonaws.com", "DescribeTable", True),
    ("sts.amazonaws.com", "GetCallerIdentity", True), ("iam.amazonaws.com", "ListRoles", True),
    ("logs.amazonaws.com", "DescribeLogGroups", True), ("monitoring.amazonaws.com", "GetMetricData", True),
    ("ssm.amazonaws.com", "GetParameter", True), ("cloudformation.amazonaws.com", "DescribeStacks", True),
]
POLICIES = [
    {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:RunInstances"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["lambda:*"], "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*"},
    {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "Resource": "*"},
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
    {"Effect": "Deny", "Action": ["s3:DeleteBucket"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["logs:*", "cloudwatch:*", "ssm:GetParameter*"], "Resource": "*"},
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--principals", type=int, default=100)
    ap.add_argument("--per-file", type=int, default=1000)
    a = ap.parse_args()
    rnd = random.Random(42)
    os.makedirs(a.out, exist_ok=True)
    roles = []
    for i in range(a.principals):
        stmts = rnd.sample(POLICIES, k=rnd.randint(1, 3))
        roles.append({
            "RoleName": f"role-{i}", "RoleId": f"AROA{i:016d}", "Path": "/",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/role-{i}",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": stmts}}],
            "AttachedManagedPolicies": [], "Tags": [], "InstanceProfileList": [],
        })
    with open(os.path.join(a.out, "iam.json"), "w") as f:
        json.dump({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}, f)
    with open(os.path.join(a.out, "trails.json"), "w") as f:
        json.dump({"trailList": [{"Name": "t", "S3BucketName": "b", "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}]}, f)
    start = datetime.datetime(2026, 10, 1, tzinfo=datetime.timezone.utc)
    span = 30 * 86400
    n = 0
    fileno = 0
    while n < a.events:
        k = min(a.per_file, a.events - n)
        t0 = start + datetime.timedelta(seconds=span * n // a.events)
        recs = []
        for j in range(k):
            src, name, ro = CALLS[rnd.randrange(len(CALLS))]
            r = rnd.randrange(a.principals)
            t = t0 + datetime.timedelta(seconds=j % 3600)
            rec = {
                "eventVersion": "1.09",
                "userIdentity": {"type": "AssumedRole", "principalId": f"AROA{r:016d}:s{j % 7}", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/role-{r}/s{j % 7}", "accountId": ACCOUNT, "accessKeyId": "ASIAEXAMPLE", "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{r:016d}", "arn": f"arn:aws:iam::{ACCOUNT}:role/role-{r}", "accountId": ACCOUNT, "userName": f"role-{r}"}, "attributes": {"creationDate": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "mfaAuthenticated": "false"}}},
                "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": src, "eventName": name, "awsRegion": "us-east-1",
                "sourceIPAddress": "192.0.2.10", "userAgent": "aws-sdk-go/1.44", "requestParameters": {"bucketName": "data", "key": f"k/{j}"} if src.startswith("s3") else None,
                "responseElements": None, "requestID": f"{n + j:032x}", "eventID": f"{fileno:08x}-{j:04x}-4000-8000-{n + j:012x}",
                "readOnly": ro, "eventType": "AwsApiCall", "managementEvent": not src.startswith("s3") or name == "ListBuckets", "recipientAccountId": ACCOUNT, "eventCategory": "Management",
            }
            if rnd.random() < 0.02:
                rec["errorCode"] = "AccessDenied"
                rec["errorMessage"] = "not authorized"
            recs.append(rec)
        d = os.path.join(a.out, "cloudtrail", "AWSLogs", ACCOUNT, "CloudTrail", "us-east-1", t0.strftime("%Y/%m/%d"))
        os.makedirs(d, exist_ok=True)
        name = f"{ACCOUNT}_CloudTrail_us-east-1_{t0.strftime('%Y%m%dT%H%MZ')}_{fileno:016d}.json.gz"
        with gzip.open(os.path.join(d, name), "wt", compresslevel=6) as f:
            json.dump({"Records": recs}, f)
        n += k
        fileno += 1
    print(f"wrote {n} events in {fileno} files, {a.principals} principals to {a.out}")


if __name__ == "__main__":
    main()
