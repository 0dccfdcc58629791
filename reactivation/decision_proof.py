"""Proof that an owner's decision came through the API: an HMAC over the decision, with a key only the
API and the workers hold (DORMANT_DECISION_KEY, never in a workflow input or history).

Anyone who can reach Temporal could otherwise send the `decide` Update by hand, with any `decided_by` and
`decided_by_admin`. The API authenticates the caller, fills those fields itself and signs the result;
the workflow's Update validator verifies the signature (validators never run on replay, so a rotated key
cannot make an old history non-deterministic). Several keys may be listed, comma-separated: the first
signs, every one verifies, so a key is rotated like the payload keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from reactivation.review_model import Decision


def keys_from(setting: str | None) -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in (setting or "").split(",") if k.strip())


def _message(decision: Decision) -> bytes:
    fields = decision.model_dump(mode="json", exclude={"proof"})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(decision: Decision, keys: tuple[bytes, ...]) -> Decision:
    """The decision with its proof (unchanged when no key is configured)."""
    if not keys:
        return decision
    proof = hmac.new(keys[0], _message(decision), hashlib.sha256).hexdigest()
    return decision.model_copy(update={"proof": proof})


def verify(decision: Decision, keys: tuple[bytes, ...]) -> bool:
    if not decision.proof or not decision.proof.isascii():
        return False
    message = _message(decision)
    return any(hmac.compare_digest(hmac.new(key, message, hashlib.sha256).hexdigest(), decision.proof)
               for key in keys)
