"""Generate the Coda client's operation table and methods from Coda's OpenAPI document.

    python tools/coda_codegen.py            # (re)write the generated modules
    python tools/coda_codegen.py --check    # fail if they differ from what the spec gives

Inputs: ``openapi.json`` (Coda API v1, 1.5.0) and ``endpoints.tsv``, vendored in the repository
under ``spec/coda/`` (``spec/coda/SOURCE.md`` says where they come from), or ``$CODA_SPEC_DIR``.
Outputs, all under ``cloud/coda_io/``:

* ``_table.py``  -- one :class:`~cloud.coda_io.spec.OperationSpec` per operation (facts only);
* ``enums.py``   -- ``Literal`` aliases for the spec's enumerations used in parameters;
* ``operations/<tag>.py`` -- one mixin per tag with a coroutine method per operation;
* ``operations/__init__.py`` -- ``CodaOperations``, every mixin together.

Only facts are taken from the spec (names, methods, paths, parameters, types); the
docstrings are written here in our own words.  The published spec has two paths with a
literal ``${docId}``; they are generated as ``/docs/{docId}/domains``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cloud" / "coda_io"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def default_spec_dir() -> Path:
    """Where the vendored spec lives: ``$CODA_SPEC_DIR`` or ``spec/coda`` in the repository."""
    env = os.environ.get("CODA_SPEC_DIR")
    return Path(env) if env else ROOT / "spec" / "coda"


_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    return _BOUNDARY.sub("_", name).lower()


def pascal_case(name: str) -> str:
    return name[:1].upper() + name[1:]


# -- our own words, one line per operation -----------------------------------------------------

DESCRIPTIONS: dict[str, str] = {
    "listCategories": "List the categories that published docs can be filed under.",
    "listDocs": "List the docs the token can see, optionally filtered.",
    "createDoc": "Create a doc, empty or as a copy of ``source_doc``, optionally inside a folder.",
    "getDoc": "Fetch the metadata of one doc.",
    "deleteDoc": "Delete a doc.",
    "updateDoc": "Change a doc's title or icon.",
    "getSharingMetadata": "Report what the token may do with a doc's sharing settings.",
    "getPermissions": "List who has access to a doc.",
    "addPermission": "Grant a principal (email, group, domain, workspace or anyone) access to a doc.",
    "deletePermission": "Remove one entry from a doc's access list.",
    "searchPrincipals": "Search the users and groups a doc can be shared with.",
    "getAclSettings": "Fetch a doc's sharing options.",
    "updateAclSettings": "Change a doc's sharing options.",
    "publishDoc": "Publish a doc, or change how it is published.",
    "unpublishDoc": "Stop publishing a doc.",
    "listPages": "List the pages of a doc.",
    "createPage": "Add a page to a doc, optionally with initial content and under a parent page.",
    "getPage": "Fetch the metadata of one page.",
    "updatePage": "Change a page's name, subtitle, icon, image or visibility, or its content.",
    "deletePage": "Delete a page.",
    "listPageContent": "List the content elements of a page.",
    "deletePageContent": "Delete some content elements of a page, or all of them.",
    "beginPageContentExport": "Start exporting a page as HTML or Markdown (:meth:`export_page` does the whole job).",
    "getPageContentExportStatus": "Check a page export; once complete it carries the download link.",
    "listTables": "List the tables and views of a doc.",
    "getTable": "Fetch one table or view.",
    "listColumns": "List the columns of a table.",
    "listRows": "List the rows of a table, optionally filtered by a ``column:value`` query.",
    "upsertRows": "Insert rows, or update those matching ``key_columns``.",
    "deleteRows": "Delete several rows by id.",
    "getRow": "Fetch one row by id or name.",
    "updateRow": "Change cells of one row.",
    "deleteRow": "Delete one row.",
    "pushButton": "Press the button of a button column in one row.",
    "getColumn": "Fetch one column with its format and formula.",
    "listFormulas": "List the named formulas of a doc.",
    "getFormula": "Fetch a named formula and its current value.",
    "listControls": "List the controls of a doc.",
    "getControl": "Fetch a control and its current value.",
    "listCustomDocDomains": "List the custom domains of a published doc.",
    "addCustomDocDomain": "Attach a custom domain to a published doc.",
    "deleteCustomDocDomain": "Detach a custom domain from a doc.",
    "updateCustomDocDomain": "Refresh the settings of a doc's custom domain.",
    "getCustomDocDomainProvider": "Tell which provider serves a domain name.",
    "listFolders": "List the folders the token can see.",
    "createFolder": "Create a folder in a workspace.",
    "getFolder": "Fetch one folder.",
    "updateFolder": "Rename a folder or change its description.",
    "deleteFolder": "Delete a folder.",
    "whoami": "Describe the user (and the token) making the calls.",
    "resolveBrowserLink": "Turn the browser URL of a Coda object into its API resource.",
    "getMutationStatus": "Check whether an asynchronous write has been applied.",
    "triggerWebhookAutomation": "Run a doc's webhook-triggered automation rule with an optional JSON payload.",
    "listDocAnalytics": "List analytics per doc.",
    "listPageAnalytics": "List analytics per page of one doc.",
    "listDocAnalyticsSummary": "Summarise doc analytics over a period.",
    "listPackAnalytics": "List analytics per Pack.",
    "listPackAnalyticsSummary": "Summarise Pack analytics over a period.",
    "listPackFormulaAnalytics": "List analytics per formula of one Pack.",
    "getAnalyticsLastUpdated": "Tell up to which day the analytics have been computed.",
    "listWorkspaceMembers": "List the members of a workspace, optionally only some roles.",
    "changeUserRole": "Change the role of a workspace member.",
    "listWorkspaceRoleActivity": "Summarise the role activity of a workspace.",
    "listPacks": "List the Packs the token can see.",
    "createPack": "Register a new Pack.",
    "getPack": "Fetch one Pack.",
    "updatePack": "Change a Pack's metadata.",
    "deletePack": "Delete a Pack.",
    "getPackConfigurationSchema": "Fetch the JSON Schema of a Pack's configuration.",
    "listPackVersions": "List the versions of a Pack.",
    "getNextPackVersion": "Ask which version number an upload with the given metadata should take.",
    "getPackVersionDiffs": "Compare two versions of a Pack.",
    "registerPackVersion": "Reserve a Pack version and get where to upload its bundle.",
    "packVersionUploadComplete": "Tell Coda that a Pack version's bundle has been uploaded.",
    "createPackRelease": "Release a version of a Pack.",
    "listPackReleases": "List the releases of a Pack.",
    "updatePackRelease": "Change the notes of a Pack release.",
    "listPackReviews": "List the reviews of a Pack.",
    "createPackReview": "Submit a Pack for review.",
    "cancelPackReview": "Withdraw a Pack's pending review.",
    "getPackListingDraft": "Fetch a Pack's listing draft.",
    "upsertPackListingDraft": "Create or replace a Pack's listing draft.",
    "deletePackListingDraft": "Delete a Pack's listing draft.",
    "setPackOauthConfig": "Set a Pack's OAuth client settings.",
    "getPackOauthConfig": "Fetch a Pack's OAuth settings (secrets come back masked).",
    "setPackSystemConnection": "Set the credentials of a Pack's system-wide connection.",
    "patchPackSystemConnection": "Change part of the credentials of a Pack's system-wide connection.",
    "getPackSystemConnection": "Fetch what is known about a Pack's system-wide connection.",
    "getPackPermissions": "List who may use or edit a Pack.",
    "addPackPermission": "Grant a principal access to a Pack.",
    "deleteUserPackPermission": "Remove the calling user's own access to a Pack.",
    "deletePackPermission": "Remove one access entry of a Pack.",
    "listUserPackInvitations": "List the Pack invitations waiting for the calling user.",
    "listPackInvitations": "List the invitations sent for a Pack.",
    "createPackInvitation": "Invite someone, by email, to a Pack.",
    "updatePackInvitation": "Change the access a Pack invitation grants.",
    "deletePackInvitation": "Revoke a Pack invitation.",
    "replyToPackInvitation": "Accept or decline a Pack invitation.",
    "listPackMakers": "List the makers credited on a Pack.",
    "addPackMaker": "Credit a maker on a Pack.",
    "deletePackMaker": "Remove a maker from a Pack.",
    "listPackCategories": "List the categories a Pack is in.",
    "addPackCategory": "Put a Pack in a category.",
    "deletePackCategory": "Take a Pack out of a category.",
    "uploadPackAsset": "Get where to upload a Pack image (logo, cover, example).",
    "uploadPackSourceCode": "Get where to upload a Pack's source code.",
    "packAssetUploadComplete": "Tell Coda that a Pack image has been uploaded.",
    "packSourceCodeUploadComplete": "Tell Coda that a Pack's source code has been uploaded.",
    "getPackSourceCode": "Fetch where to download the source code of a Pack version.",
    "listPackListings": "List the Pack listings the calling user can see.",
    "getPackListing": "Fetch the full listing of a Pack.",
    "listPackLogs": "List a Pack's logs in one doc.",
    "listIngestionLogs": "List the logs of a Pack ingestion.",
    "listGroupedPackLogs": "List a Pack's logs in one doc, grouped by invocation.",
    "listGroupedIngestionLogs": "List the logs of a Pack ingestion, grouped by invocation.",
    "listIngestionBatchExecutions": "List the batch executions of a Pack ingestion.",
    "listIngestionParentItems": "List the parent items handled by one ingestion batch execution.",
    "getPackLogDetails": "Fetch the details of one ingestion log entry.",
    "listPackFeaturedDocs": "List the docs featured on a Pack's listing.",
    "updatePackFeaturedDocs": "Replace the docs featured on a Pack's listing.",
    "addGoLink": "Create a go link in an organization.",
    "listAgentSessionIds": "List the chat session ids of an agent instance.",
    "listAgentLogs": "List the logs of an agent instance.",
    "getAgentPackLogDetails": "Fetch the details of one agent log entry.",
}

# Response schemas that become models; anything else is returned as a JSON object.
MODEL_FOR_SCHEMA: dict[str, str] = {
    "Doc": "Doc",
    "DocumentCreationResult": "CreatedDoc",
    "Page": "Page",
    "TableReference": "Table",
    "Table": "Table",
    "Column": "Column",
    "ColumnDetail": "Column",
    "Row": "Row",
    "RowDetail": "Row",
    "FormulaReference": "Formula",
    "Formula": "Formula",
    "ControlReference": "Control",
    "Control": "Control",
    "Permission": "Permission",
    "Folder": "Folder",
    "Pack": "Pack",
    "PackSummary": "Pack",
    "MutationStatus": "MutationStatus",
    "User": "User",
    "BeginPageContentExportResponse": "PageContentExport",
    "PageContentExportStatusResponse": "PageContentExport",
}

# Bodies that are not a fixed set of fields: sent whole from one keyword argument.
PAYLOAD_BODIES: dict[str, tuple[str, str]] = {
    "triggerWebhookAutomation": ("payload", "the JSON object handed to the automation rule"),
    "patchPackSystemConnection": ("patch", "the credential fields to change, with their ``type``"),
}

MODULE_FOR_TAG: dict[str, str] = {
    "Account": "account",
    "Analytics": "analytics",
    "Automations": "automations",
    "Columns": "columns",
    "Controls": "controls",
    "CustomDocDomains": "custom_doc_domains",
    "Docs": "docs",
    "Folders": "folders",
    "Formulas": "formulas",
    "Go Links": "go_links",
    "Miscellaneous": "miscellaneous",
    "Packs": "packs",
    "Pages": "pages",
    "Permissions": "permissions",
    "Publishing": "publishing",
    "Rows": "rows",
    "Tables": "tables",
    "Workspaces": "workspaces",
}

PYTHON_KEYWORDS = {"from", "in", "is", "not", "and", "or", "class", "def", "import", "global", "lambda", "return"}
RESERVED_KWARGS = {"self", "timeout", "limit", "page_token"}


# -- reading the spec ---------------------------------------------------------------------------


@dataclass
class Param:
    wire: str
    name: str
    annotation: str
    required: bool
    description: str = ""


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    path_params: list[Param]
    query_params: list[Param]
    body_fields: list[Param]
    has_body: bool
    body_kind: str  # "none" | "fields" | "payload"
    paginated: bool
    has_limit: bool
    returns_request_id: bool
    success_status: int
    returns: str  # model class or "JSONObject"
    item: str | None  # item model of a paginated listing
    imports: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return snake_case(self.operation_id)


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        self.parameters: dict[str, Any] = document["components"]["parameters"]
        self.responses: dict[str, Any] = document["components"].get("responses", {})
        self.enums: dict[str, tuple[str, ...]] = {}

    def ref(self, node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        name = None
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = self.schemas[name]
        return name, node

    def enum_alias(self, name: str, values: list[Any]) -> str:
        key = tuple(str(v) for v in values)
        if name in self.enums and self.enums[name] != key:
            raise SystemExit(f"enum name clash: {name}")
        self.enums[name] = key
        return name

    def annotation(self, schema: dict[str, Any], fallback_name: str, imports: set[str]) -> str:
        """The Python type of a parameter or body field."""
        ref_name, node = self.ref(schema) if "$ref" in schema else (None, schema)
        if "enum" in node and node.get("type", "string") == "string":
            alias = self.enum_alias(ref_name or pascal_case(fallback_name), node["enum"])
            imports.add(f"enum:{alias}")
            return alias
        if "allOf" in node or "oneOf" in node or "anyOf" in node:
            imports.add("types:JSONMapping")
            return "JSONMapping"
        kind = node.get("type")
        if kind == "array":
            inner = self.annotation(node.get("items", {}), fallback_name, imports)
            imports.add("abc:Sequence")
            return f"Sequence[{inner}]"
        if kind == "string":
            fmt = node.get("format")
            if fmt == "date":
                imports.add("datetime:date")
                return "str | date"
            if fmt == "date-time":
                imports.add("datetime:datetime")
                return "str | datetime"
            return "str"
        if kind == "boolean":
            return "bool"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        imports.add("types:JSONMapping")
        return "JSONMapping"

    def parameter(self, raw: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in raw:
            return dict(self.parameters[raw["$ref"].rsplit("/", 1)[-1]])
        return raw

    def flat_properties(self, schema: dict[str, Any]) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
        _, node = self.ref(schema) if "$ref" in schema else (None, schema)
        if "allOf" in node:
            props: dict[str, Any] = {}
            required: list[str] = []
            for part in node["allOf"]:
                p, r, _ = self.flat_properties(part)
                props.update(p)
                required.extend(r)
            return props, required, node
        return dict(node.get("properties", {})), list(node.get("required", [])), node

    def response_schema(self, op: dict[str, Any]) -> tuple[int, str | None]:
        for code, response in op["responses"].items():
            if not code.startswith("2"):
                continue
            if "$ref" in response:
                response = self.responses[response["$ref"].rsplit("/", 1)[-1]]
            content = response.get("content", {}).get("application/json", {})
            schema = content.get("schema", {})
            name = schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None
            return int(code), name
        raise SystemExit(f"no success response for {op['operationId']}")


def load_operations(spec_dir: Path) -> tuple[list[Operation], dict[str, tuple[str, ...]]]:
    document = json.loads((spec_dir / "openapi.json").read_text(encoding="utf-8"))
    with (spec_dir / "endpoints.tsv").open(encoding="utf-8", newline="") as handle:
        rows = {row["operationId"]: row for row in csv.DictReader(handle, delimiter="\t")}
    spec = Spec(document)
    operations: list[Operation] = []
    for raw_path, item in document["paths"].items():
        common = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            operation_id = op["operationId"]
            if operation_id not in DESCRIPTIONS:
                raise SystemExit(f"write a description for {operation_id}")
            imports: set[str] = set()
            path = raw_path.replace("${", "{")
            path_order = re.findall(r"\{([A-Za-z0-9_]+)\}", path)
            by_location: dict[str, dict[str, Param]] = {"path": {}, "query": {}}
            for raw in [*common, *op.get("parameters", [])]:
                p = spec.parameter(raw)
                if p["in"] not in by_location:
                    raise SystemExit(f"unsupported parameter location {p['in']} in {operation_id}")
                annotation = spec.annotation(p.get("schema", {}), p["name"], imports)
                by_location[p["in"]][p["name"]] = Param(
                    wire=p["name"],
                    name=snake_case(p["name"]),
                    annotation=annotation,
                    required=bool(p.get("required")) or p["in"] == "path",
                )
            path_params = [by_location["path"][wire] for wire in path_order]
            if set(by_location["path"]) != set(path_order):
                raise SystemExit(f"path parameters of {operation_id} do not match its path")
            query_params = list(by_location["query"].values())
            paginated = "pageToken" in by_location["query"]
            has_limit = "limit" in by_location["query"]
            body_fields: list[Param] = []
            body_kind = "none"
            request_body = op.get("requestBody")
            if request_body is not None:
                if operation_id in PAYLOAD_BODIES:
                    body_kind = "payload"
                else:
                    body_kind = "fields"
                    schema = request_body["content"]["application/json"]["schema"]
                    props, required, _ = spec.flat_properties(schema)
                    for wire, prop in props.items():
                        body_fields.append(
                            Param(
                                wire=wire,
                                name=snake_case(wire),
                                annotation=spec.annotation(prop, wire, imports),
                                required=wire in required,
                            )
                        )
            status, schema_name = spec.response_schema(op)
            returns = "JSONObject"
            item_model: str | None = None
            returns_request_id = rows[operation_id]["returns_requestId"] == "yes"
            if paginated:
                props, _, _ = spec.flat_properties({"$ref": f"#/components/schemas/{schema_name}"})
                items = props.get("items", {}).get("items", {})
                item_schema = items["$ref"].rsplit("/", 1)[-1] if "$ref" in items else None
                item_model = MODEL_FOR_SCHEMA.get(item_schema or "", "JSONObject")
            elif schema_name in MODEL_FOR_SCHEMA:
                returns = MODEL_FOR_SCHEMA[schema_name]
            elif schema_name is not None:
                props, required, _ = spec.flat_properties({"$ref": f"#/components/schemas/{schema_name}"})
                if "requestId" in required:
                    returns = "MutationResult"
            operation = Operation(
                operation_id=operation_id,
                method=method.upper(),
                path=path,
                tag=op["tags"][0],
                path_params=path_params,
                query_params=query_params,
                body_fields=body_fields,
                has_body=request_body is not None,
                body_kind=body_kind,
                paginated=paginated,
                has_limit=has_limit,
                returns_request_id=returns_request_id,
                success_status=status,
                returns=returns,
                item=item_model,
                imports=imports,
            )
            check_names(operation)
            operations.append(operation)
    if len(operations) != len(rows):
        raise SystemExit(f"spec has {len(operations)} operations, endpoints.tsv {len(rows)}")
    return operations, spec.enums


def check_names(op: Operation) -> None:
    seen: set[str] = set()
    for p in [*op.path_params, *op.query_params, *op.body_fields]:
        if p.wire in ("limit", "pageToken") and op.paginated:
            continue
        if p.name in seen or p.name in PYTHON_KEYWORDS or p.name in RESERVED_KWARGS:
            raise SystemExit(f"{op.operation_id}: argument name {p.name!r} clashes")
        seen.add(p.name)


# -- writing code -------------------------------------------------------------------------------

HEADER = "# Generated by tools/coda_codegen.py from Coda's OpenAPI document; do not edit by hand.\n"


def render_table(operations: list[Operation]) -> str:
    lines = [
        HEADER,
        '"""Every operation of Coda API v1 (generated from the published spec; facts only)."""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "",
        "from .spec import OperationSpec",
        "",
        '__all__ = ["OPERATIONS", "OPERATIONS_BY_ID"]',
        "",
        "OPERATIONS: tuple[OperationSpec, ...] = (",
    ]
    for op in operations:
        lines += [
            "    OperationSpec(",
            f"        operation_id={op.operation_id!r},",
            f"        method={op.method!r},",
            f"        path={op.path!r},",
            f"        tag={op.tag!r},",
            f"        path_params={tuple(p.wire for p in op.path_params)!r},",
            f"        query_params={tuple(p.wire for p in op.query_params)!r},",
            f"        body_fields={tuple(p.wire for p in op.body_fields)!r},",
            f"        has_body={op.has_body!r},",
            f"        paginated={op.paginated!r},",
            f"        returns_request_id={op.returns_request_id!r},",
            f"        success_status={op.success_status!r},",
            "    ),",
        ]
    lines += [
        ")",
        '"""One record per operation, in the order of the spec."""',
        "",
        "OPERATIONS_BY_ID: Mapping[str, OperationSpec] = MappingProxyType({op.operation_id: op for op in OPERATIONS})",
        '"""The records by ``operationId``."""',
        "",
    ]
    return "\n".join(lines)


def render_enums(enums: dict[str, tuple[str, ...]]) -> str:
    names = sorted(enums)
    lines = [
        HEADER,
        '"""The enumerations of Coda\'s API used in parameters, as ``Literal`` aliases."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Literal, TypeAlias",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in names) + "]",
        "",
    ]
    for name in names:
        values = ", ".join(json.dumps(v) for v in enums[name])
        lines.append(f"{name}: TypeAlias = Literal[{values}]")
        lines.append(f'"""Values Coda accepts for ``{name}``."""')
        lines.append("")
    return "\n".join(lines)


def _doc(op: Operation) -> list[str]:
    rate = rate_class_note(op)
    lines = [DESCRIPTIONS[op.operation_id], ""]
    lines.append(f"``{op.method} {op.path}``; rate class ``{rate}``.")
    if op.paginated:
        size = " ``limit`` is the page size;" if op.has_limit else ""
        lines.append(
            f"Returns a lazy listing that fetches pages as you iterate;{size} ``page_token`` resumes a listing."
        )
    if op.returns == "MutationResult":
        lines.append("Coda applies the change asynchronously: pass ``request_id`` to :meth:`wait_for_mutation`.")
    if op.body_kind == "payload":
        kwarg, what = PAYLOAD_BODIES[op.operation_id]
        lines.append(f"``{kwarg}`` is {what}; it is sent as the JSON body.")
    renamed = [p for p in [*op.query_params, *op.body_fields] if p.name != p.wire]
    if renamed:
        lines.append("On the wire: " + ", ".join(f"``{p.name}`` is ``{p.wire}``" for p in renamed) + ".")
    wrapped: list[str] = [lines[0], ""]
    paragraph = " ".join(lines[2:])
    wrapped += textwrap.wrap(paragraph, width=100, break_long_words=False, break_on_hyphens=False)
    return wrapped


@functools.cache
def _rate_classes() -> Any:
    """``cloud/coda_io/rate_classes.py`` loaded alone: the package may not import while its
    generated modules are being rewritten."""
    loader = importlib.util.spec_from_file_location("_coda_rate_classes", PACKAGE / "rate_classes.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def rate_class_note(op: Operation) -> str:
    rate: str = _rate_classes().rate_class_for(op.operation_id, op.method, op.path)
    return rate


def render_method(op: Operation) -> list[str]:
    args = ["self"]
    for p in op.path_params:
        args.append(f"{p.name}: {p.annotation}")
    keyword: list[str] = []
    regular_query = [p for p in op.query_params if not (op.paginated and p.wire in ("limit", "pageToken"))]
    fields = regular_query + op.body_fields
    for p in [q for q in fields if q.required]:
        keyword.append(f"{p.name}: {p.annotation}")
    if op.body_kind == "payload":
        kwarg, _ = PAYLOAD_BODIES[op.operation_id]
        required = op.operation_id == "patchPackSystemConnection"
        keyword.append(f"{kwarg}: JSONMapping" if required else f"{kwarg}: JSONMapping | None = None")
    for p in [q for q in fields if not q.required]:
        keyword.append(f"{p.name}: {p.annotation} | None = None")
    if op.paginated:
        if op.has_limit:
            keyword.append("limit: int | None = None")
        keyword.append("page_token: str | None = None")
    keyword.append("timeout: float | None = None")
    if op.paginated:
        ret = f"AsyncPaginator[{op.item}]"
        head = f"    def {op.name}("
    else:
        ret = op.returns
        head = f"    async def {op.name}("
    lines = [
        head,
        *(f"        {a}," for a in args),
        "        *,",
        *(f"        {a}," for a in keyword),
        f"    ) -> {ret}:",
    ]
    doc = _doc(op)
    lines.append(f'        """{doc[0]}')
    for d in doc[1:]:
        lines.append(f"        {d}" if d else "")
    lines.append('        """')
    names = [p.name for p in op.path_params]
    path_args = "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"
    query = "{" + ", ".join(f"{p.wire!r}: {p.name}" for p in regular_query) + "}"
    call_kwargs: list[str] = []
    if op.paginated:
        call_kwargs.append(f"query={query}")
        call_kwargs.append("limit=" + ("limit" if op.has_limit else "None"))
        call_kwargs.append("page_token=page_token")
        builder = "json_object" if op.item == "JSONObject" else f"{op.item}.from_json"
        call_kwargs.append(f"build={builder}")
        call_kwargs.append("timeout=timeout")
        lines.append(f"        return self._paginate({op.operation_id!r}, {path_args}, {', '.join(call_kwargs)})")
        return lines
    if regular_query:
        call_kwargs.append(f"query={query}")
    if op.body_kind == "fields":
        body = "{" + ", ".join(f"{p.wire!r}: {p.name}" for p in op.body_fields) + "}"
        call_kwargs.append(f"body=compact({body})")
    elif op.body_kind == "payload":
        kwarg, _ = PAYLOAD_BODIES[op.operation_id]
        call_kwargs.append(
            f"body={kwarg}" if op.operation_id == "patchPackSystemConnection" else f"body={kwarg} or {{}}"
        )
    call_kwargs.append("timeout=timeout")
    call = f"await self._call({op.operation_id!r}, {path_args}, {', '.join(call_kwargs)})"
    if op.returns == "JSONObject":
        lines.append(f"        return {call}")
    else:
        lines.append(f"        return {op.returns}.from_json({call})")
    return lines


def class_name(tag: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", tag)) + "Operations"


def render_module(tag: str, ops: list[Operation]) -> str:
    imports: set[str] = set()
    for op in ops:
        imports |= op.imports
    uses = "\n".join("\n".join(render_method(op)) for op in ops)
    models = sorted({m for op in ops for m in (op.returns, op.item) if m and m != "JSONObject"})
    enum_names = sorted(i.split(":", 1)[1] for i in imports if i.startswith("enum:"))
    type_names = {i.split(":", 1)[1] for i in imports if i.startswith("types:")}
    if any(op.returns == "JSONObject" and not op.paginated for op in ops) or "json_object" in uses:
        type_names.add("JSONObject")
    if any(op.body_kind == "payload" for op in ops):
        type_names.add("JSONMapping")
    base_names = ["OperationsBase"]
    if "compact(" in uses:
        base_names.append("compact")
    if "json_object" in uses:
        base_names.append("json_object")
    lines = [
        HEADER,
        f'"""Coda API operations tagged {tag!r}."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    std: list[str] = []
    if "abc:Sequence" in imports:
        std.append("from collections.abc import Sequence")
    dt = sorted(i.split(":", 1)[1] for i in imports if i.startswith("datetime:"))
    if dt:
        std.append(f"from datetime import {', '.join(dt)}")
    if std:
        lines += [*std, ""]
    if any(op.paginated for op in ops):
        lines += ["from cloud.common.pagination import AsyncPaginator", ""]
    if enum_names:
        lines.append(f"from ..enums import {', '.join(enum_names)}")
    if models:
        lines.append(f"from ..models import {', '.join(models)}")
    if type_names:
        lines.append(f"from ..types import {', '.join(sorted(type_names))}")
    lines.append(f"from ._base import {', '.join(base_names)}")
    lines += [
        "",
        f'__all__ = ["{class_name(tag)}"]',
        "",
        "",
        f"class {class_name(tag)}(OperationsBase):",
        f'    """The {tag} operations of :class:`~cloud.coda_io.CodaClient`."""',
        "",
    ]
    bodies = ["\n".join(render_method(op)) for op in ops]
    lines.append("\n\n".join(bodies))
    lines.append("")
    return "\n".join(lines)


def render_init(tags: list[str]) -> str:
    ordered = sorted(tags, key=lambda t: MODULE_FOR_TAG[t])
    lines = [
        HEADER,
        '"""Every operation of Coda API v1, one mixin per tag, combined in :class:`CodaOperations`."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    for tag in ordered:
        lines.append(f"from .{MODULE_FOR_TAG[tag]} import {class_name(tag)}")
    lines += [
        "",
        '__all__ = ["CodaOperations"]',
        "",
        "",
        "class CodaOperations(",
        *(f"    {class_name(tag)}," for tag in ordered),
        "):",
        '    """All generated operation methods."""',
        "",
    ]
    return "\n".join(lines)


def render_all(spec_dir: Path) -> dict[Path, str]:
    """Every generated file and its content."""
    operations, enums = load_operations(spec_dir)
    files: dict[Path, str] = {
        PACKAGE / "_table.py": render_table(operations),
        PACKAGE / "enums.py": render_enums(enums),
    }
    by_tag: dict[str, list[Operation]] = {}
    for op in operations:
        by_tag.setdefault(op.tag, []).append(op)
    for tag, ops in by_tag.items():
        if tag not in MODULE_FOR_TAG:
            raise SystemExit(f"choose a module name for tag {tag!r}")
        files[PACKAGE / "operations" / f"{MODULE_FOR_TAG[tag]}.py"] = render_module(tag, ops)
    files[PACKAGE / "operations" / "__init__.py"] = render_init(list(by_tag))
    return files


def format_source(path: Path, text: str) -> str:
    """Format like the repository does (ruff format), when ruff is available."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return text
    return done.stdout


def same_code(a: str, b: str) -> bool:
    """Whether two sources are the same program (formatting ignored)."""
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec-dir", type=Path, default=None, help="folder with openapi.json and endpoints.tsv")
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)
    spec_dir = args.spec_dir or default_spec_dir()
    files = render_all(spec_dir)
    stale = []
    for path, text in files.items():
        if args.check:
            if not path.exists() or not same_code(path.read_text(encoding="utf-8"), text):
                stale.append(path)
            continue
        path.write_text(format_source(path, text), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale generated files (run python tools/coda_codegen.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
