"""A loopback fake of Compute Engine v1, Cloud Functions v2, Pub/Sub v1 (publish) and
Google's OAuth token endpoint.  Every API request is validated against the discovery
documents google-api-python-client ships (:mod:`.discovery`), every answer is checked
against the response schema before it is sent.  Long-running zone operations, paging
(``maxResults``/``pageSize`` + ``pageToken``), both Google error shapes (Compute's
``errors[].reason``, the v2 APIs' ``status``) and the functions' own HTTPS endpoints (echo,
or a 500 when told to fail) are modelled."""

from __future__ import annotations

import base64
import itertools
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

import jwt

from .discovery import load
from .server import FakeServer, Rejected, Request, Response

PROJECT = "ants-project"
ZONES = ["europe-west1-b", "us-central1-a", "us-east1-c"]  # us-east1-c stays empty
TOKEN = "ya29.fake-access-token"
ID_TOKEN_PREFIX = "fake-id-token-for:"

_REASONS = {
    400: "invalid",
    401: "required",
    403: "forbidden",
    404: "notFound",
    409: "alreadyExists",
    429: "rateLimitExceeded",
}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page(items: list[Any], size: int, token: str | None) -> tuple[list[Any], str | None]:
    start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
    end = start + size
    return items[start:end], (base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None)


class GoogleFake:
    """State and routes of the fake; :attr:`server` serves them."""

    def __init__(self, public_key: Any = None) -> None:
        self.compute = load("compute.v1")
        self.functions_api = load("cloudfunctions.v2")
        self.pubsub = load("pubsub.v1")
        self.public_key = public_key
        self.lock = threading.Lock()
        self.instances: dict[tuple[str, str], dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, tuple[tuple[str, str], str]] = {}  # op -> (instance, final status)
        self.functions: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_next: set[str] = set()
        self.received: dict[str, list[bytes]] = {}
        self.ids = itertools.count(1000)
        self.failing_operations: set[str] = set()  # instance names whose next operation fails
        self.faults: list[int] = []  # statuses to answer API requests with, once each, first
        self.delay = 0.0  # seconds every API answer waits
        self.server = FakeServer(self.handle)

    # -- arranging --------------------------------------------------------------------------

    def add_instance(self, zone: str, name: str, labels: dict[str, str], status: str = "RUNNING") -> str:
        with self.lock:
            self.instances[(zone, name)] = self.compute.response(
                "compute.instances.get",
                {
                    "kind": "compute#instance",
                    "id": str(next(self.ids)),
                    "name": name,
                    "zone": f"{self.server.url}/compute/v1/projects/{PROJECT}/zones/{zone}",
                    "status": status,
                    "labels": labels,
                    "machineType": f"zones/{zone}/machineTypes/e2-small",
                    "creationTimestamp": _now(),
                    "selfLink": f"{self.server.url}/compute/v1/projects/{PROJECT}/zones/{zone}/instances/{name}",
                },
            )
        return f"{zone}/{name}"

    def add_function(self, location: str, name: str, labels: dict[str, str], *, topic: str | None = None) -> str:
        full = f"projects/{PROJECT}/locations/{location}/functions/{name}"
        data: dict[str, Any] = {
            "name": full,
            "state": "ACTIVE",
            "labels": labels,
            "environment": "GEN_2",
            "updateTime": _now(),
            "createTime": _now(),
            "buildConfig": {"runtime": "python312", "entryPoint": "handle"},
            "serviceConfig": {"timeoutSeconds": 60, "availableMemory": "256M"},
        }
        if topic is None:
            data["url"] = f"{self.server.url}/fn/{location}/{name}"
            data["serviceConfig"]["uri"] = data["url"]
        else:
            data["eventTrigger"] = {
                "eventType": "google.cloud.pubsub.topic.v1.messagePublished",
                "pubsubTopic": f"projects/{PROJECT}/topics/{topic}",
            }
        with self.lock:
            self.functions[(location, name)] = self.functions_api.response(
                "cloudfunctions.projects.locations.functions.get", data
            )
        return f"{location}/{name}"

    # -- serving ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.raw_path == "/token":
            return self._token(request)
        if request.raw_path.startswith("/fn/"):
            return self._function_endpoint(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self._error(401, "Request is missing required authentication credential.", compute=True)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            return self._error(fault, "injected fault", compute=request.raw_path.startswith("/compute/"))
        if request.raw_path.startswith("/compute/v1/"):
            method, params, body = self.compute.match(request)
            return self._compute(method, params)
        if request.raw_path.startswith("/v2/"):
            method, params, body = self.functions_api.match(request)
            return self._functions(method, params)
        if request.raw_path.startswith("/v1/"):
            method, params, body = self.pubsub.match(request)
            if method != "pubsub.projects.topics.publish":
                raise Rejected(f"the fake does not serve {method}")
            return self._publish(params["topic"], body)
        raise Rejected(f"unknown path {request.raw_path}")

    def _error(self, status: int, message: str, *, compute: bool) -> Response:
        error: dict[str, Any] = {"code": status, "message": message}
        if compute:  # Compute Engine: errors[].reason
            error["errors"] = [{"message": message, "domain": "global", "reason": _REASONS.get(status, "backendError")}]
        else:  # the v2 (One Platform) APIs: a canonical status
            error["status"] = _STATUS.get(status, "UNKNOWN")
        return Response.json(status, {"error": error})

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise Rejected(f"unsupported grant {form.get('grant_type')!r}")
        try:
            claims = jwt.decode(
                form["assertion"], self.public_key, algorithms=["RS256"], audience=f"{self.server.url}/token"
            )
        except (KeyError, jwt.InvalidTokenError) as exc:
            return Response.json(400, {"error": "invalid_grant", "error_description": str(exc)})
        if "target_audience" in claims:
            return Response.json(200, {"id_token": ID_TOKEN_PREFIX + claims["target_audience"]})
        if "cloud-platform" not in str(claims.get("scope")):
            raise Rejected(f"token asked without the cloud-platform scope: {claims.get('scope')!r}")
        return Response.json(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def _function_endpoint(self, request: Request) -> Response:
        _, _, location, name = request.raw_path.split("/", 3)
        url = f"{self.server.url}/fn/{location}/{name}"
        if request.headers.get("authorization") != f"Bearer {ID_TOKEN_PREFIX}{url}":
            return Response(401, b"Your client does not have permission (ID token for this URL required)")
        if (location, name) not in self.functions:
            return Response(404, b"not found")
        with self.lock:
            self.received.setdefault(name, []).append(request.body)
            failing = name in self.fail_next
            self.fail_next.discard(name)
        if failing:
            return Response(
                500, b'{"error": "ZeroDivisionError: division by zero"}', {"Content-Type": "application/json"}
            )
        return Response(
            200, request.body, {"Content-Type": request.headers.get("content-type", "application/octet-stream")}
        )

    # -- Compute Engine -------------------------------------------------------------------

    def _compute(self, method: str, params: dict[str, Any]) -> Response:
        if params["project"] != PROJECT:
            return self._error(404, f"The resource 'projects/{params['project']}' was not found", compute=True)
        size = int(params.get("maxResults", 500))
        if method == "compute.instances.list":
            items = [v for (z, _), v in sorted(self.instances.items()) if z == params["zone"]]
            page, token = _page(items, size, params.get("pageToken"))
            answer: dict[str, Any] = {"kind": "compute#instanceList", "id": "x", "items": page}
            if token:
                answer["nextPageToken"] = token
            return Response.json(200, self.compute.response(method, answer))
        if method == "compute.instances.aggregatedList":
            flat = [(z, v) for (z, _), v in sorted(self.instances.items())]
            page, token = _page(flat, size, params.get("pageToken"))
            items: dict[str, Any] = {}
            for zone in ZONES:
                found = [v for z, v in page if z == zone]
                items[f"zones/{zone}"] = (
                    {"instances": found}
                    if found
                    else {
                        "warning": {
                            "code": "NO_RESULTS_ON_PAGE",
                            "message": "There are no results for scope",
                            "data": [{"key": "scope", "value": f"zones/{zone}"}],
                        }
                    }
                )
            answer = {"kind": "compute#instanceAggregatedList", "id": "x", "items": items}
            if token:
                answer["nextPageToken"] = token
            return Response.json(200, self.compute.response(method, answer))
        zone = params["zone"]
        if method in ("compute.instances.get", "compute.instances.start", "compute.instances.stop"):
            key = (zone, params["instance"])
            if key not in self.instances:
                return self._error(
                    404,
                    f"The resource 'projects/{PROJECT}/zones/{zone}/instances/{params['instance']}' was not found",
                    compute=True,
                )
            if method == "compute.instances.get":
                return Response.json(200, self.compute.response(method, self.instances[key]))
            if "requestId" not in params:
                raise Rejected("start/stop without requestId cannot be retried safely")
            verb = method.rsplit(".", 1)[1]
            with self.lock:
                self.instances[key]["status"] = "STAGING" if verb == "start" else "STOPPING"
                name = f"operation-{uuid.uuid4().hex[:20]}"
                op = {
                    "kind": "compute#operation",
                    "id": str(next(self.ids)),
                    "name": name,
                    "operationType": verb,
                    "status": "RUNNING",
                    "progress": 0,
                    "targetLink": self.instances[key]["selfLink"],
                    "zone": self.instances[key]["zone"],
                    "insertTime": _now(),
                    "selfLink": f"{self.server.url}/compute/v1/projects/{PROJECT}/zones/{zone}/operations/{name}",
                }
                self.operations[name] = op
                self.pending[name] = (key, "RUNNING" if verb == "start" else "TERMINATED")
            return Response.json(200, self.compute.response(method, op))
        if method in ("compute.zoneOperations.wait", "compute.zoneOperations.get"):
            name = params["operation"]
            if name not in self.operations:
                return self._error(404, f"The resource 'operations/{name}' was not found", compute=True)
            with self.lock:
                op = self.operations[name]
                if method.endswith("wait") and name in self.pending:
                    key, final = self.pending.pop(name)
                    if key[1] in self.failing_operations:
                        self.failing_operations.discard(key[1])
                        self.instances[key]["status"] = "TERMINATED"
                        message = (
                            f"The zone '{key[0]}' does not have enough resources available to fulfill the request."
                        )
                        op.update(
                            error={"errors": [{"code": "ZONE_RESOURCE_POOL_EXHAUSTED", "message": message}]},
                            httpErrorStatusCode=503,
                            httpErrorMessage="SERVICE UNAVAILABLE",
                        )
                    elif key in self.instances:
                        self.instances[key]["status"] = final
                    op.update(status="DONE", progress=100, endTime=_now())
            return Response.json(200, self.compute.response(method, op))
        raise Rejected(f"the fake does not serve {method}")

    # -- Cloud Functions / Pub/Sub ---------------------------------------------------------

    def _functions(self, method: str, params: dict[str, Any]) -> Response:
        if method == "cloudfunctions.projects.locations.functions.list":
            _, project, _, location = params["parent"].split("/")
            if project != PROJECT:
                return self._error(403, f"Permission denied on 'projects/{project}'", compute=False)
            items = [v for (loc, _), v in sorted(self.functions.items()) if location in ("-", loc)]
            size = min(int(params.get("pageSize", 1000)), 1000)
            page, token = _page(items, size, params.get("pageToken"))
            answer: dict[str, Any] = {"functions": page}
            if token:
                answer["nextPageToken"] = token
            return Response.json(200, self.functions_api.response(method, answer))
        if method == "cloudfunctions.projects.locations.functions.get":
            _, project, _, location, _, name = params["name"].split("/")
            found = self.functions.get((location, name)) if project == PROJECT else None
            if found is None:
                return self._error(404, f"Resource '{params['name']}' was not found", compute=False)
            return Response.json(200, self.functions_api.response(method, found))
        raise Rejected(f"the fake does not serve {method}")

    def _publish(self, topic: str, body: Any) -> Response:
        name = topic.rsplit("/", 1)[1]
        targets = [f for f in self.functions.values() if (f.get("eventTrigger") or {}).get("pubsubTopic") == topic]
        if not targets:
            return self._error(404, f"Resource not found (resource={name}).", compute=False)
        ids = []
        with self.lock:
            for message in body["messages"]:
                data = base64.b64decode(message.get("data", ""))
                for function in targets:
                    self.received.setdefault(function["name"].rsplit("/", 1)[1], []).append(data)
                ids.append(str(next(self.ids)))
        return Response.json(200, self.pubsub.response("pubsub.projects.topics.publish", {"messageIds": ids}))
