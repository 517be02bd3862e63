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
  lists the SQL each query ran, for the tests of what the tool sent.

It never listens on anything but loopback.
"""

import argparse
import datetime as dt
import io
import json
import os
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
        from moto.iam.exceptions import IAMNotFoundException

        raise IAMNotFoundException(f"Job {job} not found")
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
        if method == "GET":
            return "ListObjectsV2" if q.get("list-type") == ["2"] else "ListObjects"
        if method == "HEAD":
            return "HeadBucket"
        return f"{method}Bucket"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject"}.get(
        method, f"{method}Object"
    )


def _operation(environ, service):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    method = environ["REQUEST_METHOD"]
    if service == "s3":
        return _s3_operation(method, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
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
