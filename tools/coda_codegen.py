"""Generate the Coda client's operation table and methods from Coda's OpenAPI document.

    python tools/coda_codegen.py            # (re)write the generated modules
    python tools/coda_codegen.py --check    # fail if they differ from what the spec gives

Inputs: ``openapi.json`` (Coda API v1, 1.5.0) and ``endpoints.tsv``, vendored in the repository
under ``spec/coda/`` (``spec/coda/SOURCE.md`` says where they come from), or ``$CODA_SPEC_DIR``.
Outputs, all in ``cloud/coda_io/_generated/`` (only generated code that runs; the
hand-written modules around it -- ``_table.py``, ``enums.py``, ``models.py``,
``_operation_base.py``, ``_modelbase.py``, ``validation.py`` -- re-export, support or use it):

* ``table.py``   -- one :class:`~cloud.coda_io.spec.OperationSpec` per operation (facts only);
* ``enums.py``   -- ``Literal`` aliases for the spec's enumerations used in parameters;
* ``rules.py``   -- the constraints checked before sending (enums, ``minimum``/``maximum``,
  lengths, item counts, date formats), one :class:`~cloud.coda_io.validation.ParamRule` per
  constrained parameter or top-level body field, enumerations taken from ``enums.py``;
* ``models.py``  -- a class per component schema: models, ``CodaEnum`` enumerations, union
  aliases and their ``parse_*`` functions (what every operation returns);
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
    rule: str | None = None  # ``ParamRule(...)`` source: what validation checks before sending


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
    returns: str  # model class, or the union alias when ``parser`` is set
    item: str | None  # item model (or union alias) of a paginated listing
    mutation: bool  # the answer carries a ``requestId`` to wait for
    parser: str | None = None  # ``parse_*`` function building a union result (or listing item)
    imports: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return snake_case(self.operation_id)


# Spec keywords checked before sending, and the ``ParamRule`` fields that hold them.
RULE_BOUNDS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("minLength", "min_length"),
    ("maxLength", "max_length"),
    ("minItems", "min_items"),
    ("maxItems", "max_items"),
)


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

    def rule(self, schema: dict[str, Any], fallback_name: str) -> str | None:
        """The ``ParamRule(...)`` (source) of a parameter or body field: its enum, bounds,
        lengths, item counts and date format; ``None`` when it has none.  An enumeration that
        :meth:`annotation` made a ``Literal`` alias is taken from that alias (``get_args``)."""
        ref_name, node = self.ref(schema)
        if "allOf" in node and len(node["allOf"]) == 1:
            ref_name, node = self.ref(node["allOf"][0])
        args: list[str] = []
        if "enum" in node:
            values = tuple(node["enum"])
            alias = ref_name or pascal_case(fallback_name)
            if all(isinstance(v, str) for v in values) and self.enums.get(alias) == values:
                args.append(f"enum=get_args({alias})")
            else:
                args.append(f"enum={values!r}")
        for key, keyword in RULE_BOUNDS:
            if key in node:
                args.append(f"{keyword}={node[key]!r}")
        if node.get("format") in ("date", "date-time"):
            args.append(f"format={node['format']!r}")
        if node.get("type") == "array":
            items = self.rule(node.get("items", {}), fallback_name)
            if items is not None:
                args.append(f"items={items}")
        return f"ParamRule({', '.join(args)})" if args else None

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


def result_class(gen: ModelGen, schema: str) -> tuple[str, str | None]:
    """The class (or union alias) an answer of ``schema`` becomes, and its parse function."""
    kind = gen.kind(schema)
    if kind == "union":
        return schema, parser_name(schema)
    if kind != "model":
        raise SystemExit(f"answers of schema {schema} ({kind}) are not supported")
    name = LEGACY_RETURNS.get(schema, schema)
    have = {f.wire for f in gen.models[name].fields}
    props, _, _ = gen.flat(gen.schemas[schema])
    if not set(props) <= have:
        raise SystemExit(f"{name} lacks fields of {schema}: {sorted(set(props) - have)}")
    return name, None


def load_operations(spec_dir: Path) -> tuple[list[Operation], dict[str, tuple[str, ...]], ModelGen]:
    document = json.loads((spec_dir / "openapi.json").read_text(encoding="utf-8"))
    with (spec_dir / "endpoints.tsv").open(encoding="utf-8", newline="") as handle:
        rows = {row["operationId"]: row for row in csv.DictReader(handle, delimiter="\t")}
    spec = Spec(document)
    gen = ModelGen(spec)
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
                    rule=spec.rule(p.get("schema", {}), p["name"]),
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
                                rule=spec.rule(prop, wire),
                            )
                        )
            status, schema_name = spec.response_schema(op)
            if schema_name is None:
                raise SystemExit(f"{operation_id}: no JSON response schema")
            returns_request_id = rows[operation_id]["returns_requestId"] == "yes"
            _, required, _ = spec.flat_properties({"$ref": f"#/components/schemas/{schema_name}"})
            mutation = "requestId" in required
            item_model: str | None = None
            parser: str | None = None
            if paginated:
                props, _, _ = spec.flat_properties({"$ref": f"#/components/schemas/{schema_name}"})
                items = props.get("items", {}).get("items", {})
                if "$ref" not in items:
                    raise SystemExit(f"{operation_id}: listing items without a schema name")
                item_model, parser = result_class(gen, _ref_name(items))
                returns = item_model
            else:
                returns, parser = result_class(gen, schema_name)
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
                mutation=mutation,
                parser=parser,
                imports=imports,
            )
            check_names(operation)
            operations.append(operation)
    if len(operations) != len(rows):
        raise SystemExit(f"spec has {len(operations)} operations, endpoints.tsv {len(rows)}")
    return operations, spec.enums, gen


# -- models: one class per schema ---------------------------------------------------------------

# Where one schema's properties are a superset of another's (same property schemas), the
# larger one subclasses the smaller: ``isinstance(get_column(...), Column)`` holds.
MODEL_BASES: dict[str, str] = {
    "ColumnDetail": "Column",
    "RowDetail": "Row",
    "Table": "TableReference",
    "Formula": "FormulaReference",
    "Control": "ControlReference",
    "DocumentCreationResult": "Doc",
    "PageContentExportStatusResponse": "BeginPageContentExportResponse",
    "Pack": "PackSummary",
}

# Operations that returned one of these models before every schema had its own keep
# returning it: the class of the fuller schema, whose fields include every field of the
# schema the spec names (checked by the generator).
LEGACY_RETURNS: dict[str, str] = {
    "TableReference": "Table",
    "FormulaReference": "Formula",
    "ControlReference": "Control",
    "PackSummary": "Pack",
    "BeginPageContentExportResponse": "PageContentExportStatusResponse",
}

MODEL_RESERVED = {"raw", "from_json", "known"}

# Hand-written behaviour mixed into a generated model (classes of cloud/coda_io/_modelbase.py).
MODEL_MIXINS: dict[str, str] = {"Row": "RowCells"}
GENERATED = PACKAGE / "_generated"


def _ref_name(node: dict[str, Any]) -> str:
    name: str = node["$ref"].rsplit("/", 1)[-1]
    return name


def _plain(node: Any) -> Any:
    """A schema without its prose (for comparing shapes)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items() if k not in ("description", "example", "deprecated")}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def attr_name(wire: str) -> str:
    name = snake_case(wire.lstrip("@").replace("-", "_"))
    if not name.isidentifier():
        raise SystemExit(f"cannot make an attribute name of {wire!r}")
    if name in PYTHON_KEYWORDS or name in MODEL_RESERVED or name in {"None", "True", "False", "async", "await"}:
        name += "_"
    return name


def member_name(label: str) -> str:
    name = snake_case(label).upper()
    name = re.sub(r"[^A-Z0-9_]+", "_", name).strip("_")
    if not name or name[0].isdigit():
        name = "V_" + name
    return name


@dataclass
class FieldInfo:
    wire: str
    attr: str
    annotation: str
    spec: Any
    default: Any  # None, "", False, "[]" or "{}"


@dataclass
class ModelInfo:
    name: str
    base: str | None
    fields: list[FieldInfo]
    own: list[FieldInfo]
    required: list[str]
    consts: dict[str, str]
    schema: str  # the schema (or "Schema.property" path) it comes from


@dataclass
class EnumInfo:
    name: str
    values: list[str]
    members: list[str]
    schema: str


class ModelGen:
    """Builds the model classes, enums and union aliases of every component schema."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.schemas = spec.schemas
        self.models: dict[str, ModelInfo] = {}
        self.enums: dict[str, EnumInfo] = {}
        self.aliases: dict[str, str] = {}  # named union / array schemas: annotation text
        self.union_specs: dict[str, Any] = {}
        self._building: set[str] = set()
        for name in self.schemas:
            self.named(name)

    # -- kinds of named schema

    def kind(self, name: str) -> str:
        node = self.schemas[name]
        if "enum" in node:
            return "enum"
        if "oneOf" in node or "anyOf" in node:
            return "union"
        if node.get("type") == "array":
            return "array"
        if node.get("type") in ("string", "integer", "number", "boolean"):
            return "scalar"
        return "model"

    def named(self, name: str) -> tuple[str, Any]:
        """(annotation, spec) of a reference to a component schema."""
        node = self.schemas[name]
        kind = self.kind(name)
        if kind == "enum":
            self.enum(name, [str(v) for v in node["enum"]], node.get("x-tsEnumNames"), name)
            return name, ("enum", name)
        if kind == "union":
            if name not in self.union_specs:
                if name in self._building:
                    raise SystemExit(f"recursive union {name}")
                self._building.add(name)
                annotation, spec = self.union(node, name)
                self._building.discard(name)
                self.aliases[name] = annotation
                self.union_specs[name] = spec
            return name, self.union_specs[name]
        if kind == "array":
            if name not in self.aliases:
                annotation, spec = self.type_of(node, name)
                self.aliases[name] = annotation
                self.union_specs[name] = spec
            return name, self.union_specs[name]
        if kind == "scalar":
            return self.type_of(node, name)
        self.model(name, node, name)
        return name, ("model", name)

    def enum(self, name: str, values: list[str], labels: list[str] | None, schema: str) -> None:
        if name in self.enums:
            if self.enums[name].values != values:
                raise SystemExit(f"enum name clash: {name}")
            return
        members = [member_name(label) for label in (labels or values)]
        if len(set(members)) != len(members):
            raise SystemExit(f"enum {name}: member names clash")
        self.enums[name] = EnumInfo(name, values, members, schema)

    # -- types of schema nodes

    def type_of(self, node: dict[str, Any], hint: str) -> tuple[str, Any]:
        if "$ref" in node:
            return self.named(_ref_name(node))
        if "enum" in node:
            values = [str(v) for v in node["enum"]]
            ts = str(node.get("x-tsType", "")).split(".")[0]
            if ts in self.schemas and "enum" in self.schemas[ts] and set(values) <= set(self.schemas[ts]["enum"]):
                return self.named(ts)
            self.enum(hint, values, node.get("x-tsEnumNames"), hint)
            return hint, ("enum", hint)
        if "allOf" in node:
            parts = node["allOf"]
            refs = [p for p in parts if "$ref" in p]
            rest = [p for p in parts if "$ref" not in p and (p.get("properties") or p.get("allOf") or p.get("oneOf"))]
            if len(refs) == 1 and not rest:
                return self.named(_ref_name(refs[0]))
            self.model(hint, node, hint)
            return hint, ("model", hint)
        if "oneOf" in node or "anyOf" in node:
            return self.union(node, hint)
        kind = node.get("type")
        if kind == "array":
            annotation, spec = self.type_of(node.get("items", {}), hint + "Item")
            return f"list[{annotation}]", ("list", spec)
        if kind == "string":
            fmt = node.get("format")
            if fmt == "date-time":
                return "_dt.datetime", "datetime"
            if fmt == "date":
                return "_dt.date", "date"
            return "str", "str"
        if kind == "integer":
            return "int", "int"
        if kind == "number":
            return "float", "float"
        if kind == "boolean":
            return "bool", "bool"
        if node.get("properties"):
            self.model(hint, node, hint)
            return hint, ("model", hint)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            annotation, spec = self.type_of(extra, hint + "Value")
            return f"dict[str, {annotation}]", ("map", spec)
        if kind == "object":
            return "JSONObject", "object"
        return "object", "any"

    def union(self, node: dict[str, Any], hint: str) -> tuple[str, Any]:
        options = node.get("oneOf") or node.get("anyOf") or []
        disc = node.get("discriminator", {})
        prop = disc.get("propertyName")
        annotations: list[str] = []
        members: list[Any] = []
        mapping: dict[str, str] = {}
        declared: dict[str, str] = {}
        for index, option in enumerate(options):
            sub_hint = hint + self._option_label(option, prop, index)
            annotation, spec = self.type_of(option, sub_hint)
            annotations.append(annotation)
            flat = spec[3] if isinstance(spec, tuple) and spec[0] == "union" else (spec,)
            if isinstance(spec, tuple) and spec[0] == "union":
                for value, model in spec[2]:
                    declared.setdefault(value, model)
            for member in flat:
                if member not in members:
                    members.append(member)
                if prop and isinstance(member, tuple) and member[0] == "model":
                    const = self.models[member[1]].consts.get(prop)
                    if const is not None:
                        declared.setdefault(const, member[1])
        for value, target in disc.get("mapping", {}).items():
            mapping[value] = target.rsplit("/", 1)[-1]
            self.named(mapping[value])
        for value, model in declared.items():
            mapping[value] = model  # what a member declares wins over the mapping (the spec swaps two)
        for option in options:
            if "$ref" in option and self.kind(_ref_name(option)) == "union":
                inner = self.union_specs[_ref_name(option)]
                prop = prop or inner[1]
        members = merge_arrays(members)
        spec = ("union", prop if mapping else None, tuple(sorted(mapping.items())), tuple(members))
        unique: list[str] = []
        for a in annotations:
            if a not in unique:
                unique.append(a)
        return " | ".join(unique), spec

    def _option_label(self, option: dict[str, Any], prop: str | None, index: int) -> str:
        if "$ref" in option:
            return ""
        props = option.get("properties", {})
        for key in (prop, "type", "mode"):
            if key and key in props and len(props[key].get("enum", [])) == 1:
                return pascal_case(str(props[key]["enum"][0]))
        return f"Option{index}"

    # -- models

    def flat(self, node: dict[str, Any]) -> tuple[dict[str, Any], list[str], str | None]:
        """Properties, required names and the model base of an object schema (allOf merged)."""
        if "allOf" in node:
            props: dict[str, Any] = {}
            required: list[str] = []
            base: str | None = None
            for part in node["allOf"]:
                if "$ref" in part:
                    name = _ref_name(part)
                    if base is None and self.kind(name) == "model":
                        base = name
                    p, r, _ = self.flat(self.schemas[name])
                else:
                    p, r, _ = self.flat(part)
                props.update(p)
                required += r
            return props, required, base
        return dict(node.get("properties", {})), list(node.get("required", [])), None

    def model(self, name: str, node: dict[str, Any], schema: str) -> None:
        if name in self.models or name in self._building:
            return
        if name in self.enums or name in self.aliases:
            raise SystemExit(f"model name clash: {name}")
        self._building.add(name)
        props, required, base = self.flat(node)
        base = MODEL_BASES.get(name, base)
        if base is not None:
            self.named(base)
        fields: list[FieldInfo] = []
        seen: set[str] = set()
        for wire, prop in props.items():
            annotation, spec = self.type_of(prop, name + pascal_case(wire.lstrip("@")))
            attr = attr_name(wire)
            if attr in seen:
                attr = attr_name("at_" + wire.lstrip("@"))
            seen.add(attr)
            is_required = wire in required
            if is_required and annotation == "str":
                default: Any = ""
            elif is_required and annotation == "bool":
                default = False
            elif is_required and annotation.startswith("list["):
                default = "[]"
            elif is_required and annotation.startswith("dict["):
                default = "{}"
            else:
                default = None
                annotation = f"{annotation} | None" if annotation != "object" else annotation
            fields.append(FieldInfo(wire, attr, annotation, spec, default))
        consts = {w: str(p["enum"][0]) for w, p in props.items() if len(p.get("enum", [])) == 1}
        own = fields
        if base is not None:
            parent = self.models[base]
            inherited = {f.wire: f for f in parent.fields}
            if name in MODEL_BASES:
                extra = set(inherited) - set(props)
                changed = [
                    w
                    for w in inherited
                    if w in props and _plain(props[w]) != _plain(self._prop_schema(MODEL_BASES[name], w))
                ]
                if extra or changed:
                    raise SystemExit(f"{name} does not extend {base}: {sorted(extra)} {changed}")
            merged: list[FieldInfo] = []
            own = []
            for f in parent.fields:
                mine = next((g for g in fields if g.wire == f.wire), None)
                if mine is not None and mine.annotation == f.annotation:
                    merged.append(FieldInfo(f.wire, f.attr, f.annotation, mine.spec, f.default))
                elif mine is not None:
                    mine.attr = f.attr
                    merged.append(mine)
                    own.append(mine)
                else:
                    merged.append(f)
            for g in fields:
                if g.wire not in inherited:
                    merged.append(g)
                    own.append(g)
            fields = merged
        self.models[name] = ModelInfo(name, base, fields, own, required, consts, schema)
        self._building.discard(name)

    def _prop_schema(self, name: str, wire: str) -> Any:
        props, _, _ = self.flat(self.schemas[name])
        return props.get(wire)

    def ordered_models(self) -> list[ModelInfo]:
        done: list[ModelInfo] = []
        placed: set[str] = set()

        def place(info: ModelInfo) -> None:
            if info.name in placed:
                return
            if info.base is not None:
                place(self.models[info.base])
            placed.add(info.name)
            done.append(info)

        for info in self.models.values():
            place(info)
        return done


def merge_arrays(members: list[Any]) -> list[Any]:
    """One array member at most (a JSON array is told from a scalar or an object, but not
    from another array): the items of several become one union, merged the same way."""
    arrays = [m for m in members if isinstance(m, tuple) and m[0] == "list"]
    if len(arrays) < 2:
        return members
    items: list[Any] = []
    mapping: dict[str, str] = {}
    prop: str | None = None
    for array in arrays:
        inner = array[1]
        if isinstance(inner, tuple) and inner[0] == "union":
            prop = prop or inner[1]
            mapping.update(dict(inner[2]))
            options = inner[3]
        else:
            options = (inner,)
        for m in options:
            if m not in items:
                items.append(m)
    items = merge_arrays(items)
    merged = ("list", ("union", prop if mapping else None, tuple(sorted(mapping.items())), tuple(items)))
    return [m for m in members if m not in arrays] + [merged]


def _literal(value: Any) -> str:
    return repr(value)


def parser_name(union: str) -> str:
    return "parse_" + snake_case(union)


def render_models(gen: ModelGen) -> str:
    enums = sorted(gen.enums.values(), key=lambda e: e.name)
    models = gen.ordered_models()
    aliases = sorted(gen.aliases)
    unions = sorted(n for n in gen.aliases if gen.kind(n) == "union")
    public = sorted([e.name for e in enums] + [m.name for m in models] + aliases + [parser_name(u) for u in unions])
    lines = [
        HEADER,
        "# ruff: noqa: RUF012  (a field's default is never shared: every instance gets its own)",
        "",
        '"""Every schema of Coda API v1 as a typed class: models (:class:`~cloud.coda_io.models.CodaModel`),',
        "enumerations (:class:`~cloud.coda_io.models.CodaEnum`) and union aliases with their ``parse_*``",
        'functions.  Import them from :mod:`cloud.coda_io.models`."""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime as _dt",
        "from typing import ClassVar, TypeAlias, cast",
        "",
        "from .._modelbase import CodaEnum, CodaModel, FieldTable, LazyConverter, RowCells",
        "from ..types import JSONObject",
        "",
        "__all__ = [",
        *(f'    "{n}",' for n in public),
        "]",
        "",
    ]
    for e in enums:
        lines += [
            "",
            f"class {e.name}(CodaEnum):",
            f'    """Values of ``{e.schema}`` (unknown values are kept, not refused)."""',
            "",
        ]
        for member, value in zip(e.members, e.values, strict=True):
            lines.append(f"    {member} = {json.dumps(value)}")
        lines.append("")
    for m in models:
        base = m.base or "CodaModel"
        if m.name in MODEL_MIXINS:
            base += ", " + MODEL_MIXINS[m.name]
        where = f"schema ``{m.schema}``" if "." not in m.schema and m.schema in gen.schemas else f"``{m.schema}``"
        lines += ["", f"class {m.name}({base}):", f'    """Coda\'s {where}."""', ""]
        fields = ", ".join(f"({f.attr!r}, {f.wire!r}, {_literal(f.spec)}, {_literal(f.default)})" for f in m.fields)
        lines.append(
            f"    _fields_: ClassVar[FieldTable] = ({fields},)"
            if m.fields
            else "    _fields_: ClassVar[FieldTable] = ()"
        )
        required = tuple(w for w in m.required if any(f.wire == w for f in m.fields))
        if required:
            lines.append(f"    _required_: ClassVar[tuple[str, ...]] = {required!r}")
        if m.consts:
            lines.append(f"    _consts_: ClassVar[tuple[tuple[str, str], ...]] = {tuple(sorted(m.consts.items()))!r}")
        if m.own:
            lines.append("")
        for f in m.own:
            default = (
                '""'
                if f.default == ""
                else "[]"
                if f.default == "[]"
                else "{}"
                if f.default == "{}"
                else repr(f.default)
            )
            lines.append(f"    {f.attr}: {f.annotation} = {default}")
        lines.append("")
    lines.append("")
    for name in aliases:
        lines.append(f'{name}: TypeAlias = "{gen.aliases[name]}"')
        lines.append(f'"""Coda\'s schema ``{name}``."""')
        lines.append("")
    for name in unions:
        const = "_" + snake_case(name).upper()
        members = gen.union_specs[name][3]
        objects_only = all(isinstance(m, tuple) and m[0] == "model" for m in members)
        arg = "data if isinstance(data, dict) else {}" if objects_only else "data"
        lines += [
            f"{const} = LazyConverter({_literal(gen.union_specs[name])}, __name__)",
            "",
            "",
            f"def {parser_name(name)}(data: object) -> {name}:",
            f'    """The :data:`{name}` a JSON value holds (chosen by its discriminator, or by trying each member)."""',
            f'    return cast("{name}", {const}({arg}))',
            "",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


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
        "from ..spec import OperationSpec",
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


def render_rules(operations: list[Operation]) -> str:
    entries: list[str] = []
    for op in operations:
        rules: dict[str, str] = {}
        for p in [*op.path_params, *op.query_params, *op.body_fields]:
            if p.wire in rules:
                raise SystemExit(f"{op.operation_id}: two arguments are called {p.wire!r} on the wire")
            if p.rule is not None:
                rules[p.wire] = p.rule
        if rules:
            entries.append(f"        {op.operation_id!r}: {{")
            entries += [f"            {wire!r}: {rule}," for wire, rule in rules.items()]
            entries.append("        },")
    aliases = sorted({name for entry in entries for name in re.findall(r"get_args\((\w+)\)", entry)})
    lines = [
        HEADER,
        '"""What the client checks before sending: the constraints Coda\'s spec puts on parameters and',
        "top-level body fields (enums, bounds, lengths, item counts, date formats), by operation.",
        "",
        "Read by :mod:`cloud.coda_io.validation` on the first check (not when the client is imported).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        *(["from typing import get_args"] if aliases else []),
        "",
        "from ..validation import ParamRule",
        *([f"from .enums import {', '.join(aliases)}"] if aliases else []),
    ]
    lines += [
        "",
        '__all__ = ["RULES"]',
        "",
        "RULES: Mapping[str, Mapping[str, ParamRule]] = MappingProxyType(",
        "    {",
        *entries,
        "    }",
        ")",
        '"""The rules by ``operationId``, then by name on the wire (unconstrained arguments left out)."""',
        "",
    ]
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
    if op.mutation:
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
    builder_name = op.parser or (op.item if op.paginated else op.returns)
    lines.append(f"        from ...models import {builder_name}")
    lines.append("")
    names = [p.name for p in op.path_params]
    path_args = "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"
    query = "{" + ", ".join(f"{p.wire!r}: {p.name}" for p in regular_query) + "}"
    call_kwargs: list[str] = []
    if op.paginated:
        call_kwargs.append(f"query={query}")
        call_kwargs.append("limit=" + ("limit" if op.has_limit else "None"))
        call_kwargs.append("page_token=page_token")
        builder = op.parser or f"{op.item}.from_json"
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
    if op.parser:
        lines.append(f"        return {op.parser}({call})")
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
    models = sorted({m for op in ops for m in (op.returns, op.item) if m}, key=str.lower)
    enum_names = sorted(i.split(":", 1)[1] for i in imports if i.startswith("enum:"))
    type_names = {i.split(":", 1)[1] for i in imports if i.startswith("types:")}
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
    if models:
        std.append("from typing import TYPE_CHECKING")
    if "abc:Sequence" in imports:
        std.append("from collections.abc import Sequence")
    dt = sorted(i.split(":", 1)[1] for i in imports if i.startswith("datetime:"))
    if dt:
        std.append(f"from datetime import {', '.join(dt)}")
    if std:
        lines += [*sorted(std), ""]
    if any(op.paginated for op in ops):
        lines += ["from cloud.common.pagination import AsyncPaginator", ""]
    lines.append(f"from ..._operation_base import {', '.join(base_names)}")
    if enum_names:
        lines.append(f"from ...enums import {', '.join(enum_names)}")
    if type_names:
        lines.append(f"from ...types import {', '.join(sorted(type_names))}")
    if models:
        # The models load on first use, not with the client (each method imports its own).
        lines += ["", "if TYPE_CHECKING:", f"    from ...models import {', '.join(models)}"]
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
    operations, enums, gen = load_operations(spec_dir)
    files: dict[Path, str] = {
        GENERATED / "table.py": render_table(operations),
        GENERATED / "enums.py": render_enums(enums),
        GENERATED / "rules.py": render_rules(operations),
        GENERATED / "__init__.py": HEADER + '\n"""Code generated from Coda\'s OpenAPI document (only what runs)."""\n',
        GENERATED / "models.py": render_models(gen),
    }
    by_tag: dict[str, list[Operation]] = {}
    for op in operations:
        by_tag.setdefault(op.tag, []).append(op)
    for tag, ops in by_tag.items():
        if tag not in MODULE_FOR_TAG:
            raise SystemExit(f"choose a module name for tag {tag!r}")
        files[GENERATED / "operations" / f"{MODULE_FOR_TAG[tag]}.py"] = render_module(tag, ops)
    files[GENERATED / "operations" / "__init__.py"] = render_init(list(by_tag))
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
    leftover = [p for p in GENERATED.rglob("*.py") if p not in files]
    for path in leftover:
        if args.check:
            stale.append(path)
        else:
            path.unlink()
            print(f"removed {path.relative_to(ROOT)}")
    for path, text in files.items():
        if args.check:
            if not path.exists() or not same_code(path.read_text(encoding="utf-8"), text):
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(format_source(path, text), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale generated files (run python tools/coda_codegen.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
