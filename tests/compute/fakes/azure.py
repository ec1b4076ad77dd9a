"""A loopback fake of Azure Resource Manager for Virtual Machines and Function apps, and of
the function apps' HTTP endpoints.

Requests are validated against the management SDKs' request builders (:mod:`.arm`);
answers are built from the SDKs' own model classes (whose constructors refuse unknown
fields) and sent in their wire format (``as_dict()``).  Modelled: ``nextLink`` paging with
``$skiptoken``, long-running start/deallocate (202 + ``Azure-AsyncOperation`` polled to
``Succeeded``), ARM's error shape (``{"error": {"code", "message"}}``), function keys and a
function endpoint that echoes or, when told, fails with 500."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from azure.mgmt.compute import models as compute
from azure.mgmt.web import models as web

from .arm import ARMValidator
from .server import FakeServer, Rejected, Request, Response

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
TOKEN = "fake-arm-token"
FUNCTION_KEY = "fake-function-key-Q2x9"
PAGE = 7  # ARM decides page sizes; a small one makes 30 VMs five pages

_VM_BUILDERS = "azure.mgmt.compute.operations._operations"
_WEB_BUILDERS = "azure.mgmt.web.operations._operations"


class FakeCredential:
    """An ``azure.core`` async token credential with a fixed token (credential injection)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(datetime.now(timezone.utc).timestamp()) + 3600)

    async def close(self) -> None:
        return None


class AzureFake:
    """State and routes of the fake; :attr:`server` serves them."""

    def __init__(self) -> None:
        self.validator = ARMValidator(_VM_BUILDERS, _WEB_BUILDERS)
        self.lock = threading.Lock()
        self.vms: dict[tuple[str, str], dict[str, Any]] = {}
        self.power: dict[tuple[str, str], str] = {}
        self.sites: dict[tuple[str, str], dict[str, Any]] = {}
        self.functions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.operations: dict[str, tuple[int, tuple[str, str], str]] = {}  # id -> (polls left, vm, final)
        self.skiptokens: set[str] = set()
        self.fail_next: set[str] = set()
        self.failing_operations: dict[str, int] = {}  # VM name -> how many next operations fail
        self.received: dict[str, list[bytes]] = {}
        self.counter = itertools.count(1)
        self.server = FakeServer(self.handle)

    # -- arranging --------------------------------------------------------------------------

    def add_vm(self, group: str, name: str, tags: dict[str, str], power: str = "running") -> str:
        vm = compute.VirtualMachine(
            location="westeurope",
            tags=tags,
            properties=compute.VirtualMachineProperties(
                hardware_profile=compute.HardwareProfile(vm_size="Standard_B1s"),
            ),
        )
        data = vm.as_dict()
        data.update(
            id=f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}",
            name=name,
            type="Microsoft.Compute/virtualMachines",
        )
        data["properties"].update(vmId=str(uuid.uuid4()), provisioningState="Succeeded", timeCreated=_now())
        with self.lock:
            self.vms[(group, name)] = data
            self.power[(group, name)] = power
        return f"{group}/{name}"

    def add_function(self, group: str, app: str, name: str, tags: dict[str, str]) -> str:
        site_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Web/sites/{app}"
        with self.lock:
            if (group, app) not in self.sites:
                site = web.Site(
                    location="westeurope",
                    tags=tags,
                    kind="functionapp,linux",
                    properties=web.SiteProperties(enabled=True),
                ).as_dict()
                site.update(id=site_id, name=app, type="Microsoft.Web/sites")
                site["properties"].update(
                    state="Running", resourceGroup=group, defaultHostName=f"{app}.azurewebsites.net"
                )
                self.sites[(group, app)] = site
            function = web.FunctionEnvelope(
                properties=web.FunctionEnvelopeProperties(
                    function_app_id=site_id,
                    script_href=f"https://{app}.azurewebsites.net/admin/vfs/site/wwwroot/{name}/__init__.py",
                    config={"bindings": [{"type": "httpTrigger", "direction": "in", "methods": ["post"]}]},
                    invoke_url_template=f"{self.server.url}/api/{app}/{name}",
                    language="python",
                    is_disabled=False,
                )
            ).as_dict()
            function.update(
                id=f"{site_id}/functions/{name}", name=f"{app}/{name}", type="Microsoft.Web/sites/functions"
            )
            self.functions[(group, app, name)] = function
        return f"{group}/{app}/{name}"

    # -- serving ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.raw_path.startswith("/api/"):
            return self._invoke(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if "/providers/Microsoft.Compute/locations/" in request.raw_path and "/operations/" in request.raw_path:
            return self._operation_status(request)
        op, params = self.validator.match(request, skiptokens=self.skiptokens)
        if params.get("subscriptionId") != SUBSCRIPTION:
            return _error(
                404, "SubscriptionNotFound", f"The subscription '{params.get('subscriptionId')}' could not be found."
            )
        handler = getattr(self, "_" + op.name.removeprefix("build_").removesuffix("_request"), None)
        if handler is None:
            raise Rejected(f"the fake does not serve {op.name}")
        response: Response = handler(params)
        return response

    def _page(self, items: list[Any], params: dict[str, str], request_path: str) -> Response:
        start = int(params.get("$skiptoken", "0"))
        page = items[start : start + PAGE]
        answer: dict[str, Any] = {"value": page}
        if start + PAGE < len(items):
            token = str(start + PAGE)
            self.skiptokens.add(token)
            query = "&".join(f"{k}={v}" for k, v in params.items() if k in ("api-version", "statusOnly", "$expand"))
            answer["nextLink"] = f"{self.server.url}{request_path}?{query}&$skiptoken={token}"
        return Response.json(200, answer)

    # virtual machines

    def _vm_view(self, key: tuple[str, str]) -> dict[str, Any]:
        data = json.loads(json.dumps(self.vms[key]))
        view = compute.VirtualMachineInstanceView(
            statuses=[
                compute.InstanceViewStatus(
                    code="ProvisioningState/succeeded", level="Info", display_status="Provisioning succeeded"
                ),
                compute.InstanceViewStatus(
                    code=f"PowerState/{self.power[key]}", level="Info", display_status=f"VM {self.power[key]}"
                ),
            ]
        )
        data["properties"]["instanceView"] = view.as_dict()
        return data

    def _virtual_machines_list_all(self, params: dict[str, str]) -> Response:
        if params.get("statusOnly") != "true":
            raise Rejected("the client must ask for power states (statusOnly=true)")
        with self.lock:
            items = [self._vm_view(k) for k in sorted(self.vms)]
        return self._page(items, params, f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines")

    def _virtual_machines_list(self, params: dict[str, str]) -> Response:
        group = params["resourceGroupName"]
        with self.lock:
            items = [self._vm_view(k) for k in sorted(self.vms) if k[0] == group]
        path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines"
        return self._page(items, params, path)

    def _vm_key(self, params: dict[str, str]) -> tuple[str, str] | Response:
        key = (params["resourceGroupName"], params["vmName"])
        if key not in self.vms:
            return _error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/virtualMachines/{key[1]}' under resource group '{key[0]}' was not found.",
            )
        return key

    def _virtual_machines_get(self, params: dict[str, str]) -> Response:
        key = self._vm_key(params)
        if isinstance(key, Response):
            return key
        if params.get("$expand") != "instanceView":
            raise Rejected("get without $expand=instanceView has no power state")
        with self.lock:
            return Response.json(200, self._vm_view(key))

    def _lro(self, params: dict[str, str], during: str, final: str) -> Response:
        key = self._vm_key(params)
        if isinstance(key, Response):
            return key
        op_id = str(uuid.uuid4())
        with self.lock:
            self.power[key] = during
            self.operations[op_id] = (1, key, final)
        url = f"{self.server.url}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/locations/westeurope/operations/{op_id}?api-version={params['api-version']}"
        # no Retry-After: the SDK then polls every polling_interval (set small by the tests)
        return Response(202, b"", {"Azure-AsyncOperation": url, "Location": url})

    def _virtual_machines_start(self, params: dict[str, str]) -> Response:
        return self._lro(params, "starting", "running")

    def _virtual_machines_deallocate(self, params: dict[str, str]) -> Response:
        return self._lro(params, "deallocating", "deallocated")

    def _operation_status(self, request: Request) -> Response:
        op_id = request.raw_path.rsplit("/", 1)[1]
        if request.method != "GET" or op_id not in self.operations:
            raise Rejected(f"unknown operation status request {request.method} {request.raw_path}")
        with self.lock:
            polls, key, final = self.operations[op_id]
            if polls > 0:
                self.operations[op_id] = (polls - 1, key, final)
                return Response.json(200, {"name": op_id, "status": "InProgress", "startTime": _now()})
            if self.failing_operations.get(key[1], 0) > 0:
                self.failing_operations[key[1]] -= 1
                self.power[key] = "deallocated"
                error = {
                    "code": "AllocationFailed",
                    "message": "Allocation failed. We do not have sufficient capacity.",
                }
                return Response.json(200, {"name": op_id, "status": "Failed", "startTime": _now(), "error": error})
            if key in self.power:
                self.power[key] = final
        return Response.json(200, {"name": op_id, "status": "Succeeded", "startTime": _now(), "endTime": _now()})

    # function apps

    def _web_apps_list(self, params: dict[str, str]) -> Response:
        with self.lock:
            items = [self.sites[k] for k in sorted(self.sites)]
        return self._page(items, params, f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Web/sites")

    def _web_apps_list_by_resource_group(self, params: dict[str, str]) -> Response:
        group = params["resourceGroupName"]
        with self.lock:
            items = [self.sites[k] for k in sorted(self.sites) if k[0] == group]
        return self._page(
            items, params, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Web/sites"
        )

    def _site(self, params: dict[str, str]) -> tuple[str, str] | Response:
        key = (params["resourceGroupName"], params["name"])
        if key not in self.sites:
            return _error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Web/sites/{key[1]}' under resource group '{key[0]}' was not found.",
            )
        return key

    def _web_apps_get(self, params: dict[str, str]) -> Response:
        key = self._site(params)
        return key if isinstance(key, Response) else Response.json(200, self.sites[key])

    def _web_apps_list_functions(self, params: dict[str, str]) -> Response:
        key = self._site(params)
        if isinstance(key, Response):
            return key
        with self.lock:
            items = [v for (g, a, _), v in sorted(self.functions.items()) if (g, a) == key]
        return self._page(items, params, f"{self.sites[key]['id']}/functions")

    def _function(self, params: dict[str, str]) -> tuple[str, str, str] | Response:
        key = (params["resourceGroupName"], params["name"], params["functionName"])
        if key not in self.functions:
            return _error(404, "NotFound", f"Error retrieving function {key[2]}: not found")
        return key

    def _web_apps_get_function(self, params: dict[str, str]) -> Response:
        key = self._function(params)
        return key if isinstance(key, Response) else Response.json(200, self.functions[key])

    def _web_apps_list_function_keys(self, params: dict[str, str]) -> Response:
        key = self._function(params)
        if isinstance(key, Response):
            return key
        return Response.json(200, web.StringDictionary(properties={"default": FUNCTION_KEY}).as_dict())

    def _invoke(self, request: Request) -> Response:
        _, _, app, name = request.raw_path.split("/", 3)
        if request.method != "POST":
            return Response(405, b"")
        if request.headers.get("x-functions-key") != FUNCTION_KEY:
            return Response(401, b"")
        if not any(a == app and n == name for _, a, n in self.functions):
            return Response(404, b"")
        with self.lock:
            self.received.setdefault(name, []).append(request.body)
            failing = name in self.fail_next
            self.fail_next.discard(name)
        if failing:
            return Response(
                500, b"Exception while executing function: Functions.%s -> division by zero" % name.encode()
            )
        return Response(
            200, request.body, {"Content-Type": request.headers.get("content-type", "application/octet-stream")}
        )


def _error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": {"code": code, "message": message}})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
