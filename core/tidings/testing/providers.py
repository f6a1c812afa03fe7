"""A fake SMS provider for end-to-end tests and benchmarks: a JSON message API on 127.0.0.1.

It is a test double and lives in the test kit only: nothing of the runtime imports it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tidings.testing.http import LocalHttpService, Reply, Request


class LocalJsonProvider(LocalHttpService):
    """A JSON message API, for tests of the ``json`` provider of ``tidings-sms``; it listens once made.

    ``POST /messages`` with a JSON body and an ``Idempotency-Key`` header delivers the message once
    per key (201 with ``{"id": ...}``; a key seen before gets 200 and the same id, and is not
    delivered again); ``GET /messages/KEY`` answers 200 with the id of the message sent under KEY,
    or 404. Point ``[channels.sms] url`` at `url` and ``lookup_url`` at ``url + "/{idempotency_key}"``.
    A scripted answer (`then`) delivers nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.delivered: list[dict[str, Any]] = []    # each message once, in arrival order
        self.posts: Counter[str] = Counter()         # POSTs per idempotency key
        self.lookups: Counter[str] = Counter()       # "found" / "missing"
        self.ids: dict[str, str] = {}                # idempotency key -> message id
        # bench/ makes it and reads `url` at once: a provider that exists is listening
        self.start()

    @property
    def url(self) -> str:
        """The messages endpoint, ``http://127.0.0.1:<port>/messages``."""
        return f"{super().url}/messages"

    def respond(self, request: Request) -> Reply:
        if request.method == "GET":
            answer = self.ids.get(request.path.rsplit("/", 1)[-1])
            self.lookups["found" if answer else "missing"] += 1
            return Reply(200, {"id": answer}) if answer else Reply(404, {"error": "not found"})
        key = request.headers.get("idempotency-key", "")
        self.posts[key] += 1
        replay = key in self.ids
        if not replay:
            self.ids[key] = f"m-{len(self.ids) + 1}"
            self.delivered.append(request.json)
        return Reply(200 if replay else 201, {"id": self.ids[key]})

    def texts(self) -> list[str]:
        """The delivered messages' ``text`` fields, sorted."""
        with self.lock:
            return sorted(str(m.get("text")) for m in self.delivered)
