"""Reading a workflow history for the bench: each event's label (type, activity, step summary), the
server-side trace of an approval, and the breakdown of a history by event type and payload (every payload
over 64 bytes with its event, field and the fields inside it: what to cut when a history grows).
"""

from __future__ import annotations

import json
from collections import Counter

from temporalio.api.enums.v1 import EventType


def trace_after_update(history) -> list[str]:
    """Server-side timestamps from the Update's acceptance to the first delivery's completion: where the
    approval-to-send time goes (one idle account)."""
    trace, start = [], None
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        at = event.event_time.ToDatetime()
        if start is None and name == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            start = at
        if start is None:
            continue
        trace.append(f"{(at - start).total_seconds() * 1000:7.1f} ms  {event_label(event, name)}")
        if name == "ACTIVITY_TASK_COMPLETED" and "deliver" in trace[-4]:
            break
    return trace


def history_breakdown(history) -> dict:
    types: Counter = Counter()
    bytes_by_type: Counter = Counter()
    activities: Counter = Counter()
    local_activities: Counter = Counter()
    sequence: list[str] = []
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        types[name] += 1
        sequence.append(event_label(event, name))
        bytes_by_type[name] += event.ByteSize()
        if event.HasField("activity_task_scheduled_event_attributes"):
            activities[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
        if event.HasField("marker_recorded_event_attributes"):
            local_activities[_local_activity_name(event.marker_recorded_event_attributes)] += 1
    payloads = _payloads(history)
    return {"events": len(history.events), "bytes": len(history.to_json()),
            "proto_bytes": sum(e.ByteSize() for e in history.events),
            "payload_bytes": sum(p["bytes"] for p in payloads),
            "by_type": dict(types.most_common()), "proto_bytes_by_type": dict(bytes_by_type.most_common()),
            "activities": dict(activities), "local_activities_and_markers": dict(local_activities),
            "biggest_payloads": payloads[:TOP_PAYLOADS], "sequence": sequence}


TOP_PAYLOADS = 8


def _walk_payloads(message, path: str):
    """Every temporal.api.common.v1.Payload inside a proto message, with its field path."""
    if message.DESCRIPTOR.full_name == "temporal.api.common.v1.Payload":
        yield path, message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if hasattr(value, "DESCRIPTOR"):  # a single message
            yield from _walk_payloads(value, name)
        elif hasattr(value, "items"):  # a map
            for key, item in value.items():
                if hasattr(item, "DESCRIPTOR"):
                    yield from _walk_payloads(item, f"{name}[{key}]")
        else:  # a repeated message field
            for i, item in enumerate(value):
                yield from _walk_payloads(item, f"{name}[{i}]")


def _json_fields(data: bytes) -> dict[str, int]:
    """Bytes per top-level field of a JSON payload (for a list, of its items' fields summed): what a payload
    carries. Empty when the payload is not a JSON object."""
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    sizes: Counter = Counter()
    _field_sizes(value, "", sizes, depth=0)
    return dict(sizes.most_common(8))


def _field_sizes(value, path: str, sizes: Counter, depth: int) -> None:
    """Bytes of each field two levels deep (`records[].view.state` sums over a list's items)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, sub in item.items():
            name = f"{path}.{key}" if path else key
            size = len(json.dumps(sub, separators=(",", ":")))
            if depth < 2 and isinstance(sub, (dict, list)) and size > 500:
                _field_sizes(sub, name + ("[]" if isinstance(sub, list) else ""), sizes, depth + 1)
            else:
                sizes[name] += size


def _payloads(history) -> list[dict]:
    """Every payload in the history, biggest first: the event (with activity or step), its field, its size
    and the biggest fields inside it."""
    scheduled: dict[int, str] = {}
    found = []
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        label = event_label(event, name)
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.HasField("activity_task_completed_event_attributes"):
            label += " " + scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id, "?")
        attrs = event.WhichOneof("attributes")
        if attrs is None:
            continue
        for path, payload in _walk_payloads(getattr(event, attrs), ""):
            if payload.ByteSize() < 64:
                continue
            found.append({"event_id": event.event_id, "event": label, "field": path, "bytes": payload.ByteSize(),
                          "fields_bytes": _json_fields(payload.data)})
    found.sort(key=lambda p: -p["bytes"])
    return found


def event_label(event, name: str) -> str:
    """The event type, with the activity's name and the step's summary where there are some."""
    parts = [name]
    if event.HasField("activity_task_scheduled_event_attributes"):
        parts.append(event.activity_task_scheduled_event_attributes.activity_type.name)
    if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
        parts.append(f"({event.user_metadata.summary.data.decode(errors='replace').strip(chr(34))})")
    return " ".join(parts)


def _local_activity_name(marker) -> str:
    if marker.marker_name != "core_local_activity":
        return marker.marker_name
    try:
        data = json.loads(marker.details["data"].payloads[0].data)
        return data.get("activity_type") or "local_activity"
    except Exception:
        return "local_activity"
