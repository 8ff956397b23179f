"""One OpenAPI document and one AsyncAPI document for the whole platform.

Each service publishes its own ``/openapi.json`` and ``/asyncapi.json``. The gateway
fetches them through its shared upstream client, merges them with its own routes and
caches the result for ``GATEWAY_DOCS_CACHE_SECONDS`` (a shorter while when a service
could not be asked, so it reappears soon after it is back).

OpenAPI: a service's paths are served under ``/api/v1/<service>``, so they are listed
there; operationIds and component names are prefixed with the service name (and every
``$ref`` rewritten), so two services may both have a ``ProblemBody`` or a
``platform-healthz``; tags become ``<service>: <tag>``. Paths the gateway does not
forward (``/metrics``) are left out. A service that does not answer is left out too and
named in ``x-unavailable`` and in ``info.description``; the document is still served.

AsyncAPI: channels and messages are keyed by event type and so are the same in every
service that sends or receives the event; operations are keyed by service
(``<service>.<operation>``) and carry ``x-service``.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from gateway.proxy.forwarder import API_PREFIX, INTERNAL_PATHS
from gateway.proxy.upstream import is_timeout

log = structlog.get_logger(__name__)

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
COMPONENT_SECTIONS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers",
                      "securitySchemes", "links", "callbacks", "pathItems")
# A document with a service missing is kept only this long, so the service reappears soon.
INCOMPLETE_CACHE_SECONDS = 5.0

# How a caller authenticates at the gateway (the services themselves see a signed identity token).
SECURITY_SCHEMES: dict[str, Any] = {
    "gateway_api_key_bearer": {"type": "http", "scheme": "bearer",
                               "description": "An API key as `Authorization: Bearer ntc_...`"},
    "gateway_api_key_header": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                               "description": "An API key as `X-API-Key: ntc_...`"},
}

Fetched = dict[str, "dict[str, Any] | str"]  # service -> its document, or why it could not be had


def _component_name(service: str, name: str) -> str:
    # Service names are [a-z0-9-]: "registry_ProblemBody" cannot come from another service.
    return f"{service}_{name}"


def _rewrite_refs(node: Any, service: str) -> Any:
    """A deep copy of ``node`` with every local component ``$ref`` pointing at the prefixed name."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _rewrite_ref(value, service)
            elif key == "mapping" and isinstance(value, dict):  # discriminator mappings hold refs too
                out[key] = {k: _rewrite_ref(v, service) if isinstance(v, str) else v for k, v in value.items()}
            else:
                out[key] = _rewrite_refs(value, service)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, service) for item in node]
    return node


def _rewrite_ref(ref: str, service: str) -> str:
    if not ref.startswith("#/components/"):
        return ref
    parts = ref.split("/", 4)  # ["#", "components", section, name, rest?]
    if len(parts) < 4:
        return ref
    parts[3] = _component_name(service, parts[3])
    return "/".join(parts)


def _service_tag(service: str, tag: str) -> str:
    return f"{service}: {tag}"


def merge_openapi(own: dict[str, Any], services: Fetched) -> dict[str, Any]:
    """The gateway's own document with every fetched service's paths and components merged in."""
    merged = copy.deepcopy(own)
    merged.pop("servers", None)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, Any] = merged.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(copy.deepcopy(SECURITY_SCHEMES))
    # Anonymous calls are allowed (services decide what is public), hence the empty requirement.
    merged["security"] = [{}, *({name: []} for name in SECURITY_SCHEMES)]
    tags: list[dict[str, Any]] = list(merged.get("tags") or [])
    unavailable: list[dict[str, str]] = []

    for service, document in services.items():
        if not isinstance(document, dict):
            unavailable.append({"service": service, "reason": document})
            continue
        document = _rewrite_refs(document, service)
        described = {t.get("name"): t for t in document.get("tags") or [] if isinstance(t, dict)}
        service_tags: set[str] = set()
        for path, item in (document.get("paths") or {}).items():
            if path.rstrip("/") in INTERNAL_PATHS or not isinstance(item, dict):
                continue
            for method, operation in item.items():
                if method not in HTTP_METHODS or not isinstance(operation, dict):
                    continue
                if "operationId" in operation:
                    operation["operationId"] = f"{service}-{operation['operationId']}"
                operation["tags"] = [_service_tag(service, t) for t in operation.get("tags") or []] or [service]
                service_tags.update(operation["tags"])
            paths[f"{API_PREFIX}/{service}{path}"] = item
        for section in COMPONENT_SECTIONS:
            for name, value in ((document.get("components") or {}).get(section) or {}).items():
                components.setdefault(section, {})[_component_name(service, name)] = value
        title = (document.get("info") or {}).get("title") or service
        for tag in sorted(service_tags):
            original = described.get(tag.partition(": ")[2], {})
            tags.append({**original, "name": tag,
                         "description": original.get("description") or f"{title} (`{API_PREFIX}/{service}`)"})

    info = merged.setdefault("info", {})
    info["title"] = "NTC platform API (through the gateway)"
    if unavailable:
        names = ", ".join(u["service"] for u in unavailable)
        info["description"] = (info.get("description") or "") + (
            f"\n\n**Not included:** {names} — could not be asked for its document when this one was built; "
            "its API is still forwarded as usual.")
    merged["tags"] = tags
    merged["x-unavailable"] = unavailable
    return merged


def merge_asyncapi(services: Fetched) -> dict[str, Any]:
    """Every service's AsyncAPI document in one: channels and messages by event type, operations by service."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    servers: dict[str, Any] = {}
    unavailable: list[dict[str, str]] = []
    for service, document in services.items():
        if not isinstance(document, dict):
            unavailable.append({"service": service, "reason": document})
            continue
        servers.update(document.get("servers") or {})
        for key, channel in (document.get("channels") or {}).items():
            channels.setdefault(key, channel)
        components = document.get("components") or {}
        for key, message in (components.get("messages") or {}).items():
            messages.setdefault(key, message)
        for key, schema in (components.get("schemas") or {}).items():
            schemas.setdefault(key, schema)
        for key, operation in (document.get("operations") or {}).items():
            if isinstance(operation, dict):
                operations[f"{service}.{key}"] = {**operation, "x-service": service}
    description = ("Every event of the platform: CloudEvents 1.0 in structured JSON on NATS JetStream; the subject "
                   "is the event type. Operations are named `<service>.<operation>`.")
    if unavailable:
        description += " Not included (could not be asked): " + ", ".join(u["service"] for u in unavailable) + "."
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "NTC platform events", "version": "1.0.0", "description": description},
        "defaultContentType": "application/cloudevents+json",
        "servers": servers,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
        "x-unavailable": unavailable,
    }


@dataclass
class EventView:
    """One event type as the AsyncAPI page lists it."""

    event_type: str
    channel: str
    stream: str
    summary: str | None
    producers: list[str] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)
    payload: Any = None


def event_views(document: dict[str, Any]) -> list[EventView]:
    """The event types of a merged AsyncAPI document, with who sends and who receives each."""
    messages = (document.get("components") or {}).get("messages") or {}
    views: dict[str, EventView] = {}
    for key, channel in (document.get("channels") or {}).items():
        message = messages.get(key) or {}
        payload = message.get("payload")
        # kernel.asyncapi: allOf [CloudEvent envelope, {type: const, data: <the event's schema>}]
        data = next((part["properties"]["data"] for part in (payload or {}).get("allOf", [])
                     if isinstance(part, dict) and isinstance(part.get("properties"), dict)
                     and "data" in part["properties"]), payload)
        views[key] = EventView(event_type=message.get("name") or channel.get("address") or key,
                               channel=channel.get("address") or key, stream=channel.get("description") or "",
                               summary=message.get("summary"), payload=data)
    for operation in (document.get("operations") or {}).values():
        ref = ((operation.get("channel") or {}).get("$ref") or "")
        view = views.get(ref.rpartition("/")[2])
        service = operation.get("x-service")
        if view is None or not service:
            continue
        into = view.producers if operation.get("action") == "send" else view.receivers
        if service not in into:
            into.append(service)
    return sorted(views.values(), key=lambda v: v.event_type)


class DocsCatalog:
    """Fetches the services' documents and keeps the merged ones for a short while."""

    def __init__(self, *, service_urls: dict[str, str], client: httpx.AsyncClient, cache_seconds: float,
                 timeout_seconds: float) -> None:
        self._service_urls = dict(service_urls)
        self._client = client
        self._cache_seconds = cache_seconds
        self._timeout = timeout_seconds
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def openapi(self, own: dict[str, Any]) -> dict[str, Any]:
        return await self._cached("openapi.json", lambda fetched: merge_openapi(own, fetched))

    async def asyncapi(self) -> dict[str, Any]:
        return await self._cached("asyncapi.json", merge_asyncapi)

    async def _cached(self, name: str, merge: Callable[[Fetched], dict[str, Any]]) -> dict[str, Any]:
        hit = self._cache.get(name)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        async with self._locks.setdefault(name, asyncio.Lock()):  # one rebuild at a time, the others wait for it
            hit = self._cache.get(name)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            fetched = await self._fetch_all(name)
            document = merge(fetched)
            complete = all(isinstance(d, dict) for d in fetched.values())
            keep = self._cache_seconds if complete else min(self._cache_seconds, INCOMPLETE_CACHE_SECONDS)
            self._cache[name] = (time.monotonic() + keep, document)
            return document

    async def _fetch_all(self, name: str) -> Fetched:
        names = list(self._service_urls)
        answers = await asyncio.gather(*(self._fetch(self._service_urls[n], name) for n in names))
        for service, answer in zip(names, answers, strict=True):
            if not isinstance(answer, dict):
                log.warning("service document unavailable", service=service, document=name, reason=answer)
        return dict(zip(names, answers, strict=True))

    async def _fetch(self, base_url: str, name: str) -> dict[str, Any] | str:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(f"{base_url}/{name}", timeout=self._timeout)
            if response.status_code != 200:
                return f"answered {response.status_code}"
            document = response.json()
        except (httpx.TransportError, OSError) as exc:  # TimeoutError is an OSError
            return "timeout" if is_timeout(exc) else "unreachable"
        except ValueError:
            return "not JSON"
        return document if isinstance(document, dict) else "not a document"
