#!/usr/bin/env python3
"""Writes the tests/rules/<rule>/<case>/ snapshots. Usage: python3 tests/rules/generate.py tests/rules"""
import argparse, json, os, shutil


def _root():
    # argparse rather than sys.argv[1]: `generate.py --help` once wrote a `--help/` tree.
    ap = argparse.ArgumentParser(description=__doc__.split(" Usage:")[0])
    ap.add_argument("root", help="the tests/rules directory to write <rule>/<case>/ into (must exist)")
    root = ap.parse_args().root
    if not os.path.isdir(root):
        ap.error(f"{root!r} is not a directory (pass the existing tests/rules)")
    return root


ROOT = _root()
ACCT = "111122223333"
CSV_HEAD = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

def doc(*stmts):
    return {"Version": "2012-10-17", "Statement": list(stmts)}

def allow(actions, resource="*", **kw):
    s = {"Effect": "Allow", "Action": actions, "Resource": resource}
    s.update(kw)
    return s

def deny(actions, resource="*", **kw):
    s = {"Effect": "Deny", "Action": actions, "Resource": resource}
    s.update(kw)
    return s

def trust(service):
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})

def role(name, service, *stmts, last_used=None):
    r = {
        "Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLE" + name.upper().replace("-", "")[:10],
        "Arn": f"arn:aws:iam::{ACCT}:role/{name}", "CreateDate": "2025-01-01T00:00:00+00:00",
        "AssumeRolePolicyDocument": trust(service), "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": f"{name}-policy", "PolicyDocument": doc(*stmts)}],
        "AttachedManagedPolicies": [],
    }
    if last_used:
        r["RoleLastUsed"] = {"LastUsedDate": last_used, "Region": "us-east-1"}
    return r

def user(name, *stmts):
    return {
        "Path": "/", "UserName": name, "UserId": "AIDAEXAMPLE" + name.upper().replace("-", "")[:10],
        "Arn": f"arn:aws:iam::{ACCT}:user/{name}", "CreateDate": "2025-01-01T00:00:00+00:00",
        "GroupList": [], "AttachedManagedPolicies": [],
        "UserPolicyList": [{"PolicyName": f"{name}-policy", "PolicyDocument": doc(*stmts)}],
    }

def iam(users=(), roles=()):
    return {"UserDetailList": list(users), "GroupDetailList": [], "RoleDetailList": list(roles),
            "Policies": [], "IsTruncated": False}

TRAILS = {"trailList": [{
    "Name": "main", "TrailARN": f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/main",
    "S3BucketName": "trail-logs", "HomeRegion": "us-east-1", "IsMultiRegionTrail": True,
    "IsOrganizationTrail": False,
    "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
}]}

_n = [0]
def rec(identity, source, name, time, params=None, error=None):
    _n[0] += 1
    r = {
        "eventVersion": "1.09", "userIdentity": identity, "eventTime": time,
        "eventSource": f"{source}.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.18.4",
        "requestParameters": params, "responseElements": None,
        "requestID": f"00000000-0000-4000-8000-{_n[0]:012d}",
        "eventID": f"22222222-0000-4000-8000-{_n[0]:012d}",
        "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": ACCT, "eventCategory": "Management",
    }
    if error:
        r["errorCode"] = error
        r["errorMessage"] = "not authorized"
    return r

def as_user(name):
    return {"type": "IAMUser", "principalId": "AIDAEXAMPLE" + name.upper().replace("-", "")[:10],
            "arn": f"arn:aws:iam::{ACCT}:user/{name}", "accountId": ACCT,
            "accessKeyId": "AKIAEXAMPLE000000001", "userName": name}

def as_role(name, session, source_identity=None):
    ctx = {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                             "arn": f"arn:aws:iam::{ACCT}:role/{name}", "accountId": ACCT,
                             "userName": name},
           "attributes": {"creationDate": "2026-10-10T09:00:00Z", "mfaAuthenticated": "false"}}
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{ACCT}:assumed-role/{name}/{session}", "accountId": ACCT,
            "accessKeyId": "ASIAEXAMPLE000000001", "sessionContext": ctx}

def secret(name):
    return f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:{name}-AbCdEf"

def csv_row(name, password=None, key=None, mfa=False):
    """password/key: last-used timestamps ('never' = enabled, never used)."""
    arn = f"arn:aws:iam::{ACCT}:user/{name}"
    na = "N/A"
    pw_enabled = "true" if password else "false"
    pw_used = na if password in (None, "never") else password
    k_active = "true" if key else "false"
    k_rot = "2025-01-01T00:00:00+00:00" if key else na
    k_used = na if key in (None, "never") else key
    k_reg = "us-east-1" if k_used != na else na
    k_svc = "s3" if k_used != na else na
    return ",".join([name, arn, "2025-01-01T00:00:00+00:00", pw_enabled, pw_used,
                     "2025-01-01T00:00:00+00:00" if password else na, na,
                     "true" if mfa else "false", k_active, k_rot, k_used, k_reg, k_svc,
                     "false", na, na, na, na, "false", na, "false", na])

def write(rule, case, iam_doc, records=None, csv_rows=None, trails=None, config=None, org=None):
    d = os.path.join(ROOT, rule, case)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "iam.json"), "w") as f:
        json.dump(iam_doc, f, indent=2); f.write("\n")
    with open(os.path.join(d, "trails.json"), "w") as f:
        json.dump(trails or TRAILS, f, indent=2); f.write("\n")
    if config is not None:
        with open(os.path.join(d, "leastpriv.yaml"), "w") as f:
            f.write(config)
    if records is not None:
        os.makedirs(os.path.join(d, "cloudtrail"))
        with open(os.path.join(d, "cloudtrail", "events.json"), "w") as f:
            json.dump({"Records": records}, f, indent=2); f.write("\n")
    if csv_rows is not None:
        with open(os.path.join(d, "credential-report.csv"), "w") as f:
            f.write(CSV_HEAD + "\n" + "".join(r + "\n" for r in csv_rows))
    if org is not None:
        with open(os.path.join(d, "organization.json"), "w") as f:
            json.dump(org, f, indent=2); f.write("\n")

GSV = "secretsmanager:GetSecretValue"

# ---------------------------------------------------------------- secrets-access
# An agent that can read every secret and never does: critical.
write("secrets-access", "fires", iam(roles=[role("helper-agent", "bedrock.amazonaws.com", allow([GSV]))]), [])
# The same agent with the read explicitly denied.
write("secrets-access", "quiet", iam(roles=[role("helper-agent", "bedrock.amazonaws.com",
      allow([GSV]), deny([GSV]))]), [])
# A person who reads the one secret they are granted: a finding, but not critical.
write("secrets-access", "human-named-secret",
      iam(users=[user("dana", allow([GSV], secret("prod/reports")))]),
      [rec(as_user("dana"), "secretsmanager", "GetSecretValue", "2026-10-20T10:00:00Z",
           {"secretId": secret("prod/reports")})])

# Public artifacts are not secrets: a CA's CSR, certificates, public keys.
write("secrets-access", "quiet-public-artifacts", iam(roles=[role("pki-reader", "lambda.amazonaws.com",
      allow(["acm-pca:GetCertificateAuthorityCsr", "acm-pca:GetCertificate",
             "acm-pca:GetCertificateAuthorityCertificate", "acm:GetCertificate", "kms:GetPublicKey"]))]), [])

# Write-side KMS and rotation return no secret: no secrets-access finding.
write("secrets-access", "quiet-write-side", iam(roles=[role("rotator", "lambda.amazonaws.com",
      allow(["secretsmanager:RotateSecret", "kms:GenerateDataKey", "kms:GenerateDataKeyPair"]))]), [])

# ---------------------------------------------------------------- credential-minting
write("credential-minting", "fires", iam(roles=[role("key-rotator", "lambda.amazonaws.com",
      allow(["iam:CreateAccessKey"], f"arn:aws:iam::{ACCT}:user/*"))]), [])
write("credential-minting", "quiet", iam(roles=[role("key-rotator", "lambda.amazonaws.com",
      allow(["iam:ListAccessKeys"], f"arn:aws:iam::{ACCT}:user/*"))]), [])
# Service bearer tokens and GameLift's temporary credentials mint credentials.
write("credential-minting", "fires-tokens", iam(roles=[role("builder", "codebuild.amazonaws.com",
      allow(["sts:GetServiceBearerToken", "gamelift:GetComputeAccess"]))]), [])

# ---------------------------------------------------------------- privilege-escalation
write("privilege-escalation", "fires", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*"))]), [])
write("privilege-escalation", "quiet", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*"), deny(["iam:PassRole"]))]), [])

# Issue 25, precision. Reading the organization, roles or policies changes
# nothing: `organizations:Describe*`/`List*` and IAM reads are not escalation.
write("privilege-escalation", "quiet-read-only", iam(roles=[role("org-reader", "lambda.amazonaws.com",
      allow(["organizations:Describe*", "organizations:List*", "iam:Get*", "iam:List*"]))]), [])
# The same reads under `organizations:*` bring its writes: escalation, but only the writes.
write("privilege-escalation", "fires-org-wildcard", iam(roles=[role("org-admin", "lambda.amazonaws.com",
      allow(["organizations:*"]))]), [])
# Grants that reach only what customers cannot change: AWS managed policies
# and service-linked roles.
write("privilege-escalation", "quiet-aws-managed", iam(roles=[role("policy-tinkerer", "lambda.amazonaws.com",
      allow(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], "arn:aws:iam::aws:policy/*"),
      allow(["iam:PassRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"],
            "arn:aws:iam::*:role/aws-service-role/*"))]), [])
# A grant whose time window closed before the report (2026-11-01).
write("privilege-escalation", "quiet-expired", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*",
            Condition={"DateLessThan": {"aws:CurrentTime": "2026-06-30T00:00:00Z"}}))]), [])
# The same window still open: fires, and the evidence shows the condition.
write("privilege-escalation", "fires-open-window", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*",
            Condition={"DateLessThan": {"aws:CurrentTime": "2027-06-30T00:00:00Z"}}))]), [])
# A named technique: pass a role to a new Lambda function and invoke it
# (Rhino #15, pathfinding.cloud lambda-001), granted by a managed policy of a
# group the user is in, statement without a Sid.
PASS_LAMBDA = doc(
    {"Sid": "Deploy", "Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"],
     "Resource": f"arn:aws:lambda:us-east-1:{ACCT}:function:*"},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCT}:role/*"})
def with_group(u, group, policy_arn):
    u["GroupList"] = [group]
    u["UserPolicyList"] = []
    return u
_tech = iam(users=[with_group(user("ivan", allow(["s3:ListAllMyBuckets"])), "deployers",
                              f"arn:aws:iam::{ACCT}:policy/lambda-deploy")])
_tech["GroupDetailList"] = [{
    "Path": "/", "GroupName": "deployers", "GroupId": "AGPAEXAMPLEDEPLOYERS",
    "Arn": f"arn:aws:iam::{ACCT}:group/deployers", "CreateDate": "2025-01-01T00:00:00+00:00",
    "GroupPolicyList": [],
    "AttachedManagedPolicies": [{"PolicyName": "lambda-deploy", "PolicyArn": f"arn:aws:iam::{ACCT}:policy/lambda-deploy"}]}]
_tech["Policies"] = [{
    "PolicyName": "lambda-deploy", "PolicyId": "ANPAEXAMPLELAMBDADEPLOY", "Arn": f"arn:aws:iam::{ACCT}:policy/lambda-deploy",
    "Path": "/", "DefaultVersionId": "v3", "AttachmentCount": 1, "IsAttachable": True,
    "CreateDate": "2025-01-01T00:00:00+00:00", "UpdateDate": "2025-01-01T00:00:00+00:00",
    "PolicyVersionList": [{"Document": PASS_LAMBDA, "VersionId": "v3", "IsDefaultVersion": True,
                           "CreateDate": "2025-01-01T00:00:00+00:00"}]}]
write("privilege-escalation", "fires-technique", _tech, [])
# PassRole only to EC2 (`iam:PassedToService`): the finding stays, the Lambda technique does not.
write("privilege-escalation", "technique-passed-to-ec2", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*",
            Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))]), [])
# PassRole only to EC2, with Lambda and EC2 compute: the "PassRole together with" evidence names
# ec2:RunInstances only (technique-passed-to-ec2, with Lambda alone, has no such line).
write("privilege-escalation", "passrole-line-passed-to-ec2", iam(roles=[role("deployer", "lambda.amazonaws.com",
      allow(["lambda:CreateFunction", "ec2:RunInstances"]),
      allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*",
            Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))]), [])
# An AWS service-linked role that may pass roles: reported apart, not a finding.
_slr = role("AWSServiceRoleForExample", "example.amazonaws.com",
            allow(["iam:PassRole"], f"arn:aws:iam::{ACCT}:role/*"))
_slr["Path"] = "/aws-service-role/example.amazonaws.com/"
_slr["Arn"] = f"arn:aws:iam::{ACCT}:role/aws-service-role/example.amazonaws.com/AWSServiceRoleForExample"
write("privilege-escalation", "service-linked-role", iam(roles=[_slr]), [])

# ---------------------------------------------------------------- data-exfiltration
write("data-exfiltration", "fires", iam(roles=[role("reporter", "lambda.amazonaws.com",
      allow(["s3:GetObject"], "arn:aws:s3:::reports/*"))]), [])
write("data-exfiltration", "quiet", iam(roles=[role("reporter", "lambda.amazonaws.com",
      allow(["s3:ListBucket"], "arn:aws:s3:::reports"))]), [])

# ---------------------------------------------------------------- resource-exposure
write("resource-exposure", "fires", iam(roles=[role("bucket-admin", "lambda.amazonaws.com",
      allow(["s3:PutBucketPolicy"], "arn:aws:s3:::reports"))]), [])
write("resource-exposure", "quiet", iam(roles=[role("bucket-admin", "lambda.amazonaws.com",
      allow(["s3:GetBucketPolicy"], "arn:aws:s3:::reports"))]), [])

# ---------------------------------------------------------------- missing-guardrail
# agent-no-audit-tampering: the agent may stop the trail.
write("missing-guardrail", "fires", iam(roles=[role("ops-agent", "bedrock.amazonaws.com",
      allow(["cloudtrail:StopLogging", "cloudtrail:DescribeTrails"]))]), [])
write("missing-guardrail", "quiet", iam(roles=[role("ops-agent", "bedrock.amazonaws.com",
      allow(["cloudtrail:StopLogging", "cloudtrail:DescribeTrails"]),
      deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors"], Sid="LeastprivGuardrailAgentNoAuditTampering"))]), [])
# agent-secrets-outside-path with a NotResource guardrail: the exact Deny statement the
# finding proposes as its fix must close it.
write("missing-guardrail", "quiet-not-resource-deny", iam(roles=[role("ops-agent", "bedrock.amazonaws.com",
      allow([GSV]),
      {"Sid": "LeastprivGuardrailAgentSecretsOutsidePath", "Effect": "Deny",
       "Action": ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"],
       "NotResource": ["arn:aws:secretsmanager:*:*:secret:agents/*"]})]), [])
# ... and so must an Allow scoped to the agent's own path.
write("missing-guardrail", "quiet-own-path", iam(roles=[role("ops-agent", "bedrock.amazonaws.com",
      allow([GSV], f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:agents/ops-agent/*"))]), [])

# ---------------------------------------------------------------- guardrail-hit
def hit(error):
    return [rec(as_user("erin"), "iam", "ListUsers", "2026-10-20T10:00:00Z", None, error)]
write("guardrail-hit", "fires", iam(users=[user("erin", allow(["iam:ListRoles"]))]), hit("AccessDenied"))
write("guardrail-hit", "quiet", iam(users=[user("erin", allow(["iam:ListRoles", "iam:ListUsers"]))]), hit(None))

# ---------------------------------------------------------------- super-user-agent
def agent_reads(identities):
    out = []
    for i, si in enumerate(identities):
        out.append(rec(as_role("support-bot", f"session-{i + 1}", si), "secretsmanager",
                       "GetSecretValue", f"2026-10-{10 + i}T10:00:00Z",
                       {"secretId": secret(f"agents/customers/{si or 'anonymous'}")}))
    return out
SUPPORT_BOT = iam(roles=[role("support-bot", "bedrock.amazonaws.com", allow([GSV]))])
write("super-user-agent", "fires", SUPPORT_BOT, agent_reads(["user-1001", "user-1002"]))
write("super-user-agent", "quiet", SUPPORT_BOT, agent_reads(["user-1001", "user-1001"]))

# ---------------------------------------------------------------- agent-without-source-identity
write("agent-without-source-identity", "fires", SUPPORT_BOT, agent_reads(["user-1001", None]))
write("agent-without-source-identity", "quiet", SUPPORT_BOT, agent_reads(["user-1001", "user-1002"]))

# ---------------------------------------------------------------- dormant-principal
# `worker` made no call in the window that `watcher`'s calls define.
def watcher_calls():
    return [rec(as_user("watcher"), "ec2", "DescribeInstances", "2026-10-02T10:00:00Z"),
            rec(as_user("watcher"), "ec2", "DescribeInstances", "2026-10-30T10:00:00Z")]
WATCHER = user("watcher", allow(["ec2:DescribeInstances"]))
write("dormant-principal", "fires", iam(users=[WATCHER], roles=[role("worker", "lambda.amazonaws.com",
      allow(["sqs:ReceiveMessage"], f"arn:aws:sqs:us-east-1:{ACCT}:jobs"))]), watcher_calls())
write("dormant-principal", "quiet", iam(users=[WATCHER], roles=[role("worker", "lambda.amazonaws.com",
      allow(["sqs:ReceiveMessage"], f"arn:aws:sqs:us-east-1:{ACCT}:jobs"))]),
      watcher_calls() + [rec(as_role("worker", "worker"), "sqs", "ReceiveMessage", "2026-10-15T10:00:00Z",
                             {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCT}/jobs"})])

# ---------------------------------------------------------------- stale-access-key
# now = 2026-11-01T00:00:00Z; 2026-04-15 is 200 days before, 2026-10-31 the day before.
BATCH = iam(users=[user("batch", allow(["s3:ListAllMyBuckets"]))])
write("stale-access-key", "fires", BATCH, [], [csv_row("batch", key="2026-04-15T00:00:00+00:00")])
write("stale-access-key", "quiet", BATCH, [], [csv_row("batch", key="2026-10-31T00:00:00+00:00")])

# ---------------------------------------------------------------- stale-console-password
FRANK = iam(users=[user("frank", allow(["s3:ListAllMyBuckets"]))])
write("stale-console-password", "fires", FRANK, [], [csv_row("frank", password="2026-04-15T00:00:00+00:00", mfa=True)])
write("stale-console-password", "quiet", FRANK, [], [csv_row("frank", password="2026-10-31T00:00:00+00:00", mfa=True)])

# ---------------------------------------------------------------- unused-permissions
def gina_calls(names):
    return [rec(as_user("gina"), "ec2", n, f"2026-10-{10 + i}T10:00:00Z") for i, n in enumerate(names)]
GINA = iam(users=[user("gina", allow(["ec2:DescribeInstances", "ec2:DescribeVpcs"]))])
write("unused-permissions", "fires", GINA, gina_calls(["DescribeInstances"]))
write("unused-permissions", "quiet", GINA, gina_calls(["DescribeInstances", "DescribeVpcs"]))

# ---------------------------------------------------------------- used-without-grant
def hank_calls():
    return [rec(as_user("hank"), "s3", "ListBuckets", "2026-10-20T10:00:00Z")]
write("used-without-grant", "fires", iam(users=[user("hank", allow(["ec2:DescribeInstances"]))]), hank_calls())
write("used-without-grant", "quiet", iam(users=[user("hank", allow(["ec2:DescribeInstances", "s3:ListAllMyBuckets"]))]), hank_calls())

# IAM reports `worker` used 2026-09-01 (61 days before the report), before the window.
write("dormant-principal", "last-used-before-window", iam(users=[WATCHER], roles=[role("worker", "lambda.amazonaws.com",
      allow(["sqs:ReceiveMessage"], f"arn:aws:sqs:us-east-1:{ACCT}:jobs"), last_used="2026-09-01T00:00:00+00:00")]),
      watcher_calls())
# Every agent session lacks sourceIdentity: nobody can say on whose behalf it acted.
write("agent-without-source-identity", "no-session-has-one", SUPPORT_BOT, agent_reads([None, None]))

# The remediation of super-user-agent, followed literally: object reads scoped per end user
# with `${aws:SourceIdentity}` (ABAC). The agent no longer has one grant over all users' data.
def agent_gets(identities):
    return [rec(as_role("support-bot", f"session-{i + 1}", si), "s3", "GetObject",
                f"2026-10-{10 + i}T10:00:00Z",
                {"bucketName": "customer-data", "key": f"customers/{si}/profile.json"})
            for i, si in enumerate(identities)]
write("super-user-agent", "quiet-abac",
      iam(roles=[role("support-bot", "bedrock.amazonaws.com",
                      allow(["s3:GetObject"], "arn:aws:s3:::customer-data/customers/${aws:SourceIdentity}/*"))]),
      agent_gets(["user-1001", "user-1002"]))
# The same calls with the grant on the whole bucket: the confused deputy (high, not critical).
write("super-user-agent", "fires-bucket",
      iam(roles=[role("support-bot", "bedrock.amazonaws.com",
                      allow(["s3:GetObject"], "arn:aws:s3:::customer-data/*"))]),
      agent_gets(["user-1001", "user-1002"]))

# ---------------------------------------------------------------- organizations and trust
# An organization: root r-root -> OU ou-root-prod -> this account; management account 999988887777.
# FullAWSAccess everywhere, plus the given SCPs attached to the OU.
MGMT = "999988887777"
def organization(*scps, accounts=()):
    def pol(pid, name, statements, targets, managed=False):
        return {"PolicySummary": {"Id": pid, "Arn": f"arn:aws:organizations::{MGMT}:policy/o-example/service_control_policy/{pid}",
                                  "Name": name, "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": managed},
                "Content": json.dumps(doc(*statements)),
                "Targets": [{"TargetId": t} for t in targets]}
    policies = [pol("p-FullAWSAccess", "FullAWSAccess", [allow(["*"])], ["r-root", "ou-root-prod", ACCT] + [a for a, _ in accounts], True)]
    policies += [pol(pid, name, stmts, ["ou-root-prod"]) for pid, name, stmts in scps]
    return {
        "Organization": {"Id": "o-example", "Arn": f"arn:aws:organizations::{MGMT}:organization/o-example", "MasterAccountId": MGMT},
        "Roots": [{"Id": "r-root", "Name": "Root", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}],
        "OrganizationalUnits": [{"Id": "ou-root-prod", "Name": "Prod", "ParentId": "r-root"}],
        "Accounts": [{"Id": ACCT, "Name": "prod", "Status": "ACTIVE", "ParentId": "ou-root-prod"},
                     {"Id": MGMT, "Name": "management", "Status": "ACTIVE", "ParentId": "r-root"}]
                    + [{"Id": a, "Name": n, "Status": "ACTIVE", "ParentId": "r-root"} for a, n in accounts],
        "Policies": policies,
    }

def trust_doc(*stmts):
    return doc(*stmts)

def role_trusting(name, trust, *stmts):
    r = role(name, "ec2.amazonaws.com", *stmts)
    r["AssumeRolePolicyDocument"] = trust
    return r

VENDOR = "444455556666"
def trusts_aws(who, **cond):
    s = {"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sts:AssumeRole"}
    if cond:
        s["Condition"] = cond
    return s
# unguarded-cross-account-trust: a third party's account, no ExternalId (high).
write("unguarded-cross-account-trust", "fires", iam(roles=[role_trusting("vendor-audit",
      trust_doc(trusts_aws(f"arn:aws:iam::{VENDOR}:root")), allow(["ec2:DescribeInstances"]))]), [])
write("unguarded-cross-account-trust", "quiet", iam(roles=[role_trusting("vendor-audit",
      trust_doc(trusts_aws(f"arn:aws:iam::{VENDOR}:root", StringEquals={"sts:ExternalId": "acme-7f3a"})),
      allow(["ec2:DescribeInstances"]))]), [])
# Everyone: critical.
write("unguarded-cross-account-trust", "anyone", iam(roles=[role_trusting("vendor-audit",
      trust_doc(trusts_aws("*")), allow(["ec2:DescribeInstances"]))]), [])
# The trusted account is in the same organization: low.
write("unguarded-cross-account-trust", "same-organization", iam(roles=[role_trusting("vendor-audit",
      trust_doc(trusts_aws(f"arn:aws:iam::{VENDOR}:root")), allow(["ec2:DescribeInstances"]))]), [],
      org=organization(accounts=[(VENDOR, "tools")]))

# unsafe-oidc-trust: GitHub Actions with every repository of the owner (high).
GH = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
def github_trust(**cond):
    return trust_doc({"Effect": "Allow", "Principal": {"Federated": GH}, "Action": "sts:AssumeRoleWithWebIdentity",
                      "Condition": cond})
AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
write("unsafe-oidc-trust", "fires", iam(roles=[role_trusting("github-any",
      github_trust(StringEquals=AUD, StringLike={"token.actions.githubusercontent.com:sub": "repo:example-org/*"}),
      allow(["s3:PutObject"], "arn:aws:s3:::artifacts/*"))]), [])
write("unsafe-oidc-trust", "quiet", iam(roles=[role_trusting("github-deploy",
      github_trust(StringEquals=dict(AUD, **{"token.actions.githubusercontent.com:sub": "repo:example-org/app:ref:refs/heads/main"})),
      allow(["s3:PutObject"], "arn:aws:s3:::artifacts/*"))]), [])
# Only the audience: any repository of any owner (critical).
write("unsafe-oidc-trust", "no-subject", iam(roles=[role_trusting("github-any",
      github_trust(StringEquals=AUD), allow(["s3:PutObject"], "arn:aws:s3:::artifacts/*"))]), [])

# privilege-escalation through a chain of roles: ci-runner -> chain-hop -> break-glass-admin.
def assume(arn):
    return allow(["sts:AssumeRole"], arn)
CHAIN = [
    role("ci-runner", "ec2.amazonaws.com", assume(f"arn:aws:iam::{ACCT}:role/chain-hop")),
    role_trusting("chain-hop", trust_doc(trusts_aws(f"arn:aws:iam::{ACCT}:role/ci-runner")),
                  assume(f"arn:aws:iam::{ACCT}:role/break-glass-admin")),
    role_trusting("break-glass-admin", trust_doc(trusts_aws(f"arn:aws:iam::{ACCT}:root")), allow(["*"])),
]
write("privilege-escalation", "chain", iam(roles=CHAIN), [])
# The same chain with the last hop blocked by an SCP: no chain.
write("privilege-escalation", "chain-blocked-by-scp", iam(roles=CHAIN), [],
      org=organization(("p-nobreakglass", "no-break-glass", [deny(["sts:AssumeRole"], f"arn:aws:iam::*:role/break-glass-*")])))

# missing-guardrail closed by SCPs: every audit-trail action denied to the OU.
TRAIL_ACTIONS = ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"]
OPS_AGENT = iam(roles=[role("ops-agent", "bedrock.amazonaws.com", allow(["cloudtrail:*"]))])
write("missing-guardrail", "quiet-scp", OPS_AGENT, [],
      org=organization(("p-trail", "protect-trails", [deny(TRAIL_ACTIONS)])))
# Two of the four denied by the SCP: the finding names it for those two.
write("missing-guardrail", "scp-partial", OPS_AGENT, [],
      org=organization(("p-trail", "protect-trails", [deny(TRAIL_ACTIONS[:2])])))
# The agent's secrets guardrail closed by an SCP Deny for this principal only (aws:PrincipalArn).
write("missing-guardrail", "quiet-scp-principal", iam(roles=[role("ops-agent", "bedrock.amazonaws.com", allow([GSV]))]), [],
      org=organization(("p-agents", "agent-secrets", [{"Sid": "AgentsOwnSecretsOnly", "Effect": "Deny",
          "Action": ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"],
          "NotResource": ["arn:aws:secretsmanager:*:*:secret:agents/*"],
          "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*-agent"}}}])))

# guardrail-hit on a refusal only an SCP explains: erin's policy grants iam:ListUsers.
write("guardrail-hit", "scp-refusal", iam(users=[user("erin", allow(["iam:ListRoles", "iam:ListUsers"]))]),
      hit("AccessDenied"), org=organization(("p-noiamread", "no-iam-user-listing", [deny(["iam:ListUsers"])])))

# ================================================================ issue 24: agents, pipeline

def role_trust(name, trust_doc, *stmts):
    r = role(name, "lambda.amazonaws.com", *stmts)
    r["AssumeRolePolicyDocument"] = trust_doc
    return r

def via(r, user_agent=None, console=False):
    """A record made through another channel than the CLI."""
    if user_agent:
        r["userAgent"] = user_agent
    if console:
        r["sessionCredentialFromConsole"] = "true"
    return r

CONSOLE_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
TERRAFORM_UA = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 aws-sdk-go-v2/1.32.6"
BOTO_UA = "Boto3/1.35.40 md/Botocore#1.35.40 ua/2.0 os/linux lang/python#3.12"
RUN = ["ec2:RunInstances", "ec2:DescribeInstances"]
GITHUB = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"

def github_main_trust():
    return doc({"Effect": "Allow", "Principal": {"Federated": GITHUB},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                               "token.actions.githubusercontent.com:sub": "repo:example/infra:ref:refs/heads/main"}}})

def runs(who, ua=None, console=False, name="RunInstances"):
    return [via(rec(who, "ec2", name, "2026-10-20T10:00:00Z",
                    {"instanceType": "t3.micro", "imageId": "ami-0abcdef1234567890"}), ua, console)]

# ---------------------------------------------------------------- change-outside-pipeline
# A person (IAM user) launches an instance from the console.
write("change-outside-pipeline", "fires", iam(users=[user("ivan", allow(RUN))]),
      runs(as_user("ivan"), CONSOLE_UA, console=True))
# The same change by the deploy role that GitHub Actions assumes, through Terraform.
write("change-outside-pipeline", "quiet", iam(roles=[role_trust("deploy", github_main_trust(), allow(RUN))]),
      runs(as_role("deploy", "GitHubActions"), TERRAFORM_UA))
# Read-only use by the same person.
write("change-outside-pipeline", "quiet-read-only", iam(users=[user("ivan", allow(RUN))]),
      runs(as_user("ivan"), CONSOLE_UA, console=True, name="DescribeInstances"))
# A person at the CLI in a workload's role: reported (the role is not the pipeline).
write("change-outside-pipeline", "fires-cli-in-workload-role",
      iam(roles=[role("batch-runner", "ec2.amazonaws.com", allow(RUN))]),
      runs(as_role("batch-runner", "ivan-laptop")))
# The workload itself writing through its SDK: not a person, not reported.
write("change-outside-pipeline", "quiet-workload-sdk",
      iam(roles=[role("batch-runner", "ec2.amazonaws.com", allow(RUN))]),
      runs(as_role("batch-runner", "i-0123456789abcdef0"), BOTO_UA))
# ivan is listed as a pipeline principal in leastpriv.yaml (e.g. a legacy CI user).
write("change-outside-pipeline", "pipeline-configured", iam(users=[user("ivan", allow(RUN))]),
      runs(as_user("ivan"), CONSOLE_UA, console=True),
      config="pipeline:\n  principals: [\"arn:aws:iam::*:user/ivan\"]\n")

# ---------------------------------------------------------------- agent-role-shared
def agentcore_trust(source_arns):
    st = {"Effect": "Allow", "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
          "Action": "sts:AssumeRole"}
    if source_arns:
        st["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCT},
                           "ArnLike": {"aws:SourceArn": source_arns}}
    return doc(st)

def runtime(name):
    return f"arn:aws:bedrock-agentcore:us-east-1:{ACCT}:runtime/{name}"

KB_READ = allow(["bedrock:Retrieve"], f"arn:aws:bedrock:us-east-1:{ACCT}:knowledge-base/KB12345678")
write("agent-role-shared", "fires",
      iam(roles=[role_trust("agents-exec", agentcore_trust([runtime("triage-AbCd1234"), runtime("billing-EfGh5678")]), KB_READ)]), [])
write("agent-role-shared", "quiet",
      iam(roles=[role_trust("agents-exec", agentcore_trust([runtime("triage-AbCd1234")]), KB_READ)]), [])

def assume_for_workload(role_name, subject, t):
    r = rec({"type": "AWSService", "invokedBy": "bedrock-agentcore.amazonaws.com",
             "onBehalfOf": {"subject": subject, "subjectType": "workload",
                            "issuer": f"arn:aws:iam::{ACCT}:workload-identity-provider/agents"}},
            "sts", "AssumeRole", t,
            {"roleArn": f"arn:aws:iam::{ACCT}:role/{role_name}", "roleSessionName": "agentcore-runtime"})
    r["userAgent"] = "bedrock-agentcore.amazonaws.com"
    return r
# No SourceArn at all, but the trail shows sessions for two workload identities.
write("agent-role-shared", "fires-workloads",
      iam(roles=[role_trust("agents-exec", agentcore_trust(None), KB_READ)]),
      [assume_for_workload("agents-exec", "spiffe://example.org/agents/triage", "2026-10-20T10:00:00Z"),
       assume_for_workload("agents-exec", "spiffe://example.org/agents/billing", "2026-10-21T10:00:00Z")])

# ---------------------------------------------------------------- passrole-to-agentcore
write("passrole-to-agentcore", "fires",
      iam(users=[user("dev", allow(["iam:PassRole"]), allow(["bedrock-agentcore:CreateAgentRuntime"]))]), [])
write("passrole-to-agentcore", "quiet",
      iam(users=[user("dev", allow(["iam:PassRole"], "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
                      allow(["bedrock-agentcore:CreateAgentRuntime"]))]), [])

# ---------------------------------------------------------------- agent-calls-as-execution-role
def runtime_reads(source_identity):
    return [rec(as_role("runtime-agent", "agentcore-session-1", source_identity), "s3", "GetObject",
                "2026-10-20T10:00:00Z", {"bucketName": "tickets", "key": "t/1.json"})]
RUNTIME_AGENT = iam(roles=[role_trust("runtime-agent", agentcore_trust([runtime("triage-AbCd1234")]),
                                      allow(["s3:GetObject"], "arn:aws:s3:::tickets/*"))])
write("agent-calls-as-execution-role", "fires", RUNTIME_AGENT, runtime_reads(None))
write("agent-calls-as-execution-role", "quiet", RUNTIME_AGENT, runtime_reads("user-1001"))

# ---------------------------------------------------------------- agent-use-unobservable
KB_AGENT = iam(roles=[role("kb-agent", "bedrock.amazonaws.com", KB_READ)])
write("agent-use-unobservable", "fires", KB_AGENT, [])
KB_TRAILS = json.loads(json.dumps(TRAILS))
KB_TRAILS["trailList"][0]["AdvancedEventSelectors"] = [
    {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {"Name": "knowledge bases", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                    {"Field": "resources.type", "Equals": ["AWS::Bedrock::KnowledgeBase"]}]}]
del KB_TRAILS["trailList"][0]["EventSelectors"]
write("agent-use-unobservable", "quiet", KB_AGENT, [], trails=KB_TRAILS)

# Issue 20: the grant is checked against the resource the record names, Region included.
# `hank` may describe tables in us-east-1 only and describes one in eu-west-1: used without grant.
def hank_describes(region):
    r = rec(as_user("hank"), "dynamodb", "DescribeTable", "2026-10-20T10:00:00Z", {"tableName": "orders"})
    r["awsRegion"] = region
    r["resources"] = [{"ARN": f"arn:aws:dynamodb:{region}:{ACCT}:table/orders", "type": "AWS::DynamoDB::Table"}]
    return [r]
HANK_TABLES = iam(users=[user("hank", allow(["dynamodb:DescribeTable"], f"arn:aws:dynamodb:us-east-1:{ACCT}:table/*"))])
write("used-without-grant", "fires-other-region", HANK_TABLES, hank_describes("eu-west-1"))
write("used-without-grant", "quiet-same-region", HANK_TABLES, hank_describes("us-east-1"))
# Issue 20: a granted action that was refused (here by an SCP), or that passed authorization and
# then failed (a dry run), is never unused: no finding.
def gina_vpcs(code, message):
    calls = gina_calls(["DescribeInstances", "DescribeVpcs"])
    calls[1]["errorCode"] = code
    calls[1]["errorMessage"] = message
    return calls
write("unused-permissions", "quiet-refused", GINA, gina_vpcs("Client.UnauthorizedOperation",
      "You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/gina is not "
      "authorized to perform: ec2:DescribeVpcs with an explicit deny in a service control policy"))
write("unused-permissions", "quiet-failed-after-authorization", GINA,
      gina_vpcs("Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set."))

# ---------------------------------------------------------------- change-outside-pipeline, per family
# (last, so that the record ids of the cases above do not shift)
# Two families of one service at the console: launching (Write) and tagging (Tagging) are two
# findings, one per family, each with its own actions.
write("change-outside-pipeline", "fires-per-family",
      iam(users=[user("ivan", allow(RUN + ["ec2:CreateTags"]))]),
      runs(as_user("ivan"), CONSOLE_UA, console=True)
      + [via(rec(as_user("ivan"), "ec2", "CreateTags", "2026-10-21T09:00:00Z",
                 {"resourcesSet": {"items": [{"resourceId": "i-0123456789abcdef0"}]},
                  "tagSet": {"items": [{"key": "owner", "value": "ivan"}]}}), CONSOLE_UA, True)])
