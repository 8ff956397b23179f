"""AsyncAPI 3.0 document for a service: the events it sends and the events it receives."""

from __future__ import annotations

from typing import Any

from kernel.events import CloudEvent, EventData, producer_of, stream_name


def event_schema(model: type[EventData]) -> dict[str, Any]:
    """The published JSON Schema of one event type's ``data``."""
    schema = model.model_json_schema(mode="serialization")
    schema["$id"] = f"https://ntc.kz/schemas/events/{model.event_type}.json"
    schema["title"] = model.event_type
    schema["x-stream"] = stream_name(producer_of(model.event_type))
    return schema


def _key(event_type: str) -> str:
    return event_type.replace(".", "_")


def asyncapi_document(service: str, *, sends: list[type[EventData]], receives: list[type[EventData]],
                      version: str = "1.0.0") -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    envelope = CloudEvent.model_json_schema()
    for action, models in (("send", sends), ("receive", receives)):
        for model in models:
            key = _key(model.event_type)
            messages[key] = {
                "name": model.event_type,
                "title": model.event_type,
                "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else None,
                "contentType": "application/cloudevents+json",
                "headers": {"type": "object", "properties": {"Nats-Msg-Id": {"type": "string",
                            "description": "The event id; JetStream drops a duplicate within its window"}}},
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/CloudEvent"},
                        {"type": "object", "properties": {"type": {"const": model.event_type},
                                                          "data": event_schema(model)}},
                    ]
                },
            }
            channels[key] = {
                "address": model.event_type,
                "description": f"Stream {stream_name(producer_of(model.event_type))}",
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            }
            operations[f"{action}_{key}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"NTC {service} events", "version": version,
                 "description": "CloudEvents 1.0 in structured JSON on NATS JetStream; the subject is the event type."},
        "defaultContentType": "application/cloudevents+json",
        "servers": {"jetstream": {"host": "nats:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": {"CloudEvent": envelope}, "messages": messages},
    }
