"""Smoke test of the "org" scenario: the calls the Rust pull will make.

Starts tests/support/moto_leastpriv.py as tests/common/moto.rs does (port 0,
a port file, --parent-pid), seeds `seed.py URL --scenario org`, and calls
every API the pull relies on with boto3, from the management account and from
sessions assumed into member accounts, checking the shapes the Rust side
reads. Run it with the virtualenv's python:

    /var/tmp/leastpriv-venv/bin/python tests/support/test_org_smoke.py

It prints one line per check and `N passed, N failed`; it exits non-zero on
any failure. Nothing but 127.0.0.1 is contacted.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
MANAGEMENT, PROD, DEV, SECURITY = "111111111111", "222222222222", "333333333333", "444444444444"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def start_server(tmp):
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "moto.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "moto_leastpriv.py"), "--port", "0",
         "--port-file", port_file, "--parent-pid", str(os.getpid())],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    deadline = time.monotonic() + 60
    while not os.path.exists(port_file):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            sys.exit("moto did not start:\n" + open(os.path.join(tmp, "moto.log")).read())
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{open(port_file).read().strip()}"


def seed(url):
    out = subprocess.run([sys.executable, os.path.join(HERE, "seed.py"), url, "--scenario", "org"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("seeding failed:\n" + out.stderr)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, "seed.py --scenario org prints one line"
    return json.loads(lines[0])


# Output members the service model marks required, found missing or null:
# the Rust SDK fails to build such a response ("... was not specified but it
# is required"), so every response here is checked against the model.
MISSING: list = []


def _required(shape, value, path, op):
    if value is None:
        return
    kind = shape.type_name
    if kind == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                MISSING.append(f"{op}: {path}.{name}")
        for name, member in shape.members.items():
            if name in value:
                _required(member, value[name], f"{path}.{name}", op)
    elif kind == "list":
        for i, v in enumerate(value):
            _required(shape.member, v, f"{path}[{i}]", op)
    elif kind == "map":
        for k, v in value.items():
            _required(shape.value, v, f"{path}[{k}]", op)


def _check_required(http_response, parsed, model, **kwargs):
    if model.output_shape is not None and http_response.status_code < 300:
        _required(model.output_shape, parsed, model.name, f"{model.service_model.service_name}:{model.name}")


class Env:
    def __init__(self, url, seeded):
        self.url, self.s = url, seeded
        self.mgmt = boto3.Session(aws_access_key_id=seeded["access_key_id"],
                                  aws_secret_access_key=seeded["secret_access_key"], region_name=REGION)
        self._members = {}

    def client(self, session, name):
        c = session.client(name, endpoint_url=self.url, region_name=REGION)
        c.meta.events.register("after-call", _check_required)
        return c

    def m(self, name):
        return self.client(self.mgmt, name)

    def member(self, account, role="OrganizationAccountAccessRole"):
        key = (account, role)
        if key not in self._members:
            creds = self.m("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                              RoleSessionName="leastpriv-pull")["Credentials"]
            self._members[key] = boto3.Session(
                aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], region_name=REGION)
        return self._members[key]

    def a(self, account, name):
        return self.client(self.member(account), name)


def pages(client, op, key, **kwargs):
    out = []
    for page in client.get_paginator(op).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def error_code(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


# --- Organizations ------------------------------------------------------------


@check
def organization(e):
    org = e.m("organizations")
    o = org.describe_organization()["Organization"]
    assert o["Id"] == e.s["organization"]["id"] and o["MasterAccountId"] == MANAGEMENT
    assert o["FeatureSet"] == "ALL" and o["Arn"].startswith(f"arn:aws:organizations::{MANAGEMENT}:organization/o-")
    roots = org.list_roots()["Roots"]
    assert [r["Id"] for r in roots] == [e.s["organization"]["root_id"]]
    types = {(t["Type"], t["Status"]) for t in roots[0]["PolicyTypes"]}
    assert types == {("SERVICE_CONTROL_POLICY", "ENABLED"), ("RESOURCE_CONTROL_POLICY", "ENABLED")}, types
    # A member account sees the same organization, but may read its structure
    # only as a delegated administrator.
    assert e.a(PROD, "organizations").describe_organization()["Organization"]["Id"] == o["Id"]
    assert error_code(e.a(PROD, "organizations").list_accounts) == "AccessDeniedException"
    assert error_code(e.a(DEV, "organizations").list_roots) == "AccessDeniedException"
    seen = pages(e.a(SECURITY, "organizations"), "list_accounts", "Accounts")
    assert sorted(a["Id"] for a in seen) == [MANAGEMENT, PROD, DEV, SECURITY]


@check
def ou_tree_recursive(e):
    org = e.m("organizations")
    tree = {}

    def walk(parent, path):
        ous = pages(org, "list_organizational_units_for_parent", "OrganizationalUnits",
                    ParentId=parent, PaginationConfig={"PageSize": 1})
        accounts = pages(org, "list_accounts_for_parent", "Accounts", ParentId=parent,
                         PaginationConfig={"PageSize": 1})
        tree[path] = sorted(a["Id"] for a in accounts)
        for ou in ous:
            assert ou["Id"].startswith("ou-") and ou["Arn"].endswith(ou["Id"])
            walk(ou["Id"], f"{path}/{ou['Name']}")

    walk(e.s["organization"]["root_id"], "Root")
    assert tree == {
        "Root": [MANAGEMENT], "Root/Workloads": [], "Root/Workloads/Prod": [PROD],
        "Root/Workloads/Dev": [DEV], "Root/Security": [SECURITY],
    }, tree


@check
def accounts(e):
    org = e.m("organizations")
    accounts = pages(org, "list_accounts", "Accounts", PaginationConfig={"PageSize": 1})
    assert sorted(a["Id"] for a in accounts) == [MANAGEMENT, PROD, DEV, SECURITY]
    for a in accounts:
        assert {"Id", "Arn", "Email", "Name", "Status", "JoinedMethod", "JoinedTimestamp"} <= set(a), a
        assert a["Status"] == "ACTIVE" and a["Arn"].endswith("/" + a["Id"])
    names = {a["Id"]: a["Name"] for a in accounts}
    assert names[PROD] == "prod" and names[SECURITY] == "security"


@check
def parents(e):
    org = e.m("organizations")
    ous = e.s["ous"]
    assert org.list_parents(ChildId=PROD)["Parents"] == [{"Id": ous["Prod"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=ous["Prod"])["Parents"] == [{"Id": ous["Workloads"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=ous["Workloads"])["Parents"] == [
        {"Id": e.s["organization"]["root_id"], "Type": "ROOT"}]
    assert org.list_parents(ChildId=MANAGEMENT)["Parents"][0]["Type"] == "ROOT"


def _content(org, policy_id):
    p = org.describe_policy(PolicyId=policy_id)["Policy"]
    return p["PolicySummary"], json.loads(p["Content"])


@check
def service_control_policies(e):
    org = e.m("organizations")
    scps = pages(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY")
    by_name = {p["Name"]: p for p in scps}
    assert set(by_name) == {"FullAWSAccess", "prod-guardrails", "region-lockdown", "security-allow-list"}
    assert by_name["FullAWSAccess"]["AwsManaged"] is True and by_name["FullAWSAccess"]["Id"] == "p-FullAWSAccess"
    assert by_name["prod-guardrails"]["AwsManaged"] is False
    summary, doc = _content(org, "p-FullAWSAccess")
    assert doc["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    _, doc = _content(org, by_name["prod-guardrails"]["Id"])
    denied = {s["Action"] for s in doc["Statement"] if s["Effect"] == "Deny"}
    assert denied == {"secretsmanager:DeleteSecret", "iam:CreateUser"}
    _, doc = _content(org, by_name["region-lockdown"]["Id"])
    assert "aws:RequestedRegion" in doc["Statement"][0]["Condition"]["StringNotEquals"]

    def targets(pid):
        return {(t["TargetId"], t["Type"]) for t in
                pages(org, "list_targets_for_policy", "Targets", PolicyId=pid)}

    ous, root = e.s["ous"], e.s["organization"]["root_id"]
    full = targets("p-FullAWSAccess")
    # On the root, every OU but Security, every account (as AWS attaches it).
    assert (root, "ROOT") in full and (ous["Security"], "ORGANIZATIONAL_UNIT") not in full
    assert {(a, "ACCOUNT") for a in (MANAGEMENT, PROD, DEV, SECURITY)} <= full
    assert targets(by_name["security-allow-list"]["Id"]) == {(ous["Security"], "ORGANIZATIONAL_UNIT")}
    assert targets(by_name["prod-guardrails"]["Id"]) == {(ous["Prod"], "ORGANIZATIONAL_UNIT")}
    assert targets(by_name["region-lockdown"]["Id"]) == {(ous["Workloads"], "ORGANIZATIONAL_UNIT")}
    on_prod = pages(org, "list_policies_for_target", "Policies", TargetId=ous["Prod"],
                    Filter="SERVICE_CONTROL_POLICY")
    assert {p["Name"] for p in on_prod} == {"FullAWSAccess", "prod-guardrails"}


@check
def resource_control_policies(e):
    org = e.m("organizations")
    rcps = pages(org, "list_policies", "Policies", Filter="RESOURCE_CONTROL_POLICY")
    by_name = {p["Name"]: p for p in rcps}
    assert set(by_name) == {"RCPFullAWSAccess", "deny-external-secret-access"}
    assert by_name["RCPFullAWSAccess"]["AwsManaged"] is True
    summary, doc = _content(org, by_name["deny-external-secret-access"]["Id"])
    assert summary["Type"] == "RESOURCE_CONTROL_POLICY" and "/resource_control_policy/" in summary["Arn"]
    st = doc["Statement"][0]
    assert st["Principal"] == "*" and st["Effect"] == "Deny"
    assert st["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == e.s["organization"]["id"]
    root = e.s["organization"]["root_id"]
    for pid in (by_name["RCPFullAWSAccess"]["Id"], by_name["deny-external-secret-access"]["Id"]):
        targets = {t["TargetId"] for t in pages(org, "list_targets_for_policy", "Targets", PolicyId=pid)}
        assert root in targets, (pid, targets)


@check
def delegated_administrators(e):
    org = e.m("organizations")
    admins = pages(org, "list_delegated_administrators", "DelegatedAdministrators")
    assert [a["Id"] for a in admins] == [SECURITY]
    assert {"Id", "Arn", "Name", "Email", "Status", "DelegationEnabledDate"} <= set(admins[0])
    sso = org.list_delegated_administrators(ServicePrincipal="sso.amazonaws.com")["DelegatedAdministrators"]
    assert [a["Id"] for a in sso] == [SECURITY]
    services = {s["ServicePrincipal"] for s in
                org.list_delegated_services_for_account(AccountId=SECURITY)["DelegatedServices"]}
    assert services == {"sso.amazonaws.com", "access-analyzer.amazonaws.com"}


# --- Cross-account ----------------------------------------------------------


@check
def credentials_map_to_accounts(e):
    me = e.m("sts").get_caller_identity()
    assert me["Account"] == MANAGEMENT and me["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/org-admin"
    for account in (PROD, DEV, SECURITY):
        who = e.client(e.member(account), "sts").get_caller_identity()
        assert who["Account"] == account
        assert who["Arn"] == f"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/leastpriv-pull"
    # Another role name works the same way (moto does not evaluate trust policies).
    other = e.client(e.member(DEV, "vendor-audit"), "sts").get_caller_identity()
    assert other["Account"] == DEV and "/vendor-audit/" in other["Arn"]


@check
def roles_are_per_account(e):
    marker = "only-in-222"
    e.a(PROD, "iam").create_role(RoleName=marker, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    try:
        assert e.a(PROD, "iam").get_role(RoleName=marker)["Role"]["Arn"] == f"arn:aws:iam::{PROD}:role/{marker}"
        assert error_code(e.a(DEV, "iam").get_role, RoleName=marker) == "NoSuchEntity"
        assert error_code(e.m("iam").get_role, RoleName=marker) == "NoSuchEntity"
    finally:
        e.a(PROD, "iam").delete_role(RoleName=marker)


def _gaad(iam):
    out = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    pages_seen = 0
    for page in iam.get_paginator("get_account_authorization_details").paginate(
            PaginationConfig={"PageSize": 5}):
        pages_seen += 1
        for k in out:
            out[k].extend(page.get(k, []))
    return out, pages_seen


@check
def authorization_details_per_account(e):
    roles = {}
    for account in (PROD, DEV, SECURITY):
        details, n = _gaad(e.a(account, "iam"))
        assert n > 1, "paged by MaxItems"
        names = {r["RoleName"]: r for r in details["RoleDetailList"]}
        roles[account] = names
        assert all(r["Arn"].startswith(f"arn:aws:iam::{account}:") for r in details["RoleDetailList"])
        oaar = names["OrganizationAccountAccessRole"]
        trust = oaar["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}
        assert [p["PolicyArn"] for p in oaar["AttachedManagedPolicies"]] == [ADMIN]
        policies = {p["Arn"] for p in details["Policies"]}
        assert ADMIN in policies and f"arn:aws:iam::{account}:policy/lp-sso-boundary" in policies
        assert [u["UserName"] for u in details["UserDetailList"]] == ["legacy-ci"]
    assert "org-audit-readonly" in roles[SECURITY] and "org-audit-readonly" not in roles[PROD]
    gh = roles[PROD]["github-deploy"]["AssumeRolePolicyDocument"]
    gh = json.loads(gh) if isinstance(gh, str) else gh
    cond = gh["Statement"][0]["Condition"]
    assert cond["StringEquals"]["token.actions.githubusercontent.com:sub"] == "repo:example-org/app:ref:refs/heads/main"
    anyrepo = roles[PROD]["github-any"]["AssumeRolePolicyDocument"]
    anyrepo = json.loads(anyrepo) if isinstance(anyrepo, str) else anyrepo
    assert anyrepo["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"] == "repo:example-org/*"
    # The management account's own IAM: the auditor user and the provisioned admin role.
    details, _ = _gaad(e.m("iam"))
    assert [u["UserName"] for u in details["UserDetailList"]] == ["org-admin"]
    assert any(r["RoleName"].startswith("AWSReservedSSO_AdministratorAccess_") for r in details["RoleDetailList"])


@check
def identity_center_roles_in_accounts(e):
    iam = e.a(PROD, "iam")
    roles = pages(iam, "list_roles", "Roles", PathPrefix="/aws-reserved/sso.amazonaws.com/")
    names = sorted(r["RoleName"].rsplit("_", 1)[0] for r in roles)
    assert names == ["AWSReservedSSO_DeveloperAccess", "AWSReservedSSO_ReadOnly"], names
    dev = next(r for r in roles if r["RoleName"].startswith("AWSReservedSSO_DeveloperAccess_"))
    role = iam.get_role(RoleName=dev["RoleName"])["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == f"arn:aws:iam::{PROD}:policy/lp-sso-boundary"
    trust = role["AssumeRolePolicyDocument"]
    principal = trust["Statement"][0]["Principal"]["Federated"]
    assert principal.startswith(f"arn:aws:iam::{PROD}:saml-provider/AWSSSO_") and principal.endswith("_DO_NOT_DELETE")
    assert iam.list_role_policies(RoleName=dev["RoleName"])["PolicyNames"] == ["AwsSSOInlinePolicy"]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=dev["RoleName"])["AttachedPolicies"]]
    assert attached == [f"arn:aws:iam::{PROD}:policy/lp-dev-extra"]
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [principal]


# --- IAM Identity Center ----------------------------------------------------


def _instance(e):
    instances = e.m("sso-admin").list_instances()["Instances"]
    assert len(instances) == 1
    return instances[0]


@check
def sso_instances(e):
    i = _instance(e)
    assert i["InstanceArn"] == e.s["sso"]["instance_arn"] and i["IdentityStoreId"] == e.s["sso"]["identity_store_id"]
    assert i["OwnerAccountId"] == MANAGEMENT and i["Status"] == "ACTIVE"
    assert i["InstanceArn"].startswith("arn:aws:sso:::instance/ssoins-")
    # A member account sees none; the delegated administrator sees the organization's.
    assert e.a(PROD, "sso-admin").list_instances()["Instances"] == []
    seen = e.a(SECURITY, "sso-admin").list_instances()["Instances"]
    assert [x["InstanceArn"] for x in seen] == [i["InstanceArn"]]
    sets = pages(e.a(SECURITY, "sso-admin"), "list_permission_sets", "PermissionSets", InstanceArn=i["InstanceArn"])
    assert len(sets) == 3


@check
def permission_sets(e):
    sso, arn = e.m("sso-admin"), e.s["sso"]["instance_arn"]
    sets = pages(sso, "list_permission_sets", "PermissionSets", InstanceArn=arn, PaginationConfig={"PageSize": 1})
    assert sorted(sets) == sorted(e.s["sso"]["permission_sets"].values())
    described = {}
    for ps in sets:
        d = sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=ps)["PermissionSet"]
        assert d["PermissionSetArn"] == ps and d["PermissionSetArn"].startswith(arn + "/ps-")
        described[d["Name"]] = d
    assert {n: d["SessionDuration"] for n, d in described.items()} == {
        "AdministratorAccess": "PT1H", "ReadOnly": "PT8H", "DeveloperAccess": "PT4H"}
    ps = e.s["sso"]["permission_sets"]
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=ps["DeveloperAccess"])
    assert json.loads(inline["InlinePolicy"])["Statement"][0]["Action"] == ["lambda:*", "sqs:*", "dynamodb:*", "s3:*"]
    empty = sso.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=ps["ReadOnly"])
    assert empty.get("InlinePolicy", "") == ""
    managed = pages(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                    InstanceArn=arn, PermissionSetArn=ps["AdministratorAccess"])
    assert managed == [{"Name": "AdministratorAccess", "Arn": ADMIN}]
    assert pages(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                 InstanceArn=arn, PermissionSetArn=ps["DeveloperAccess"]) == []
    refs = pages(sso, "list_customer_managed_policy_references_in_permission_set",
                 "CustomerManagedPolicyReferences", InstanceArn=arn, PermissionSetArn=ps["DeveloperAccess"])
    assert refs == [{"Name": "lp-dev-extra", "Path": "/"}]
    boundary = sso.get_permissions_boundary_for_permission_set(InstanceArn=arn, PermissionSetArn=ps["DeveloperAccess"])
    assert boundary["PermissionsBoundary"] == {"CustomerManagedPolicyReference": {"Name": "lp-sso-boundary", "Path": "/"}}
    assert error_code(sso.get_permissions_boundary_for_permission_set, InstanceArn=arn,
                      PermissionSetArn=ps["ReadOnly"]) == "ResourceNotFoundException"


@check
def account_assignments(e):
    sso, arn = e.m("sso-admin"), e.s["sso"]["instance_arn"]
    ps = e.s["sso"]["permission_sets"]
    want = {(a["account"], ps[a["permission_set"]], a["principal_type"], a["principal_id"])
            for a in e.s["sso"]["assignments"]}
    got = set()
    for account in (MANAGEMENT, PROD, DEV, SECURITY):
        for ps_arn in ps.values():
            for a in pages(sso, "list_account_assignments", "AccountAssignments", InstanceArn=arn,
                           AccountId=account, PermissionSetArn=ps_arn, PaginationConfig={"PageSize": 1}):
                assert set(a) == {"AccountId", "PermissionSetArn", "PrincipalType", "PrincipalId"}, a
                got.add((a["AccountId"], a["PermissionSetArn"], a["PrincipalType"], a["PrincipalId"]))
    assert got == want, got ^ want


@check
def provisioned_permission_sets(e):
    sso, arn = e.m("sso-admin"), e.s["sso"]["instance_arn"]
    ps = e.s["sso"]["permission_sets"]

    def accounts(name):
        return sorted(pages(sso, "list_accounts_for_provisioned_permission_set", "AccountIds", InstanceArn=arn,
                            PermissionSetArn=ps[name], PaginationConfig={"PageSize": 1}))

    assert accounts("AdministratorAccess") == [MANAGEMENT, SECURITY]
    assert accounts("DeveloperAccess") == [PROD, DEV]
    assert accounts("ReadOnly") == [PROD, DEV, SECURITY]
    to_prod = pages(sso, "list_permission_sets_provisioned_to_account", "PermissionSets", InstanceArn=arn,
                    AccountId=PROD)
    assert sorted(to_prod) == sorted([ps["DeveloperAccess"], ps["ReadOnly"]])
    assert pages(sso, "list_permission_sets_provisioned_to_account", "PermissionSets", InstanceArn=arn,
                 AccountId="555555555555") == []


@check
def identity_store(e):
    ids, store = e.m("identitystore"), e.s["sso"]["identity_store_id"]
    users = pages(ids, "list_users", "Users", IdentityStoreId=store, PaginationConfig={"PageSize": 1})
    assert sorted(u["UserName"] for u in users) == ["alice", "bob", "carol"]
    for u in users:
        assert u["IdentityStoreId"] == store and u["UserId"] == e.s["sso"]["users"][u["UserName"]]
        assert u["Emails"][0]["Value"] == f"{u['UserName']}@example.com"
    groups = pages(ids, "list_groups", "Groups", IdentityStoreId=store)
    assert sorted(g["DisplayName"] for g in groups) == ["Admins", "Auditors", "Developers"]
    members = {}
    for g in groups:
        ms = pages(ids, "list_group_memberships", "GroupMemberships", IdentityStoreId=store, GroupId=g["GroupId"])
        for m in ms:
            assert m["GroupId"] == g["GroupId"] and m["MembershipId"]
        members[g["DisplayName"]] = sorted(m["MemberId"]["UserId"] for m in ms)
    u = e.s["sso"]["users"]
    assert members == {"Admins": [u["alice"]], "Developers": sorted([u["bob"], u["carol"]]),
                       "Auditors": [u["carol"]]}
    alice = ids.describe_user(IdentityStoreId=store, UserId=u["alice"])
    assert alice["UserName"] == "alice" and alice["DisplayName"] == "Alice Admin"
    assert alice["Name"]["GivenName"] == "Alice"


# --- Resource policies (prod account, through an assumed session) ------------


def _res(e, account=PROD):
    return e.s["resources"][account]


@check
def secrets_manager(e):
    sm, r = e.a(PROD, "secretsmanager"), _res(e)
    secrets = pages(sm, "list_secrets", "SecretList")
    assert sorted(s["Name"] for s in secrets) == ["prod/api-key", "prod/db/credentials"]
    db = sm.describe_secret(SecretId=r["secrets"]["prod/db/credentials"])
    assert db["ARN"] == r["secrets"]["prod/db/credentials"] and db["KmsKeyId"] == r["kms_keys"]["prod-secrets"]
    assert "KmsKeyId" not in sm.describe_secret(SecretId=r["secrets"]["prod/api-key"])
    pol = sm.get_resource_policy(SecretId=r["secrets"]["prod/db/credentials"])
    assert pol["ARN"] == r["secrets"]["prod/db/credentials"] and pol["Name"] == "prod/db/credentials"
    assert json.loads(pol["ResourcePolicy"])["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=r["secrets"]["prod/api-key"])
    # Each account sees its own secrets only.
    dev = pages(e.a(DEV, "secretsmanager"), "list_secrets", "SecretList")
    assert [s["Name"] for s in dev] == ["dev/shared"]
    assert pages(e.m("secretsmanager"), "list_secrets", "SecretList") == []
    shared = json.loads(e.a(DEV, "secretsmanager").get_resource_policy(SecretId="dev/shared")["ResourcePolicy"])
    assert shared["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == e.s["organization"]["id"]


@check
def kms(e):
    kms, r = e.a(PROD, "kms"), _res(e)
    keys = {k["KeyArn"] for k in pages(kms, "list_keys", "Keys")}
    assert set(r["kms_keys"].values()) <= keys
    aliases = {a["AliasName"]: a for a in pages(kms, "list_aliases", "Aliases")}
    data_id = r["kms_keys"]["prod-data"].rsplit("/", 1)[1]
    assert aliases["alias/prod-data"]["TargetKeyId"] == data_id
    assert aliases["alias/prod-data"]["AliasArn"] == f"arn:aws:kms:{REGION}:{PROD}:alias/prod-data"
    # Predefined aliases name a key only once it exists.
    assert "TargetKeyId" not in aliases["alias/aws/acm"]
    for a in aliases.values():
        if "TargetKeyId" in a:
            kms.describe_key(KeyId=a["TargetKeyId"])
    md = kms.describe_key(KeyId=r["kms_keys"]["prod-data"])["KeyMetadata"]
    assert md["Arn"] == r["kms_keys"]["prod-data"] and md["KeyManager"] == "CUSTOMER" and md["AWSAccountId"] == PROD
    # PolicyName is optional (defaults to "default").
    locked = json.loads(kms.get_key_policy(KeyId=data_id)["Policy"])
    principals = [s["Principal"]["AWS"] for s in locked["Statement"]]
    assert f"arn:aws:iam::{PROD}:root" not in principals and len(principals) == 2
    normal = json.loads(kms.get_key_policy(KeyId=r["kms_keys"]["prod-secrets"], PolicyName="default")["Policy"])
    assert normal["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}


@check
def s3(e):
    s3, r = e.a(PROD, "s3"), _res(e)
    names = [b["Name"] for b in pages(s3, "list_buckets", "Buckets", PaginationConfig={"PageSize": 1})]
    assert names == sorted(r["buckets"]), names
    data = f"lp-prod-data-{PROD}"
    pol = json.loads(s3.get_bucket_policy(Bucket=data)["Policy"])
    assert pol["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    enc = s3.get_bucket_encryption(Bucket=data)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                         "KMSMasterKeyID": r["kms_keys"]["prod-data"]}
    assert error_code(s3.get_bucket_policy, Bucket=f"lp-artifacts-{PROD}") == "NoSuchBucketPolicy"
    aes = s3.get_bucket_encryption(Bucket=f"lp-artifacts-{PROD}")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert aes["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    dev_names = [b["Name"] for b in e.a(DEV, "s3").list_buckets()["Buckets"]]
    assert dev_names == [f"lp-dev-scratch-{DEV}"], dev_names
    # No configuration of its own: SSE-S3, as every bucket since 2023.
    default = e.a(DEV, "s3").get_bucket_encryption(Bucket=dev_names[0])["ServerSideEncryptionConfiguration"]
    assert default["Rules"] == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]


@check
def ssm(e):
    params = pages(e.a(PROD, "ssm"), "describe_parameters", "Parameters")
    by_name = {p["Name"]: p for p in params}
    assert set(by_name) == {"/prod/db/password", "/prod/api/token", "/prod/app/log-level", "/prod/shared/endpoint"}
    assert by_name["/prod/db/password"]["Type"] == "SecureString"
    assert by_name["/prod/db/password"]["KeyId"] == "alias/prod-secrets"
    assert by_name["/prod/api/token"]["KeyId"] == "alias/aws/ssm"
    assert "KeyId" not in by_name["/prod/app/log-level"]
    # Only the advanced-tier parameter has a resource policy.
    assert by_name["/prod/shared/endpoint"]["Tier"] == "Advanced"
    shared = e.s["resources"][PROD]["parameters"]["/prod/shared/endpoint"]
    pols = e.a(PROD, "ssm").get_resource_policies(ResourceArn=shared)["Policies"]
    assert len(pols) == 1 and json.loads(pols[0]["Policy"])["Statement"][0]["Sid"] == "DevReads"


@check
def lambda_functions(e):
    lam, r = e.a(PROD, "lambda"), _res(e)
    fns = pages(lam, "list_functions", "Functions")
    assert [f["FunctionArn"] for f in fns] == [r["functions"]["prod-processor"]]
    assert fns[0]["Role"] == f"arn:aws:iam::{PROD}:role/processor-role"
    pol = json.loads(lam.get_policy(FunctionName="prod-processor")["Policy"])
    by_sid = {s["Sid"]: s for s in pol["Statement"]}
    assert by_sid["DevInvokes"]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    assert by_sid["FromDataBucket"]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert by_sid["FromDataBucket"]["Condition"]["StringEquals"]["AWS:SourceAccount"] == PROD
    assert by_sid["DevInvokes"]["Resource"] == r["functions"]["prod-processor"]


@check
def sqs(e):
    sqs, r = e.a(PROD, "sqs"), _res(e)
    urls = sqs.list_queues().get("QueueUrls", [])
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == ["prod-events", "prod-intake"]
    attrs = sqs.get_queue_attributes(QueueUrl=r["queues"]["prod-events"]["url"],
                                     AttributeNames=["Policy", "KmsMasterKeyId", "QueueArn"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == "alias/prod-data" and attrs["QueueArn"] == r["queues"]["prod-events"]["arn"]
    assert json.loads(attrs["Policy"])["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == r["topics"]["prod-alerts"]
    open_q = sqs.get_queue_attributes(QueueUrl=r["queues"]["prod-intake"]["url"],
                                      AttributeNames=["Policy", "KmsMasterKeyId"])["Attributes"]
    assert json.loads(open_q["Policy"])["Statement"][0]["Principal"] == "*" and "KmsMasterKeyId" not in open_q
    assert "QueueUrls" not in e.a(SECURITY, "sqs").list_queues()


@check
def sns(e):
    sns, r = e.a(PROD, "sns"), _res(e)
    topics = [t["TopicArn"] for t in pages(sns, "list_topics", "Topics")]
    assert topics == [r["topics"]["prod-alerts"]]
    attrs = sns.get_topic_attributes(TopicArn=topics[0])["Attributes"]
    assert attrs["KmsMasterKeyId"] == "alias/aws/sns"
    assert json.loads(attrs["Policy"])["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}


@check
def ecr(e):
    ecr, r = e.a(PROD, "ecr"), _res(e)
    repos = pages(ecr, "describe_repositories", "repositories")
    assert [x["repositoryArn"] for x in repos] == [r["repositories"]["prod/app"]]
    assert repos[0]["registryId"] == PROD and repos[0]["repositoryName"] == "prod/app"
    pol = ecr.get_repository_policy(repositoryName="prod/app")
    assert pol["registryId"] == PROD and pol["repositoryName"] == "prod/app"
    assert json.loads(pol["policyText"])["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}


@check
def dynamodb(e):
    ddb, r = e.a(PROD, "dynamodb"), _res(e)
    assert pages(ddb, "list_tables", "TableNames") == ["prod-orders"]
    pol = ddb.get_resource_policy(ResourceArn=r["tables"]["prod-orders"])
    assert pol["RevisionId"]
    doc = json.loads(pol["Policy"])
    assert doc["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:role/github-deploy"}


# --- Last, as they change the organization ------------------------------------


@check
def reprovisioning(e):
    sso, arn = e.m("sso-admin"), e.s["sso"]["instance_arn"]
    ps = e.s["sso"]["permission_sets"]["DeveloperAccess"]
    sso.put_inline_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=ps, InlinePolicy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    sso.delete_permissions_boundary_from_permission_set(InstanceArn=arn, PermissionSetArn=ps)
    assert error_code(sso.get_permissions_boundary_for_permission_set, InstanceArn=arn,
                      PermissionSetArn=ps) == "ResourceNotFoundException"
    status = sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps,
                                          TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
    assert status["Status"] == "SUCCEEDED" and "AccountId" not in status
    for account in (PROD, DEV):
        iam = e.a(account, "iam")
        role = next(r for r in pages(iam, "list_roles", "Roles", PathPrefix="/aws-reserved/sso.amazonaws.com/")
                    if r["RoleName"].startswith("AWSReservedSSO_DeveloperAccess_"))
        role = iam.get_role(RoleName=role["RoleName"])["Role"]
        assert "PermissionsBoundary" not in role
        doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="AwsSSOInlinePolicy")["PolicyDocument"]
        assert doc["Statement"][0]["Action"] == "s3:GetObject"
    status = sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps, TargetType="AWS_ACCOUNT",
                                          TargetId=SECURITY)["PermissionSetProvisioningStatus"]
    assert status["AccountId"] == SECURITY
    assert sorted(pages(sso, "list_accounts_for_provisioned_permission_set", "AccountIds", InstanceArn=arn,
                        PermissionSetArn=ps)) == [PROD, DEV, SECURITY]


@check
def create_account_ids(e):
    org = e.m("organizations")
    req = urllib.request.Request(f"{e.url}/moto-api/leastpriv/account-ids",
                                 data=json.dumps({"ids": ["555555555555"]}).encode(), method="POST")
    urllib.request.urlopen(req).read()
    fixed = org.create_account(AccountName="sandbox", Email="sandbox@example.com")["CreateAccountStatus"]
    assert fixed["State"] == "SUCCEEDED" and fixed["AccountId"] == "555555555555"
    drawn = org.create_account(AccountName="scratch", Email="scratch@example.com",
                               RoleName="Admin")["CreateAccountStatus"]["AccountId"]
    assert len(drawn) == 12 and drawn.isdigit() and drawn not in (MANAGEMENT, PROD, DEV, SECURITY, "555555555555")
    for account, role in (("555555555555", "OrganizationAccountAccessRole"), (drawn, "Admin")):
        iam = e.client(e.member(account, role), "iam")
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [ADMIN]
    root = e.s["organization"]["root_id"]
    new = {a["Id"] for a in pages(org, "list_accounts_for_parent", "Accounts", ParentId=root)}
    assert new == {MANAGEMENT, "555555555555", drawn}


@check
def required_output_members(e):
    assert not MISSING, "required members missing:\n" + "\n".join(sorted(set(MISSING)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(tmp)
        try:
            started = time.monotonic()
            env = Env(url, seed(url))
            print(f"seeded in {time.monotonic() - started:.1f} s")
            passed = failed = 0
            for fn in CHECKS:
                try:
                    fn(env)
                    passed += 1
                    print(f"ok   {fn.__name__}")
                except Exception:
                    failed += 1
                    print(f"FAIL {fn.__name__}")
                    traceback.print_exc(file=sys.stdout)
            print(f"{passed} passed, {failed} failed")
            return 1 if failed else 0
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
