"""moto server, plus what leastpriv's tests need and moto 5 lacks.

Started by the Rust tests (tests/common/moto.rs) on 127.0.0.1 and a free
port. It adds, without touching the Rust side's SDK clients:

* CloudTrail `LookupEvents`, answering from events seeded through
  `POST /moto-api/leastpriv/lookup-events`, with real paging (50 per page)
  and real throttling (more than 2 calls per second per account and region
  gets `ThrottlingException`, as AWS does);
* IAM Access Advisor: `GenerateServiceLastAccessedDetails` and
  `GetServiceLastAccessedDetails`, answering from data seeded through
  `POST /moto-api/leastpriv/last-accessed`;
* `MaxItems`/`Marker` paging on `GetAccountAuthorizationDetails`, which moto
  ignores (so the client's paging is really exercised);
* a recorder of every AWS call (`GET /moto-api/leastpriv/calls`): service and
  operation, for the auditor's own least-privilege test;
* fault injection (`POST /moto-api/leastpriv/faults`): answer the next N calls
  of an operation with an HTTP status and error code, or (status 0) reset
  the connection without answering;
* Athena as AWS behaves: results seeded through moto's own
  `/moto-api/static/athena/query-results` go to the next query that returns
  rows (moto hands them to DDL statements too), `GetQueryResults` pages by
  `MaxResults`/`NextToken`, and `GET /moto-api/leastpriv/athena-queries`
  lists the SQL each query ran, for the tests of what the tool sent;
* accounts of an AWS Organization with fixed ids: `POST
  /moto-api/leastpriv/access-key` gives an account an IAM user with a chosen
  access key id (moto maps a request to the account holding its key), `POST
  /moto-api/leastpriv/account-ids` queues the ids the next CreateAccount
  calls take; CreateAccount attaches AdministratorAccess to the role it
  makes; a member account reads the organization only as a delegated
  administrator (sso.amazonaws.com can be one);
* AWS managed policies that exist when attached (moto loads none);
* IAM Identity Center as the pull reads it: permissions boundaries of
  permission sets, provisioning per account (with the AWSReservedSSO_* role
  in the account), one organization instance, the Identity Store ARNs and
  revisions the API model requires;
* KMS GetKeyPolicy without PolicyName, ListAliases without a TargetKeyId for
  the AWS managed keys not made yet, Lambda AddPermission principals as
  AWS writes them, S3 ListBuckets paging, SSE-S3 as every bucket's default
  encryption.

seed.py --scenario org uses all of these; test_org_smoke.py checks them.
It never listens on anything but loopback.
"""

import argparse
import datetime as dt
import io
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs

from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server

LOCK = threading.Lock()
# (account, region) -> list of CloudTrail records (dicts)
LOOKUP_EVENTS: dict = {}
# (account, region) -> recent LookupEvents call times
LOOKUP_CALLS: dict = {}
# (account, principal arn) -> list of ServicesLastAccessed entries
LAST_ACCESSED: dict = {}
# job id -> (account, arn, granularity, created)
JOBS: dict = {}
# recorded calls: dicts with account, service, operation, status
CALLS: list = []
# operation -> list of [remaining, status, code]
FAULTS: dict = {}


def _parse_time(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# --- CloudTrail LookupEvents ------------------------------------------------


def lookup_events(self):
    key = (self.current_account, self.region)
    now = time.monotonic()
    with LOCK:
        recent = [t for t in LOOKUP_CALLS.get(key, []) if now - t < 1.0]
        throttled = len(recent) >= 2
        if not throttled:
            recent.append(now)
        LOOKUP_CALLS[key] = recent
        events = list(LOOKUP_EVENTS.get(key, []))
    if throttled:
        return 400, {}, json.dumps(
            {"__type": "ThrottlingException", "message": "Rate exceeded"}
        )
    start = _parse_time(self._get_param("StartTime"))
    end = _parse_time(self._get_param("EndTime"))
    attrs = self._get_param("LookupAttributes") or []
    max_results = min(int(self._get_param("MaxResults") or 50), 50)
    token = int(self._get_param("NextToken") or 0)

    def keep(e):
        t = _parse_time(e["eventTime"])
        if start and t < start or end and t > end:
            return False
        for a in attrs:
            k, v = a["AttributeKey"], a["AttributeValue"]
            if k == "EventName" and e.get("eventName") != v:
                return False
            if k == "ReadOnly" and str(e.get("readOnly", "")).lower() != v.lower():
                return False
            if k == "EventSource" and e.get("eventSource") != v:
                return False
        return True

    hits = sorted(
        (e for e in events if keep(e)),
        key=lambda e: _parse_time(e["eventTime"]),
        reverse=True,
    )
    page = hits[token : token + max_results]
    out = []
    for e in page:
        ui = e.get("userIdentity", {})
        out.append(
            {
                "EventId": e.get("eventID"),
                "EventName": e.get("eventName"),
                "ReadOnly": str(e.get("readOnly", "false")).lower(),
                "AccessKeyId": ui.get("accessKeyId"),
                "EventTime": _parse_time(e["eventTime"]).timestamp(),
                "EventSource": e.get("eventSource"),
                "Username": ui.get("userName"),
                "Resources": [],
                "CloudTrailEvent": json.dumps(e),
            }
        )
    body = {"Events": out}
    if token + max_results < len(hits):
        body["NextToken"] = str(token + max_results)
    return json.dumps(body)


# --- IAM Access Advisor -----------------------------------------------------


def generate_service_last_accessed_details(self):
    arn = self._get_param("Arn")
    granularity = self._get_param("Granularity") or "SERVICE_LEVEL"
    job = str(uuid.uuid4())
    with LOCK:
        JOBS[job] = (self.current_account, arn, granularity, dt.datetime.now(dt.timezone.utc))
    return ActionResult({"JobId": job})


def get_service_last_accessed_details(self):
    job = self._get_param("JobId")
    with LOCK:
        found = JOBS.get(job)
    if found is None:
        from moto.iam.exceptions import NotFoundException

        raise NotFoundException(f"Job {job} not found")
    account, arn, granularity, created = found
    with LOCK:
        services = [dict(s) for s in LAST_ACCESSED.get((account, arn), [])]
    for s in services:
        if "LastAuthenticated" in s:
            s["LastAuthenticated"] = _parse_time(s["LastAuthenticated"])
        tracked = []
        for a in s.get("TrackedActionsLastAccessed", []):
            a = dict(a)
            if "LastAccessedTime" in a:
                a["LastAccessedTime"] = _parse_time(a["LastAccessedTime"])
            tracked.append(a)
        if granularity == "ACTION_LEVEL":
            s["TrackedActionsLastAccessed"] = tracked
        else:
            s.pop("TrackedActionsLastAccessed", None)
    return ActionResult(
        {
            "JobStatus": "COMPLETED",
            "JobType": granularity,
            "JobCreationDate": created,
            "JobCompletionDate": created,
            "ServicesLastAccessed": services,
            "IsTruncated": False,
        }
    )


# --- GetAccountAuthorizationDetails paging ---------------------------------


def get_account_authorization_details(self):
    filter_param = self._get_param("Filter", [])
    details = self.backend.get_account_authorization_details(filter_param)
    items = (
        [("UserDetailList", u) for u in details["users"]]
        + [("GroupDetailList", g) for g in details["groups"]]
        + [("RoleDetailList", r) for r in details["roles"]]
        + [("Policies", p) for p in details["managed_policies"]]
    )
    start = int(self._get_param("Marker") or 0)
    max_items = int(self._get_param("MaxItems") or 100)
    page = items[start : start + max_items]
    result = {k: [] for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")}
    for k, v in page:
        result[k].append(v)
    truncated = start + max_items < len(items)
    result["IsTruncated"] = truncated
    if truncated:
        result["Marker"] = str(start + max_items)
    return ActionResult(result)


# --- Athena: results only for queries that return rows; paging ------------

_DDL = ("ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW")
_store_results = AthenaBackend._store_predefined_query_results


def _store_predefined_query_results(self, exec_id):
    if self.executions[exec_id].query.lstrip().upper().startswith(_DDL):
        return
    _store_results(self, exec_id)


def get_query_results(self):
    exec_id = self._get_param("QueryExecutionId")
    result = self.athena_backend.get_query_results(exec_id).to_dict()
    rows = result["ResultSet"]["Rows"]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 1000)
    result["ResultSet"]["Rows"] = rows[start : start + size]
    if start + size < len(rows):
        result["NextToken"] = str(start + size)
    return json.dumps(result)


def _athena_queries():
    from moto.athena.models import athena_backends

    out = []
    for account, regions in athena_backends.items():
        for region, backend in regions.items():
            for e in backend.executions.values():
                out.append({"account": account, "region": region, "query": e.query,
                            "database": (e.context or {}).get("Database")})
    return out


AthenaBackend._store_predefined_query_results = _store_predefined_query_results
AthenaResponse.get_query_results = get_query_results
CloudTrailResponse.lookup_events = lookup_events
IamResponse.generate_service_last_accessed_details = generate_service_last_accessed_details
IamResponse.get_service_last_accessed_details = get_service_last_accessed_details
IamResponse.get_account_authorization_details = get_account_authorization_details


# --- Organizations: fixed account ids, what CreateAccount also does ---------
#
# moto draws member account ids at random (organizations.utils
# .make_random_account_id); ids queued through
# `POST /moto-api/leastpriv/account-ids` go to the next CreateAccount calls
# instead, so fixtures can name 222222222222 etc.

from moto.organizations import utils as org_utils
from moto.organizations.models import (
    FakeDelegatedAdministrator,
    OrganizationsBackend,
    organizations_backends,
)

# account ids the next CreateAccount calls take, in order
NEXT_ACCOUNT_IDS: list = []
# the id the CreateAccount running in this thread takes
_CREATING = threading.local()
_random_account_id = org_utils.make_random_account_id


def _make_account_id():
    # CreateOrganization draws one too (for the management account, then
    # overwritten): only CreateAccount takes a queued id.
    fixed = getattr(_CREATING, "account_id", None)
    if fixed is not None:
        _CREATING.account_id = None
        return fixed
    return _random_account_id()


org_utils.make_random_account_id = _make_account_id

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
_create_account = OrganizationsBackend.create_account


def create_account(self, **kwargs):
    """CreateAccount, plus what AWS does and moto does not: the role it
    creates in the new account (OrganizationAccountAccessRole unless RoleName
    says otherwise) has AdministratorAccess attached.
    https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html
    """
    with LOCK:
        _CREATING.account_id = NEXT_ACCOUNT_IDS.pop(0) if NEXT_ACCOUNT_IDS else None
    try:
        status = _create_account(self, **kwargs)
    finally:
        _CREATING.account_id = None
    from moto.iam.models import iam_backends

    account = status["CreateAccountStatus"]["AccountId"]
    iam = iam_backends[account]["global"]
    iam.attach_role_policy(ADMINISTRATOR_ACCESS, kwargs.get("RoleName") or "OrganizationAccountAccessRole")
    return status


OrganizationsBackend.create_account = create_account
# IAM Identity Center can have a delegated administrator (AWS lists
# sso.amazonaws.com among the services that support one; moto does not).
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services_list.html
if "sso.amazonaws.com" not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
    FakeDelegatedAdministrator.SUPPORTED_SERVICES.append("sso.amazonaws.com")


def _management_of(account):
    """The organization's management account if `account` is a member, else None."""
    found = organizations_backends.master_accounts.get(account)
    return found[0] if found else None


def _is_delegated_admin(account, service):
    management = _management_of(account)
    if management is None:
        return False
    org = organizations_backends[management]["aws"]
    return any(a.account.id == account and service in a.services for a in org.admins)


from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.organizations.responses import OrganizationsResponse  # noqa: E402


def _org_read(method):
    """Organizations' read calls "can be called only from the organization's
    management account or by a member account that is a delegated
    administrator for an AWS service" (e.g.
    https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html).
    moto answers a member from the member's own, empty backend (ListAccounts
    gives [] there): a delegated administrator reads the management account's
    organization here, any other member gets AccessDeniedException."""

    def wrapped(self):
        management = _management_of(self.current_account)
        if management is not None:
            org = organizations_backends[management]["aws"]
            if not any(a.account.id == self.current_account for a in org.admins):
                raise JsonRESTError("AccessDeniedException", "You don't have permissions to access this resource.")
            self.current_account = management
        return method(self)

    return wrapped


for _name in ("list_accounts", "list_accounts_for_parent", "list_roots", "list_organizational_units_for_parent",
              "describe_organizational_unit", "list_parents", "list_children", "describe_account",
              "list_policies", "describe_policy", "list_targets_for_policy", "list_policies_for_target",
              "list_delegated_administrators", "list_delegated_services_for_account",
              "list_aws_service_access_for_organization", "list_tags_for_resource"):
    setattr(OrganizationsResponse, _name, _org_read(getattr(OrganizationsResponse, _name)))


# --- S3 ListBuckets: pages as AWS does ----------------------------------------

from moto.s3.responses import S3Response  # noqa: E402


def all_buckets(self):
    """Buckets in name order, `max-buckets` per page with a ContinuationToken
    (moto cuts the list at max-buckets and gives no token, so a paging client
    silently loses buckets).
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html"""
    self.data["Action"] = "ListAllMyBuckets"
    self._authenticate_and_authorize_s3_action()
    prefix = self._get_param("prefix")
    buckets = sorted(
        self.backend.list_buckets(prefix=prefix, bucket_region=self._get_param("bucket-region"), max_buckets=None),
        key=lambda b: b.name,
    )
    token = self._get_param("continuation-token")
    if token:
        buckets = [b for b in buckets if b.name > token]
    result = {"Owner": {"ID": "bcaf1ffd86f41161ca5fb16fd081034f", "DisplayName": "webfile"}}
    size = self._get_param("max-buckets")
    if size and len(buckets) > int(size):
        buckets = buckets[: int(size)]
        result["ContinuationToken"] = buckets[-1].name
    # "BucketRegion ... is included in the response" when the request has a
    # parameter, as paging requests do (AWS ListBuckets reference).
    asked = any(self._get_param(p) for p in ("prefix", "bucket-region", "max-buckets", "continuation-token"))
    result["Buckets"] = [
        dict({"Name": b.name, "CreationDate": b.creation_date_ISO8601},
             **({"BucketRegion": b.region_name} if asked else {}))
        for b in buckets
    ]
    if prefix:
        result["Prefix"] = prefix
    self.data["Action"] = "ListBuckets"
    return self.serialized(ActionResult(result))


S3Response.all_buckets = all_buckets

from moto.s3.models import S3Backend  # noqa: E402

_get_bucket_encryption = S3Backend.get_bucket_encryption


def get_bucket_encryption(self, bucket_name):
    """Every bucket without a configuration of its own has SSE-S3 (AES256),
    and GetBucketEncryption says so (moto answers
    ServerSideEncryptionConfigurationNotFoundError, as AWS did before 2023).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html"""
    return _get_bucket_encryption(self, bucket_name) or {
        "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
    }


S3Backend.get_bucket_encryption = get_bucket_encryption


# --- IAM: fixed access keys; AWS managed policies on demand -----------------

_AWS_POLICIES = None


def _ensure_aws_managed_policy(iam, arn):
    """Makes AWS managed policy `arn` exist in this account's IAM backend.

    moto loads no AWS managed policy unless MOTO_IAM_LOAD_MANAGED_POLICIES is
    set (and then all ~1,300 of them, in every account); in AWS each exists
    everywhere. Only the ones attached are made, so GetAccountAuthorizationDetails
    lists the AWS managed policies in use, as AWS does."""
    global _AWS_POLICIES
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    prefix = f"arn:{iam.partition}:iam::aws:policy"
    if not arn.startswith(prefix) or arn in iam.managed_policies:
        return
    if _AWS_POLICIES is None:
        _AWS_POLICIES = json.loads(aws_managed_policies_data)
    name = arn.rsplit("/", 1)[-1]
    data = _AWS_POLICIES.get(name)
    if data is None or f"{prefix}{data.get('Path', '/')}{name}" != arn:
        return  # moto answers NoSuchEntity, as AWS does
    policy = AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, data)
    iam.managed_policies[policy.arn] = policy
    iam.aws_managed_policies.append(policy)


def _attach_loading(original):
    def attach(self, policy_arn, name):
        _ensure_aws_managed_policy(self, policy_arn)
        return original(self, policy_arn, name)

    return attach


from moto.iam.models import IAMBackend  # noqa: E402

IAMBackend.attach_role_policy = _attach_loading(IAMBackend.attach_role_policy)
IAMBackend.attach_user_policy = _attach_loading(IAMBackend.attach_user_policy)
IAMBackend.attach_group_policy = _attach_loading(IAMBackend.attach_group_policy)


def register_access_key(account, access_key_id, user_name, secret=None, path="/"):
    """An IAM user `user_name` in `account` with access key `access_key_id`.

    moto maps a request to the account whose IAM backend holds its access key
    (iam.models.get_account_id_from) and to 123456789012 otherwise, so this is
    how a client with fixed credentials acts as, e.g., the management
    account 111111111111. The id must be 20 of [A-Z0-9] (moto finds no
    other in the Authorization header)."""
    from moto.iam.models import AccessKey, iam_backends

    iam = iam_backends[account]["global"]
    user = iam.users.get(user_name) or iam.create_user(
        region_name="us-east-1", user_name=user_name, path=path
    )
    if access_key_id in iam.access_keys:
        return
    key = AccessKey(user_name=user_name, prefix="AKIA", account_id=account)
    key.access_key_id = access_key_id
    key.secret_access_key = secret or access_key_id
    user.access_keys.append(key)
    iam.access_keys[access_key_id] = key


# --- KMS GetKeyPolicy: PolicyName is optional --------------------------------

from moto.kms import responses as kms_responses  # noqa: E402
from moto.kms.responses import KmsResponse  # noqa: E402


def get_key_policy(self):
    """PolicyName is optional and defaults to "default"; the response names it.
    https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html"""
    key_id = self._get_param("KeyId")
    policy_name = self._get_param("PolicyName") or "default"
    kms_responses._assert_default_policy(policy_name)
    self._validate_cmk_id(key_id)
    policy = self.kms_backend.get_key_policy(key_id) or "{}"
    return json.dumps({"Policy": policy, "PolicyName": policy_name})


KmsResponse.get_key_policy = get_key_policy
_list_aliases = KmsResponse.list_aliases


def list_aliases(self):
    """Predefined aliases (alias/aws/*) whose AWS managed key does not exist
    yet have no TargetKeyId (moto names a key that DescribeKey does not find).
    https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html"""
    body = json.loads(_list_aliases(self))
    for alias in body.get("Aliases", []):
        target = alias.get("TargetKeyId")
        if alias["AliasName"].startswith("alias/aws/") and target not in self.kms_backend.keys:
            alias.pop("TargetKeyId", None)
    return json.dumps(body)


KmsResponse.list_aliases = list_aliases


# --- Lambda AddPermission: principals as AWS writes them --------------------

from moto.awslambda.policy import Policy as LambdaPolicy  # noqa: E402

_lambda_principal = LambdaPolicy.principal_formatter


def lambda_principal(self, obj):
    """An account id or IAM ARN becomes {"AWS": ARN} in the function policy,
    as GetPolicy returns it (moto keeps a bare account id as a string, which is
    no valid policy principal).
    https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html"""
    if isinstance(obj, str) and len(obj) == 12 and obj.isdigit():
        return {"AWS": f"arn:aws:iam::{obj}:root"}
    if isinstance(obj, str) and obj.startswith("arn:") and ":iam::" in obj:
        return {"AWS": obj}
    return _lambda_principal(self, obj)


LambdaPolicy.principal_formatter = lambda_principal


# --- IAM Identity Center (sso-admin, identitystore) -------------------------
#
# moto gives every account and region an instance; AWS has one organization
# instance, in the management account, that the delegated administrator of
# sso.amazonaws.com also sees. A delegated administrator's calls go to the
# management account's backends here, and ListInstances from any other member
# account is empty. Provisioning is per account (moto provisions to the caller
# only, and ignores TargetId), a successful CreateAccountAssignment provisions
# the permission set to the account as AWS does, and provisioning makes the
# AWSReservedSSO_* role in the account's IAM. Permissions boundaries of
# permission sets are added (moto has none).

from moto.identitystore.models import identitystore_backends  # noqa: E402
from moto.identitystore.responses import IdentityStoreResponse  # noqa: E402
from moto.ssoadmin.exceptions import ResourceNotFoundException as SsoNotFound  # noqa: E402
from moto.ssoadmin.models import SSOAdminBackend, ssoadmin_backends  # noqa: E402
from moto.ssoadmin.responses import SSOAdminResponse  # noqa: E402


def _sso_account(account):
    return _management_of(account) if _is_delegated_admin(account, "sso.amazonaws.com") else account


SSOAdminResponse.ssoadmin_backend = property(
    lambda self: ssoadmin_backends[_sso_account(self.current_account)][self.region]
)
IdentityStoreResponse.identitystore_backend = property(
    lambda self: identitystore_backends[_sso_account(self.current_account)][self.region]
)


def list_instances(self):
    """https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListInstances.html"""
    account = self.current_account
    if _management_of(account) is not None and _sso_account(account) == account:
        return json.dumps({"Instances": []})
    return json.dumps({"Instances": [i.to_json() for i in self.ssoadmin_backend.list_instances()]})


def _instance(backend, instance_arn):
    for i in backend.instances:
        if i.instance_arn == instance_arn:
            if not hasattr(i, "provisioned_to"):
                i.provisioned_to = {}  # permission set ARN -> [account ids]
            return i
    raise SsoNotFound(f"Could not find Instance with arn {instance_arn}")


def _hex16(*parts):
    import hashlib

    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _session_seconds(duration):
    # ISO 8601 durations as permission sets hold them: PT1H, PT12H, PT90M
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration or "")
    seconds = (int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60) if m else 0
    return str(seconds or 3600)


def _provision(backend, instance, ps, account):
    """What provisioning a permission set to an account leaves in the account's
    IAM: a SAML provider for the instance and the role
    /aws-reserved/sso.amazonaws.com/AWSReservedSSO_<name>_<16 hex> trusting it,
    with the permission set's AWS managed policies, customer managed policy
    references (those that exist in the account), inline policy (as
    AwsSSOInlinePolicy) and permissions boundary.
    https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html"""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    accounts = instance.provisioned_to.setdefault(ps.permission_set_arn, [])
    if account not in accounts:
        accounts.append(account)
    iam = iam_backends[account]["global"]
    provider = f"AWSSSO_{_hex16(instance.instance_arn, account)}_DO_NOT_DELETE"
    if provider not in iam.saml_providers:
        iam.create_saml_provider(provider, "<EntityDescriptor/>")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account}:saml-provider/{provider}"},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
            }
        ],
    }
    name = f"AWSReservedSSO_{ps.name}_{_hex16(ps.permission_set_arn, account)}"
    try:
        role = iam.get_role(name)
    except NotFoundException:
        role = iam.create_role(
            role_name=name,
            assume_role_policy_document=json.dumps(trust),
            path="/aws-reserved/sso.amazonaws.com/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=_session_seconds(ps.session_duration),
        )
    for policy in list(role.managed_policies.values()):
        policy.detach_from(role)
    role.policies.clear()
    for mp in ps.managed_policies:
        iam.attach_role_policy(mp.arn, name)
    for ref in ps.customer_managed_policies:
        arn = f"arn:aws:iam::{account}:policy{ref.path}{ref.name}"
        if arn in iam.managed_policies:
            iam.attach_role_policy(arn, name)
    if ps.inline_policy:
        role.put_policy("AwsSSOInlinePolicy", ps.inline_policy)
    boundary = getattr(ps, "permissions_boundary", None) or {}
    if "ManagedPolicyArn" in boundary:
        role.permissions_boundary_arn = boundary["ManagedPolicyArn"]
    elif "CustomerManagedPolicyReference" in boundary:
        ref = boundary["CustomerManagedPolicyReference"]
        role.permissions_boundary_arn = (
            f"arn:aws:iam::{account}:policy{ref.get('Path', '/')}{ref['Name']}"
        )
    else:
        role.permissions_boundary_arn = None


_create_account_assignment = SSOAdminBackend.create_account_assignment


def create_account_assignment(self, instance_arn, target_id, target_type, permission_set_arn,
                              principal_type, principal_id):
    """A successful CreateAccountAssignment provisions the permission set to
    the account.
    https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html"""
    ps = self._find_permission_set(instance_arn, permission_set_arn)
    summary = _create_account_assignment(self, instance_arn, target_id, target_type,
                                         permission_set_arn, principal_type, principal_id)
    _provision(self, _instance(self, instance_arn), ps, target_id)
    return summary


SSOAdminBackend.create_account_assignment = create_account_assignment


def provision_permission_set(self):
    """TargetType AWS_ACCOUNT (with TargetId) or ALL_PROVISIONED_ACCOUNTS.
    https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ProvisionPermissionSet.html"""
    backend = self.ssoadmin_backend
    instance_arn = self._get_param("InstanceArn")
    ps_arn = self._get_param("PermissionSetArn")
    target_type = self._get_param("TargetType")
    target_id = self._get_param("TargetId")
    ps = backend._find_permission_set(instance_arn, ps_arn)
    instance = _instance(backend, instance_arn)
    if target_type == "AWS_ACCOUNT":
        targets = [target_id]
    else:
        targets = list(instance.provisioned_to.get(ps_arn, []))
    for account in targets:
        _provision(backend, instance, ps, account)
    status = {
        "CreatedDate": time.time(),
        "PermissionSetArn": ps_arn,
        "RequestId": str(uuid.uuid4()),
        "Status": "SUCCEEDED",
    }
    if target_type == "AWS_ACCOUNT":
        status["AccountId"] = target_id
    return json.dumps({"PermissionSetProvisioningStatus": status})


def _page(self, items, key):
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 100)
    body = {key: items[start : start + size]}
    if start + size < len(items):
        body["NextToken"] = str(start + size)
    return json.dumps(body)


def list_accounts_for_provisioned_permission_set(self):
    """https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountsForProvisionedPermissionSet.html"""
    backend = self.ssoadmin_backend
    instance = _instance(backend, self._get_param("InstanceArn"))
    ps_arn = self._get_param("PermissionSetArn")
    backend._find_permission_set(instance.instance_arn, ps_arn)
    return _page(self, list(instance.provisioned_to.get(ps_arn, [])), "AccountIds")


def list_permission_sets_provisioned_to_account(self):
    """https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListPermissionSetsProvisionedToAccount.html"""
    instance = _instance(self.ssoadmin_backend, self._get_param("InstanceArn"))
    account = self._get_param("AccountId")
    arns = [arn for arn, accounts in instance.provisioned_to.items() if account in accounts]
    return _page(self, arns, "PermissionSets")


def put_permissions_boundary_to_permission_set(self):
    """https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutPermissionsBoundaryToPermissionSet.html"""
    ps = self.ssoadmin_backend._find_permission_set(
        self._get_param("InstanceArn"), self._get_param("PermissionSetArn")
    )
    boundary = self._get_param("PermissionsBoundary") or {}
    if "CustomerManagedPolicyReference" in boundary:
        ref = dict(boundary["CustomerManagedPolicyReference"])
        ref.setdefault("Path", "/")
        boundary = {"CustomerManagedPolicyReference": ref}
    ps.permissions_boundary = boundary
    return "{}"


def get_permissions_boundary_for_permission_set(self):
    """ResourceNotFoundException when the permission set has no boundary.
    https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_GetPermissionsBoundaryForPermissionSet.html"""
    ps_arn = self._get_param("PermissionSetArn")
    ps = self.ssoadmin_backend._find_permission_set(self._get_param("InstanceArn"), ps_arn)
    boundary = getattr(ps, "permissions_boundary", None)
    if not boundary:
        raise SsoNotFound(
            f"Could not find PermissionsBoundary for PermissionSet with id {ps_arn.split('/')[-1]}"
        )
    return json.dumps({"PermissionsBoundary": boundary})


def delete_permissions_boundary_from_permission_set(self):
    """https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DeletePermissionsBoundaryFromPermissionSet.html"""
    ps_arn = self._get_param("PermissionSetArn")
    ps = self.ssoadmin_backend._find_permission_set(self._get_param("InstanceArn"), ps_arn)
    if not getattr(ps, "permissions_boundary", None):
        raise SsoNotFound(
            f"Could not find PermissionsBoundary for PermissionSet with id {ps_arn.split('/')[-1]}"
        )
    ps.permissions_boundary = None
    return "{}"




def _identitystore_arns(value):
    """Adds what the Identity Store model requires and moto leaves out: UserArn,
    GroupArn, MembershipArn (in the documented form
    arn:aws:identitystore:::user/ID) and Revision (an opaque token).
    https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_User.html"""
    if isinstance(value, list):
        for v in value:
            _identitystore_arns(v)
    elif isinstance(value, dict):
        for v in list(value.values()):
            _identitystore_arns(v)
        if "IdentityStoreId" not in value:
            return
        if "MembershipId" in value:
            value.setdefault("MembershipArn", f"arn:aws:identitystore:::membership/{value['MembershipId']}")
        elif "UserId" in value:
            value.setdefault("UserArn", f"arn:aws:identitystore:::user/{value['UserId']}")
            if "UserName" in value or "DisplayName" in value:
                value.setdefault("Revision", "1")
        elif "GroupId" in value:
            value.setdefault("GroupArn", f"arn:aws:identitystore:::group/{value['GroupId']}")
            if "DisplayName" in value:
                value.setdefault("Revision", "1")


def _with_identitystore_arns(method):
    def wrapped(self):
        body = json.loads(method(self))
        _identitystore_arns(body)
        return json.dumps(body)

    return wrapped


for _name in ("create_user", "create_group", "create_group_membership", "describe_user", "describe_group",
              "describe_group_membership", "get_user_id", "get_group_id", "get_group_membership_id",
              "list_users", "list_groups", "list_group_memberships", "list_group_memberships_for_member"):
    setattr(IdentityStoreResponse, _name, _with_identitystore_arns(getattr(IdentityStoreResponse, _name)))

SSOAdminResponse.list_instances = list_instances
SSOAdminResponse.provision_permission_set = provision_permission_set
SSOAdminResponse.list_accounts_for_provisioned_permission_set = list_accounts_for_provisioned_permission_set
SSOAdminResponse.list_permission_sets_provisioned_to_account = list_permission_sets_provisioned_to_account
SSOAdminResponse.put_permissions_boundary_to_permission_set = put_permissions_boundary_to_permission_set
SSOAdminResponse.get_permissions_boundary_for_permission_set = get_permissions_boundary_for_permission_set
SSOAdminResponse.delete_permissions_boundary_from_permission_set = delete_permissions_boundary_from_permission_set


# --- SSM parameter resource policies (moto has none) --------------------------
#
# Advanced-tier parameters can be shared through AWS RAM, which gives them a
# resource policy; PutResourcePolicy and GetResourcePolicies manage it.
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetResourcePolicies.html

from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: E402

SSM_POLICIES = {}  # (account, region, parameter ARN) -> [(policy id, hash, text)]


def _ssm_parameter_of(self, arn):
    name = arn.split(":parameter", 1)[-1] if ":parameter" in arn else arn
    params = self.ssm_backend._parameters
    for candidate in (name, name.lstrip("/")):
        if candidate in params and params[candidate]:
            return params[candidate][-1]
    raise JsonRESTError("ResourceNotFoundException", f"Parameter {arn} not found.")


def ssm_put_resource_policy(self):
    import hashlib

    arn, text = self._get_param("ResourceArn"), self._get_param("Policy")
    param = _ssm_parameter_of(self, arn)
    if getattr(param, "tier", None) != "Advanced":
        raise JsonRESTError("ResourcePolicyInvalidParameterException",
                            "Only advanced-tier parameters can have a resource policy.")
    key = (self.current_account, self.region, arn)
    policies = SSM_POLICIES.setdefault(key, [])
    pid = self._get_param("PolicyId") or hashlib.sha256(f"{arn}|{len(policies)}".encode()).hexdigest()[:32]
    digest = hashlib.sha256(text.encode()).hexdigest()
    policies[:] = [p for p in policies if p[0] != pid] + [(pid, digest, text)]
    return json.dumps({"PolicyId": pid, "PolicyHash": digest})


def ssm_get_resource_policies(self):
    arn = self._get_param("ResourceArn")
    _ssm_parameter_of(self, arn)
    policies = SSM_POLICIES.get((self.current_account, self.region, arn), [])
    return json.dumps({"Policies": [{"PolicyId": i, "PolicyHash": h, "Policy": t} for i, h, t in policies]})


SimpleSystemManagerResponse.put_resource_policy = ssm_put_resource_policy
SimpleSystemManagerResponse.get_resource_policies = ssm_get_resource_policies


# --- recorder, seeding and faults: a WSGI layer in front of moto ------------


def _credential_scope(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    if marker not in auth:
        return None, None
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    # AKID/date/region/service/aws4_request
    return (scope[0], scope[3]) if len(scope) >= 5 else (scope[0], None)


def _s3_operation(method, path, query):
    parts = [p for p in path.split("/") if p]
    q = parse_qs(query, keep_blank_values=True)
    if not parts:
        return "ListBuckets"
    if len(parts) == 1:
        if method == "GET" and "location" in q:
            return "GetBucketLocation"
        if method == "GET" and "policy" in q:
            return "GetBucketPolicy"
        if method == "GET" and "encryption" in q:
            return "GetBucketEncryption"
        if method == "GET":
            return "ListObjectsV2" if q.get("list-type") == ["2"] else "ListObjects"
        if method == "HEAD":
            return "HeadBucket"
        return f"{method}Bucket"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject"}.get(
        method, f"{method}Object"
    )


# Lambda's REST paths, as the API reference gives them.
_LAMBDA_OPERATIONS = [
    ("GET", re.compile(r"^/2015-03-31/functions/?$"), "ListFunctions"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$"), "GetPolicy"),
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "CreateFunction"),
    ("POST", re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$"), "AddPermission"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/?$"), "GetFunction"),
]


def _operation(environ, service):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    method = environ["REQUEST_METHOD"]
    if service == "s3":
        return _s3_operation(method, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
    if service == "lambda":
        path = environ.get("PATH_INFO", "")
        for m, pattern, name in _LAMBDA_OPERATIONS:
            if m == method and pattern.match(path):
                return name
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if method == "POST" and "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return f"{method} {environ.get('PATH_INFO', '')}"


def _json(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(
        f"{status} {'OK' if status < 400 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _read_json(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(length) or b"{}")


class Leastpriv:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api/leastpriv/"):
            return self.control(path.rsplit("/", 1)[-1], environ, start_response)
        access_key, service = _credential_scope(environ)
        if service is None:
            return self.app(environ, start_response)
        operation = _operation(environ, service)
        fault = None
        with LOCK:
            for spec in FAULTS.get(operation, []):
                if spec[0] > 0:
                    spec[0] -= 1
                    fault = spec
                    break
        status_box = {}

        def recording_start_response(status, headers, *rest):
            status_box["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        if fault is not None and fault[1] == 0:
            # Status 0: reset the connection (RST, no response at all).
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            with LOCK:
                CALLS.append({"access_key": access_key, "service": service,
                              "operation": operation, "status": 0})
            return []
        if fault is not None:
            _, status, code = fault
            result = self.fault(service, status, code, recording_start_response)
        else:
            result = self.app(environ, recording_start_response)
        with LOCK:
            CALLS.append(
                {
                    "access_key": access_key,
                    "service": service,
                    "operation": operation,
                    "status": status_box.get("status"),
                }
            )
        return result

    @staticmethod
    def fault(service, status, code, start_response):
        if service in ("iam", "sts"):
            body = (
                f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>'
                f"<Message>injected</Message></Error><RequestId>x</RequestId></ErrorResponse>"
            ).encode()
            ctype = "text/xml"
        elif service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            ctype = "application/xml"
        else:
            body = json.dumps({"__type": code, "message": "injected"}).encode()
            ctype = "application/x-amz-json-1.1"
        start_response(
            f"{status} Injected", [("Content-Type", ctype), ("Content-Length", str(len(body)))]
        )
        return [body]

    def control(self, name, environ, start_response):
        method = environ["REQUEST_METHOD"]
        with LOCK:
            if name == "calls" and method == "GET":
                return _json(start_response, 200, list(CALLS))
            if name == "calls" and method == "DELETE":
                CALLS.clear()
                return _json(start_response, 200, {})
            if name == "athena-queries" and method == "GET":
                return _json(start_response, 200, _athena_queries())
        body = _read_json(environ) if method == "POST" else {}
        account = body.get("account_id", os.environ.get("MOTO_ACCOUNT_ID", "123456789012"))
        with LOCK:
            if name == "lookup-events":
                key = (account, body.get("region", "us-east-1"))
                LOOKUP_EVENTS.setdefault(key, []).extend(body.get("events", []))
                return _json(start_response, 201, {})
            if name == "last-accessed":
                LAST_ACCESSED[(account, body["arn"])] = body.get("services", [])
                return _json(start_response, 201, {})
            if name == "access-key":
                if not re.fullmatch(r"[A-Z0-9]{20}", body.get("access_key_id", "")):
                    return _json(start_response, 400, {"error": "access_key_id must be 20 of [A-Z0-9]"})
                register_access_key(account, body["access_key_id"], body.get("user_name", "leastpriv"),
                                    body.get("secret_access_key"), body.get("path", "/"))
                return _json(start_response, 201, {})
            if name == "account-ids":
                NEXT_ACCOUNT_IDS.extend(body.get("ids", []))
                return _json(start_response, 201, {})
            if name == "faults":
                for f in body.get("faults", []):
                    FAULTS.setdefault(f["operation"], []).append(
                        [int(f.get("count", 1)), int(f.get("status", 500)), f.get("code", "InternalError")]
                    )
                return _json(start_response, 201, {})
        return _json(start_response, 404, {"error": f"unknown control {name}"})


def _exit_with_parent(parent):
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent, 0)
        except OSError:
            os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = p.parse_args()
    app = Leastpriv(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)
    if args.parent_pid:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"moto on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
