"""What the client checks before sending: the constraints Coda's OpenAPI document puts on
parameters and top-level body fields (enums, bounds, lengths, item counts, date formats).

Kept by hand until the generated operation table carries these facts; a test
(``tests/coda_io/test_validation.py``) keeps it equal to the vendored spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["RULES", "ParamRule"]


@dataclass(frozen=True)
class ParamRule:
    """The checkable constraints of one parameter or body field (``None``: unconstrained)."""

    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    format: str | None = None
    """``"date"`` or ``"date-time"``."""
    items: ParamRule | None = None
    """The rule of each item of an array."""


RULES: Mapping[str, Mapping[str, ParamRule]] = MappingProxyType(
    {
        "listDocs": {
            "limit": ParamRule(minimum=1),
        },
        "getPermissions": {
            "limit": ParamRule(minimum=1),
        },
        "addPermission": {
            "access": ParamRule(enum=("readonly", "write", "comment")),
        },
        "publishDoc": {
            "mode": ParamRule(enum=("view", "play", "edit")),
        },
        "listPages": {
            "limit": ParamRule(minimum=1),
        },
        "listPageContent": {
            "limit": ParamRule(minimum=1, maximum=500),
            "contentFormat": ParamRule(enum=("plainText",)),
        },
        "beginPageContentExport": {
            "outputFormat": ParamRule(enum=("html", "markdown")),
        },
        "listTables": {
            "limit": ParamRule(minimum=1),
            "sortBy": ParamRule(enum=("name",)),
            "tableTypes": ParamRule(items=ParamRule(enum=("table", "view"))),
        },
        "listColumns": {
            "limit": ParamRule(minimum=1, maximum=100),
        },
        "listRows": {
            "sortBy": ParamRule(enum=("createdAt", "natural", "updatedAt")),
            "valueFormat": ParamRule(enum=("simple", "simpleWithArrays", "rich")),
            "limit": ParamRule(minimum=1),
        },
        "getRow": {
            "valueFormat": ParamRule(enum=("simple", "simpleWithArrays", "rich")),
        },
        "listFormulas": {
            "limit": ParamRule(minimum=1),
            "sortBy": ParamRule(enum=("name",)),
        },
        "listControls": {
            "limit": ParamRule(minimum=1),
            "sortBy": ParamRule(enum=("name",)),
        },
        "listFolders": {
            "limit": ParamRule(minimum=1),
        },
        "listDocAnalytics": {
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
            "scale": ParamRule(enum=("daily", "cumulative")),
            "orderBy": ParamRule(
                enum=(
                    "date",
                    "docId",
                    "title",
                    "createdAt",
                    "publishedAt",
                    "likes",
                    "copies",
                    "views",
                    "sessionsDesktop",
                    "sessionsMobile",
                    "sessionsOther",
                    "totalSessions",
                    "aiCreditsChat",
                    "aiCreditsBlock",
                    "aiCreditsColumn",
                    "aiCreditsAssistant",
                    "aiCreditsReviewer",
                    "aiCredits",
                )
            ),
            "direction": ParamRule(enum=("ascending", "descending")),
            "limit": ParamRule(minimum=1, maximum=5000),
        },
        "listPageAnalytics": {
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
            "limit": ParamRule(minimum=1, maximum=5000),
        },
        "listDocAnalyticsSummary": {
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
        },
        "listPackAnalytics": {
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
            "scale": ParamRule(enum=("daily", "cumulative")),
            "orderBy": ParamRule(
                enum=(
                    "date",
                    "packId",
                    "name",
                    "createdAt",
                    "docInstalls",
                    "workspaceInstalls",
                    "numFormulaInvocations",
                    "numActionInvocations",
                    "numSyncInvocations",
                    "numMetadataInvocations",
                    "docsActivelyUsing",
                    "docsActivelyUsing7Day",
                    "docsActivelyUsing30Day",
                    "docsActivelyUsing90Day",
                    "docsActivelyUsingAllTime",
                    "workspacesActivelyUsing",
                    "workspacesActivelyUsing7Day",
                    "workspacesActivelyUsing30Day",
                    "workspacesActivelyUsing90Day",
                    "workspacesActivelyUsingAllTime",
                    "workspacesWithActiveSubscriptions",
                    "workspacesWithSuccessfulTrials",
                    "revenueUsd",
                )
            ),
            "direction": ParamRule(enum=("ascending", "descending")),
            "limit": ParamRule(minimum=1, maximum=5000),
        },
        "listPackAnalyticsSummary": {
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
        },
        "listPackFormulaAnalytics": {
            "packId": ParamRule(minimum=1),
            "packFormulaTypes": ParamRule(items=ParamRule(enum=("action", "formula", "sync", "metadata"))),
            "sinceDate": ParamRule(format="date"),
            "untilDate": ParamRule(format="date"),
            "scale": ParamRule(enum=("daily", "cumulative")),
            "orderBy": ParamRule(
                enum=(
                    "date",
                    "formulaName",
                    "formulaType",
                    "formulaInvocations",
                    "medianLatencyMs",
                    "medianResponseSizeBytes",
                    "errors",
                    "docsActivelyUsing",
                    "docsActivelyUsing7Day",
                    "docsActivelyUsing30Day",
                    "docsActivelyUsing90Day",
                    "docsActivelyUsingAllTime",
                    "workspacesActivelyUsing",
                    "workspacesActivelyUsing7Day",
                    "workspacesActivelyUsing30Day",
                    "workspacesActivelyUsing90Day",
                    "workspacesActivelyUsingAllTime",
                )
            ),
            "direction": ParamRule(enum=("ascending", "descending")),
            "limit": ParamRule(minimum=1, maximum=5000),
        },
        "listWorkspaceMembers": {
            "includedRoles": ParamRule(items=ParamRule(enum=("Admin", "DocMaker", "Editor"))),
        },
        "changeUserRole": {
            "newRole": ParamRule(enum=("Admin", "DocMaker", "Editor")),
        },
        "listPacks": {
            "accessType": ParamRule(enum=("none", "view", "test", "edit", "admin")),
            "accessTypes": ParamRule(items=ParamRule(enum=("none", "view", "test", "edit", "admin"))),
            "sortBy": ParamRule(enum=("title", "createdAt", "updatedAt")),
            "limit": ParamRule(minimum=1),
            "direction": ParamRule(enum=("ascending", "descending")),
            "packEntrypoint": ParamRule(enum=("go", "docs")),
        },
        "getPack": {
            "packId": ParamRule(minimum=1),
        },
        "deletePack": {
            "packId": ParamRule(minimum=1),
        },
        "updatePack": {
            "packId": ParamRule(minimum=1),
            "sourceCodeVisibility": ParamRule(enum=("private", "shared")),
            "packEntrypoints": ParamRule(min_items=1, items=ParamRule(enum=("go", "docs"))),
            "name": ParamRule(max_length=128),
            "description": ParamRule(max_length=8192),
            "shortDescription": ParamRule(max_length=256),
            "agentShortDescription": ParamRule(max_length=256),
            "agentDescription": ParamRule(max_length=8192),
            "supportEmail": ParamRule(max_length=512),
            "termsOfServiceUrl": ParamRule(max_length=512),
            "privacyPolicyUrl": ParamRule(max_length=512),
        },
        "getPackConfigurationSchema": {
            "packId": ParamRule(minimum=1),
        },
        "listPackVersions": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1),
        },
        "getNextPackVersion": {
            "packId": ParamRule(minimum=1),
        },
        "getPackVersionDiffs": {
            "packId": ParamRule(minimum=1),
        },
        "registerPackVersion": {
            "packId": ParamRule(minimum=1),
        },
        "packVersionUploadComplete": {
            "packId": ParamRule(minimum=1),
            "source": ParamRule(enum=("web", "cli")),
        },
        "listPackReleases": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1),
        },
        "createPackRelease": {
            "packId": ParamRule(minimum=1),
        },
        "updatePackRelease": {
            "packId": ParamRule(minimum=1),
            "packReleaseId": ParamRule(minimum=1),
        },
        "listPackReviews": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1),
            "status": ParamRule(enum=("pending", "approved", "denied", "canceled", "superseded")),
        },
        "createPackReview": {
            "packId": ParamRule(minimum=1),
            "releaseNotes": ParamRule(max_length=8192),
        },
        "cancelPackReview": {
            "packId": ParamRule(minimum=1),
        },
        "getPackListingDraft": {
            "packId": ParamRule(minimum=1),
        },
        "upsertPackListingDraft": {
            "packId": ParamRule(minimum=1),
        },
        "deletePackListingDraft": {
            "packId": ParamRule(minimum=1),
        },
        "getPackOauthConfig": {
            "packId": ParamRule(minimum=1),
        },
        "setPackOauthConfig": {
            "packId": ParamRule(minimum=1),
        },
        "getPackSystemConnection": {
            "packId": ParamRule(minimum=1),
        },
        "setPackSystemConnection": {
            "packId": ParamRule(minimum=1),
        },
        "patchPackSystemConnection": {
            "packId": ParamRule(minimum=1),
        },
        "getPackPermissions": {
            "packId": ParamRule(minimum=1),
        },
        "addPackPermission": {
            "packId": ParamRule(minimum=1),
            "access": ParamRule(enum=("none", "view", "test", "edit", "admin")),
        },
        "deleteUserPackPermission": {
            "packId": ParamRule(minimum=1),
        },
        "deletePackPermission": {
            "packId": ParamRule(minimum=1),
        },
        "listUserPackInvitations": {
            "limit": ParamRule(minimum=1),
        },
        "listPackInvitations": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1),
        },
        "createPackInvitation": {
            "packId": ParamRule(minimum=1),
            "access": ParamRule(enum=("none", "view", "test", "edit", "admin")),
        },
        "updatePackInvitation": {
            "packId": ParamRule(minimum=1),
            "access": ParamRule(enum=("none", "view", "test", "edit", "admin")),
        },
        "deletePackInvitation": {
            "packId": ParamRule(minimum=1),
        },
        "listPackMakers": {
            "packId": ParamRule(minimum=1),
        },
        "addPackMaker": {
            "packId": ParamRule(minimum=1),
        },
        "deletePackMaker": {
            "packId": ParamRule(minimum=1),
        },
        "listPackCategories": {
            "packId": ParamRule(minimum=1),
        },
        "addPackCategory": {
            "packId": ParamRule(minimum=1),
        },
        "deletePackCategory": {
            "packId": ParamRule(minimum=1),
        },
        "uploadPackAsset": {
            "packId": ParamRule(minimum=1),
            "packAssetType": ParamRule(enum=("logo", "cover", "exampleImage", "agentImage")),
        },
        "uploadPackSourceCode": {
            "packId": ParamRule(minimum=1),
        },
        "packAssetUploadComplete": {
            "packId": ParamRule(minimum=1),
            "packAssetType": ParamRule(enum=("logo", "cover", "exampleImage", "agentImage")),
        },
        "packSourceCodeUploadComplete": {
            "packId": ParamRule(minimum=1),
        },
        "getPackSourceCode": {
            "packId": ParamRule(minimum=1),
        },
        "listPackListings": {
            "packAccessTypes": ParamRule(items=ParamRule(enum=("none", "view", "test", "edit", "admin"))),
            "packEntrypoint": ParamRule(enum=("go", "docs")),
            "packCategories": ParamRule(items=ParamRule(enum=("connector", "agent", "customAgent"))),
            "sortBy": ParamRule(enum=("packId", "name", "packVersion", "packVersionModifiedAt", "agentDirectorySort")),
            "orderBy": ParamRule(enum=("packId", "name", "packVersion", "packVersionModifiedAt", "agentDirectorySort")),
            "direction": ParamRule(enum=("ascending", "descending")),
            "limit": ParamRule(minimum=1),
            "installContext": ParamRule(enum=("workspace", "doc")),
        },
        "getPackListing": {
            "packId": ParamRule(minimum=1),
            "installContext": ParamRule(enum=("workspace", "doc")),
            "releaseChannel": ParamRule(enum=("LIVE", "LATEST")),
        },
        "listPackLogs": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "logTypes": ParamRule(
                items=ParamRule(
                    enum=(
                        "custom",
                        "fetcher",
                        "invocation",
                        "internal",
                        "auth",
                        "ingestionLifecycle",
                        "ingestionDebug",
                        "agentRuntime",
                        "mcp",
                    )
                )
            ),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "order": ParamRule(enum=("asc", "desc")),
        },
        "listIngestionLogs": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "logTypes": ParamRule(
                items=ParamRule(
                    enum=(
                        "custom",
                        "fetcher",
                        "invocation",
                        "internal",
                        "auth",
                        "ingestionLifecycle",
                        "ingestionDebug",
                        "agentRuntime",
                        "mcp",
                    )
                )
            ),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "ingestionStatus": ParamRule(
                enum=("QUEUED", "STARTED", "CANCELLED", "UP_FOR_RETRY", "COMPLETED", "FAILED")
            ),
            "order": ParamRule(enum=("asc", "desc")),
        },
        "listGroupedPackLogs": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "order": ParamRule(enum=("asc", "desc")),
        },
        "listGroupedIngestionLogs": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "order": ParamRule(enum=("asc", "desc")),
        },
        "listIngestionBatchExecutions": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "executionType": ParamRule(enum=("FULL", "INCREMENTAL")),
            "ingestionStatus": ParamRule(
                enum=("QUEUED", "STARTED", "CANCELLED", "UP_FOR_RETRY", "COMPLETED", "FAILED")
            ),
        },
        "listIngestionParentItems": {
            "packId": ParamRule(minimum=1),
            "limit": ParamRule(minimum=1, maximum=100),
            "ingestionStatus": ParamRule(
                enum=("QUEUED", "STARTED", "CANCELLED", "UP_FOR_RETRY", "COMPLETED", "FAILED")
            ),
        },
        "getPackLogDetails": {
            "packId": ParamRule(minimum=1),
        },
        "listPackFeaturedDocs": {
            "packId": ParamRule(minimum=1),
        },
        "updatePackFeaturedDocs": {
            "packId": ParamRule(minimum=1),
            "items": ParamRule(max_items=5),
        },
        "addGoLink": {
            "name": ParamRule(max_length=128),
            "destinationUrl": ParamRule(max_length=2048),
            "description": ParamRule(max_length=512),
            "urlPattern": ParamRule(max_length=2048),
            "creatorEmail": ParamRule(max_length=512),
        },
        "listAgentSessionIds": {
            "limit": ParamRule(minimum=1, maximum=100),
            "logTypes": ParamRule(
                items=ParamRule(
                    enum=(
                        "custom",
                        "fetcher",
                        "invocation",
                        "internal",
                        "auth",
                        "ingestionLifecycle",
                        "ingestionDebug",
                        "agentRuntime",
                        "mcp",
                    )
                )
            ),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "order": ParamRule(enum=("asc", "desc")),
        },
        "listAgentLogs": {
            "limit": ParamRule(minimum=1, maximum=100),
            "logTypes": ParamRule(
                items=ParamRule(
                    enum=(
                        "custom",
                        "fetcher",
                        "invocation",
                        "internal",
                        "auth",
                        "ingestionLifecycle",
                        "ingestionDebug",
                        "agentRuntime",
                        "mcp",
                    )
                )
            ),
            "beforeTimestamp": ParamRule(format="date-time"),
            "afterTimestamp": ParamRule(format="date-time"),
            "order": ParamRule(enum=("asc", "desc")),
        },
    }
)
