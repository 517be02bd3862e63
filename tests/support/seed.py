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

Usage: seed.py ENDPOINT --scenario org [--access-key AKID]

Instead: an AWS Organization with fixed account ids, IAM Identity Center and
resource policies (seed_org below), printing one line of JSON that names
what it made. The management account 111111111111 is whoever signs with
access key AKID (default ORG_ACCESS_KEY, 20 of [A-Z0-9]): the plugin
registers it as the key of IAM user org-admin there.
"""

import gzip
import io
import json
import sys
import urllib.request
import zipfile

import boto3

# --- Scenario "org": an AWS Organization, Identity Center, resource policies -

ORG_ACCESS_KEY = "AKIAORGMGMT111111111"
MANAGEMENT = "111111111111"
PROD, DEV, SECURITY = "222222222222", "333333333333", "444444444444"
OUTSIDER = "999999999999"  # an account outside the organization
ORG_REGION = "us-east-1"
GITHUB = "token.actions.githubusercontent.com"


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _post(endpoint, path, body=None):
    req = urllib.request.Request(
        f"{endpoint}{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req).read()


def _org_tree(org, out):
    """Organization, OUs, accounts (fixed ids), SCPs, the RCP, delegated admins."""
    o = org.create_organization(FeatureSet="ALL")["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    for t in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org.enable_policy_type(RootId=root, PolicyType=t)

    def ou(parent, name):
        return org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

    ous = {"Workloads": ou(root, "Workloads")}
    ous["Prod"] = ou(ous["Workloads"], "Prod")
    ous["Dev"] = ou(ous["Workloads"], "Dev")
    ous["Security"] = ou(root, "Security")
    accounts = {"management": MANAGEMENT}
    for name, want, parent in (("prod", PROD, "Prod"), ("dev", DEV, "Dev"), ("security", SECURITY, "Security")):
        got = org.create_account(AccountName=name, Email=f"aws+{name}@example.com")
        got = got["CreateAccountStatus"]["AccountId"]
        assert got == want, f"account {name} got id {got}, not {want}"
        org.move_account(AccountId=got, SourceParentId=root, DestinationParentId=ous[parent])
        accounts[name] = got

    def policy(name, kind, description, *statements):
        p = org.create_policy(Name=name, Type=kind, Description=description, Content=_doc(*statements))
        return p["Policy"]["PolicySummary"]["Id"]

    scp, rcp = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
    policies = {"FullAWSAccess": "p-FullAWSAccess", "RCPFullAWSAccess": "p-RCPFullAWSAccess"}
    policies["prod-guardrails"] = policy(
        "prod-guardrails", scp, "No secret deletion, no IAM users in prod",
        {"Sid": "DenySecretDeletion", "Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"},
        {"Sid": "DenyIamUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"},
    )
    policies["region-lockdown"] = policy(
        "region-lockdown", scp, "Only us-east-1 and eu-west-1, global services excepted",
        {
            "Sid": "DenyOtherRegions",
            "Effect": "Deny",
            "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
        },
    )
    policies["security-allow-list"] = policy(
        "security-allow-list", scp, "The only services the Security OU may use",
        {
            "Sid": "AllowListed",
            "Effect": "Allow",
            "Action": ["iam:*", "sts:*", "organizations:Describe*", "organizations:List*",
                       "access-analyzer:*", "guardduty:*", "securityhub:*", "cloudtrail:*",
                       "config:*", "s3:*", "kms:*", "logs:*"],
            "Resource": "*",
        },
    )
    policies["deny-external-secret-access"] = policy(
        "deny-external-secret-access", rcp, "Secrets only for principals of the organization",
        {
            "Sid": "EnforceOrgIdentities",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": o["Id"]},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
    )
    org.attach_policy(PolicyId=policies["prod-guardrails"], TargetId=ous["Prod"])
    org.attach_policy(PolicyId=policies["region-lockdown"], TargetId=ous["Workloads"])
    # The allow-list replaces FullAWSAccess on the Security OU.
    org.attach_policy(PolicyId=policies["security-allow-list"], TargetId=ous["Security"])
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ous["Security"])
    org.attach_policy(PolicyId=policies["deny-external-secret-access"], TargetId=root)

    for service in ("sso.amazonaws.com", "access-analyzer.amazonaws.com"):
        org.enable_aws_service_access(ServicePrincipal=service)
        org.register_delegated_administrator(AccountId=SECURITY, ServicePrincipal=service)

    out["organization"] = {"id": o["Id"], "arn": o["Arn"], "root_id": root}
    out["accounts"] = accounts
    out["ous"] = ous
    out["policies"] = policies


def _member_iam(iam, account, org_id):
    """The same principals in every member account; returns their ARNs."""
    arn = f"arn:aws:iam::{account}"
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )["OpenIDConnectProviderArn"]

    def github(sub, operator):
        return _doc({
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                operator: {f"{GITHUB}:sub": sub},
            },
        })

    def trust_aws(principal, condition=None):
        st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
        if condition:
            st["Condition"] = condition
        return _doc(st)

    def role(name, trust, inline=None, managed=(), path="/"):
        r = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Path=path)["Role"]["Arn"]
        if inline:
            iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=_doc(*inline))
        for m in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=m)
        return r

    roles = {}
    roles["github-deploy"] = role(
        "github-deploy", github("repo:example-org/app:ref:refs/heads/main", "StringEquals"),
        inline=[
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::lp-artifacts-{account}/*"},
            {"Effect": "Allow", "Action": "lambda:UpdateFunctionCode",
             "Resource": f"arn:aws:lambda:{ORG_REGION}:{account}:function:*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"{arn}:role/processor-role"},
        ],
    )
    roles["github-any"] = role(
        "github-any", github("repo:example-org/*", "StringLike"),
        inline=[{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:PutImage",
                                               "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                                               "ecr:CompleteLayerUpload"], "Resource": "*"}],
    )
    roles["vendor-audit"] = role(
        "vendor-audit", trust_aws(f"arn:aws:iam::{OUTSIDER}:root"),
        managed=["arn:aws:iam::aws:policy/SecurityAudit"],
    )
    roles["ci-runner"] = role(
        "ci-runner",
        _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        inline=[{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"{arn}:role/chain-hop"}],
    )
    roles["chain-hop"] = role(
        "chain-hop", trust_aws(roles["ci-runner"]),
        inline=[{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"{arn}:role/break-glass-admin"}],
    )
    roles["break-glass-admin"] = role(
        "break-glass-admin", trust_aws(roles["chain-hop"]),
        managed=["arn:aws:iam::aws:policy/AdministratorAccess"],
    )
    roles["processor-role"] = role(
        "processor-role",
        _doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        inline=[{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "dynamodb:PutItem"],
                 "Resource": "*"}],
    )
    if account == SECURITY:
        # Readable by any principal of the organization, by condition.
        roles["org-audit-readonly"] = role(
            "org-audit-readonly", trust_aws("*", {"StringEquals": {"aws:PrincipalOrgID": org_id}}),
            managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        )
    iam.create_user(UserName="legacy-ci", Path="/service/")
    iam.put_user_policy(UserName="legacy-ci", PolicyName="legacy",
                        PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    iam.create_access_key(UserName="legacy-ci")
    # Referenced by the DeveloperAccess permission set (customer managed
    # policy and permissions boundary): they must exist where it is provisioned.
    policies = {}
    policies["lp-dev-extra"] = iam.create_policy(
        PolicyName="lp-dev-extra",
        PolicyDocument=_doc({"Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
                             "Resource": "*"}),
    )["Policy"]["Arn"]
    policies["lp-sso-boundary"] = iam.create_policy(
        PolicyName="lp-sso-boundary",
        PolicyDocument=_doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
    )["Policy"]["Arn"]
    return {"oidc_provider": provider, "roles": roles, "users": {"legacy-ci": f"{arn}:user/service/legacy-ci"},
            "policies": policies}


def _prod_resources(c, account):
    """Resource policies in the prod account (us-east-1)."""
    out = {}
    root = f"arn:aws:iam::{account}:root"
    dev_root = f"arn:aws:iam::{DEV}:root"
    kms = c("kms")
    # A key policy that does not trust the account root: IAM policies cannot
    # grant use of this key (AWS requires BypassPolicyLockoutSafetyCheck).
    data_key = kms.create_key(
        Description="prod data (key policy names roles only)",
        BypassPolicyLockoutSafetyCheck=True,
        Policy=_doc(
            {"Sid": "KeyAdmin", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:role/break-glass-admin"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Use", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:role/processor-role"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ),
    )["KeyMetadata"]
    kms.create_alias(AliasName="alias/prod-data", TargetKeyId=data_key["KeyId"])
    secrets_key = kms.create_key(
        Description="prod secrets",
        Policy=_doc(
            {"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "DevDecryptViaSecretsManager", "Effect": "Allow", "Principal": {"AWS": dev_root},
             "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{ORG_REGION}.amazonaws.com"}}},
        ),
    )["KeyMetadata"]
    kms.create_alias(AliasName="alias/prod-secrets", TargetKeyId=secrets_key["KeyId"])
    out["kms_keys"] = {"prod-data": data_key["Arn"], "prod-secrets": secrets_key["Arn"]}

    sm = c("secretsmanager")
    db = sm.create_secret(Name="prod/db/credentials", SecretString='{"user":"app"}',
                          KmsKeyId=secrets_key["Arn"])["ARN"]
    sm.put_resource_policy(SecretId=db, ResourcePolicy=_doc(
        {"Sid": "DevReads", "Effect": "Allow", "Principal": {"AWS": dev_root},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}))
    api = sm.create_secret(Name="prod/api-key", SecretString="not-a-secret")["ARN"]
    out["secrets"] = {"prod/db/credentials": db, "prod/api-key": api}

    s3 = c("s3")
    data_bucket, artifacts = f"lp-prod-data-{account}", f"lp-artifacts-{account}"
    s3.create_bucket(Bucket=data_bucket)
    s3.put_bucket_policy(Bucket=data_bucket, Policy=_doc(
        {"Sid": "DevReads", "Effect": "Allow", "Principal": {"AWS": dev_root},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{data_bucket}", f"arn:aws:s3:::{data_bucket}/*"]},
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{data_bucket}", f"arn:aws:s3:::{data_bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    s3.put_bucket_encryption(Bucket=data_bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": data_key["Arn"]},
         "BucketKeyEnabled": True}]})
    s3.create_bucket(Bucket=artifacts)
    s3.put_bucket_encryption(Bucket=artifacts, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    out["buckets"] = {data_bucket: f"arn:aws:s3:::{data_bucket}", artifacts: f"arn:aws:s3:::{artifacts}"}

    ssm = c("ssm")
    ssm.put_parameter(Name="/prod/db/password", Value="not-a-secret", Type="SecureString",
                      KeyId="alias/prod-secrets")
    ssm.put_parameter(Name="/prod/api/token", Value="not-a-secret", Type="SecureString")
    ssm.put_parameter(Name="/prod/app/log-level", Value="info", Type="String")
    out["parameters"] = {
        n: f"arn:aws:ssm:{ORG_REGION}:{account}:parameter{n}"
        for n in ("/prod/db/password", "/prod/api/token", "/prod/app/log-level")
    }

    sns = c("sns")
    topic = sns.create_topic(Name="prod-alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=_doc(
        {"Sid": "DevPublishes", "Effect": "Allow", "Principal": {"AWS": dev_root},
         "Action": "sns:Publish", "Resource": topic}))
    out["topics"] = {"prod-alerts": topic}

    sqs = c("sqs")
    events_arn = f"arn:aws:sqs:{ORG_REGION}:{account}:prod-events"
    intake_arn = f"arn:aws:sqs:{ORG_REGION}:{account}:prod-intake"
    events = sqs.create_queue(QueueName="prod-events", Attributes={
        "KmsMasterKeyId": "alias/prod-data",
        "Policy": _doc({"Sid": "FromAlerts", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage", "Resource": events_arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}),
    })["QueueUrl"]
    intake = sqs.create_queue(QueueName="prod-intake", Attributes={
        "Policy": _doc({"Sid": "Anyone", "Effect": "Allow", "Principal": "*",
                        "Action": "sqs:SendMessage", "Resource": intake_arn}),
    })["QueueUrl"]
    out["queues"] = {"prod-events": {"url": events, "arn": events_arn},
                     "prod-intake": {"url": intake, "arn": intake_arn}}

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    lam = c("lambda")
    fn = lam.create_function(FunctionName="prod-processor", Runtime="python3.12",
                             Role=f"arn:aws:iam::{account}:role/processor-role",
                             Handler="index.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
    lam.add_permission(FunctionName="prod-processor", StatementId="FromDataBucket",
                       Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                       SourceArn=f"arn:aws:s3:::{data_bucket}", SourceAccount=account)
    lam.add_permission(FunctionName="prod-processor", StatementId="DevInvokes",
                       Action="lambda:InvokeFunction", Principal=DEV)
    out["functions"] = {"prod-processor": fn}

    ecr = c("ecr")
    repo = ecr.create_repository(repositoryName="prod/app")["repository"]["repositoryArn"]
    ecr.set_repository_policy(repositoryName="prod/app", policyText=_doc(
        {"Sid": "DevPulls", "Effect": "Allow", "Principal": {"AWS": dev_root},
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}))
    out["repositories"] = {"prod/app": repo}

    ddb = c("dynamodb")
    table = ddb.create_table(
        TableName="prod-orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )["TableDescription"]["TableArn"]
    ddb.put_resource_policy(ResourceArn=table, Policy=_doc(
        {"Sid": "DevDeployReads", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{DEV}:role/github-deploy"},
         "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": table}))
    out["tables"] = {"prod-orders": table}
    return out


def _dev_resources(c, account, org_id):
    sm = c("secretsmanager")
    shared = sm.create_secret(Name="dev/shared", SecretString="not-a-secret")["ARN"]
    sm.put_resource_policy(SecretId=shared, ResourcePolicy=_doc(
        {"Sid": "Organization", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}))
    bucket = f"lp-dev-scratch-{account}"
    s3 = c("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_doc(
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}))
    return {"secrets": {"dev/shared": shared}, "buckets": {bucket: f"arn:aws:s3:::{bucket}"}}


def _identity_center(c, out):
    """Users, groups, permission sets and account assignments (management account)."""
    sso, ids = c("sso-admin"), c("identitystore")
    instance = sso.list_instances()["Instances"][0]
    arn, store = instance["InstanceArn"], instance["IdentityStoreId"]
    users = {}
    for user, given, family in (("alice", "Alice", "Admin"), ("bob", "Bob", "Builder"), ("carol", "Carol", "Auditor")):
        users[user] = ids.create_user(
            IdentityStoreId=store, UserName=user, DisplayName=f"{given} {family}",
            Name={"GivenName": given, "FamilyName": family},
            Emails=[{"Value": f"{user}@example.com", "Type": "work", "Primary": True}],
        )["UserId"]
    groups = {}
    for group, members in (("Admins", ["alice"]), ("Developers", ["bob", "carol"]), ("Auditors", ["carol"])):
        groups[group] = ids.create_group(IdentityStoreId=store, DisplayName=group,
                                         Description=f"{group} of example.com")["GroupId"]
        for m in members:
            ids.create_group_membership(IdentityStoreId=store, GroupId=groups[group],
                                        MemberId={"UserId": users[m]})

    def permission_set(name, duration, description):
        return sso.create_permission_set(InstanceArn=arn, Name=name, Description=description,
                                         SessionDuration=duration)["PermissionSet"]["PermissionSetArn"]

    sets = {
        "AdministratorAccess": permission_set("AdministratorAccess", "PT1H", "Full access"),
        "ReadOnly": permission_set("ReadOnly", "PT8H", "Read-only access"),
        "DeveloperAccess": permission_set("DeveloperAccess", "PT4H", "Developers: inline policy, boundary"),
    }
    sso.attach_managed_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=sets["AdministratorAccess"],
                                                ManagedPolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    sso.attach_managed_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=sets["ReadOnly"],
                                                ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.put_inline_policy_to_permission_set(
        InstanceArn=arn, PermissionSetArn=sets["DeveloperAccess"],
        InlinePolicy=_doc(
            {"Effect": "Allow", "Action": ["lambda:*", "sqs:*", "dynamodb:*", "s3:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": f"arn:aws:secretsmanager:{ORG_REGION}:*:secret:dev/*"},
        ),
    )
    sso.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=arn, PermissionSetArn=sets["DeveloperAccess"],
        CustomerManagedPolicyReference={"Name": "lp-dev-extra", "Path": "/"})
    sso.put_permissions_boundary_to_permission_set(
        InstanceArn=arn, PermissionSetArn=sets["DeveloperAccess"],
        PermissionsBoundary={"CustomerManagedPolicyReference": {"Name": "lp-sso-boundary", "Path": "/"}})

    assignments = [
        ("GROUP", groups["Admins"], "AdministratorAccess", MANAGEMENT),
        ("GROUP", groups["Admins"], "AdministratorAccess", SECURITY),
        ("GROUP", groups["Developers"], "DeveloperAccess", PROD),
        ("GROUP", groups["Developers"], "DeveloperAccess", DEV),
        ("GROUP", groups["Auditors"], "ReadOnly", PROD),
        ("GROUP", groups["Auditors"], "ReadOnly", DEV),
        ("GROUP", groups["Auditors"], "ReadOnly", SECURITY),
        ("USER", users["alice"], "ReadOnly", PROD),
    ]
    for kind, principal, ps, account in assignments:
        sso.create_account_assignment(InstanceArn=arn, TargetId=account, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=sets[ps], PrincipalType=kind, PrincipalId=principal)
    out["sso"] = {
        "instance_arn": arn,
        "identity_store_id": store,
        "permission_sets": sets,
        "users": users,
        "groups": groups,
        "assignments": [
            {"principal_type": k, "principal_id": p, "permission_set": ps, "account": a}
            for k, p, ps, a in assignments
        ],
    }


def seed_org(endpoint, access_key=ORG_ACCESS_KEY):
    """Builds the "org" scenario on a fresh server; returns what it made.

    Root
    ├── 111111111111 management (FullAWSAccess, RCPFullAWSAccess)
    ├── Workloads OU (region-lockdown)
    │   ├── Prod OU (prod-guardrails) → 222222222222 prod
    │   └── Dev OU → 333333333333 dev
    └── Security OU (security-allow-list instead of FullAWSAccess)
        → 444444444444 security, delegated admin of sso and access-analyzer
    RCP deny-external-secret-access on the root.
    """
    # Random ids (organization, OUs, policies, instance, keys...) follow
    # moto's seeded generator, so the same calls make the same ids.
    _post(endpoint, "/moto-api/seed?a=20261020")
    _post(endpoint, "/moto-api/leastpriv/access-key",
          {"account_id": MANAGEMENT, "access_key_id": access_key, "user_name": "org-admin"})
    _post(endpoint, "/moto-api/leastpriv/account-ids", {"ids": [PROD, DEV, SECURITY]})
    mgmt = boto3.Session(aws_access_key_id=access_key, aws_secret_access_key=access_key,
                         region_name=ORG_REGION)

    def clients(sess):
        return lambda name: sess.client(name, endpoint_url=endpoint, region_name=ORG_REGION)

    c = clients(mgmt)
    caller = c("sts").get_caller_identity()
    assert caller["Account"] == MANAGEMENT, caller
    out = {"region": ORG_REGION, "management_account": MANAGEMENT, "access_key_id": access_key,
           "secret_access_key": access_key, "caller_arn": caller["Arn"]}
    _org_tree(c("organizations"), out)
    org_id = out["organization"]["id"]

    def member(account):
        creds = c("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="leastpriv-seed",
        )["Credentials"]
        return clients(boto3.Session(
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], region_name=ORG_REGION))

    members = {a: member(a) for a in (PROD, DEV, SECURITY)}
    out["iam"] = {a: _member_iam(m("iam"), a, org_id) for a, m in members.items()}
    out["resources"] = {PROD: _prod_resources(members[PROD], PROD),
                        DEV: _dev_resources(members[DEV], DEV, org_id)}
    _identity_center(c, out)
    # Last, so that every id above stays as it was.
    out["resources"][PROD]["parameters"].update(_shared_parameter(members[PROD], PROD))
    out["trail"] = _org_trail(c, org_id)
    return out


def _org_trail(c, org_id):
    """An organization trail in the management account: bucket
    lp-org-trail-111111111111, logs under AWSLogs/o-ORG/ACCOUNT/ for every
    account (one file each, 2026-10-20, inside the tests' window)."""
    bucket = f"lp-org-trail-{MANAGEMENT}"
    s3, ct = c("s3"), c("cloudtrail")
    s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name="org-trail", S3BucketName=bucket, IsMultiRegionTrail=True,
                    IsOrganizationTrail=True)

    def session(account, role, n, source, name):
        return {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"AROAEXAMPLE{role.upper().replace('-', '')}:s",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/s",
                "accountId": account,
                "sessionContext": {"sessionIssuer": {
                    "type": "Role", "arn": f"arn:aws:iam::{account}:role/{role}",
                    "userName": role, "accountId": account}},
            },
            "eventTime": f"2026-10-20T10:{n:02d}:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": ORG_REGION,
            "sourceIPAddress": "203.0.113.10",
            "requestParameters": {},
            "eventID": f"00000000-0000-4000-9000-{int(account) % 1000:03d}{n:09d}",
            "readOnly": True,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }

    keys = {}
    for account, records in (
        (PROD, [session(PROD, "processor-role", 1, "sqs.amazonaws.com", "ReceiveMessage")]),
        (DEV, [session(DEV, "chain-hop", 2, "sts.amazonaws.com", "AssumeRole")]),
        (SECURITY, [session(SECURITY, "org-audit-readonly", 3, "iam.amazonaws.com", "ListRoles")]),
        (MANAGEMENT, [session(MANAGEMENT, "OrganizationAccountAccessRole", 4, "organizations.amazonaws.com",
                              "ListAccounts")]),
    ):
        body = io.BytesIO()
        with gzip.GzipFile(fileobj=body, mode="wb", mtime=0) as gz:
            gz.write(json.dumps({"Records": records}).encode())
        key = (f"AWSLogs/{org_id}/{account}/CloudTrail/{ORG_REGION}/2026/10/20/"
               f"{account}_CloudTrail_{ORG_REGION}_20261020T1000Z_org.json.gz")
        s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue())
        keys[account] = key
    return {"bucket": bucket, "keys": keys}


def _shared_parameter(c, account):
    """An advanced-tier parameter with a resource policy (as AWS RAM sharing
    leaves it): the dev account may read it."""
    ssm = c("ssm")
    name = "/prod/shared/endpoint"
    ssm.put_parameter(Name=name, Value="https://api.example.com", Type="String", Tier="Advanced")
    arn = f"arn:aws:ssm:{ORG_REGION}:{account}:parameter{name}"
    ssm.put_resource_policy(ResourceArn=arn, Policy=_doc(
        {"Sid": "DevReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
         "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": arn}))
    return {name: arn}


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[2] == "--scenario":
    if sys.argv[3:4] != ["org"]:
        sys.exit(f"unknown scenario {sys.argv[3:4]}; known: org")
    key = sys.argv[5] if sys.argv[4:5] == ["--access-key"] and len(sys.argv) > 5 else ORG_ACCESS_KEY
    print(json.dumps(seed_org(sys.argv[1], key), sort_keys=True))
    sys.exit(0)


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
