"""A cap on the size of request bodies: a declared ``Content-Length`` over it is refused before
the body is read, and a body sent in chunks is cut off once it passes it (413)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

__all__ = ["BodyLimit"]


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with a JSON 413."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = int(limit)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, int(declared))
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(seen, self.limit)
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge as exc:
            await self._refuse(send, exc.size)

    async def _refuse(self, send, size: int) -> None:
        body = json.dumps(
            {
                "error": f"request body of {size} bytes (or more) is over the "
                f"limit of {self.limit}; send fewer rows per request"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised while the body is read: FastAPI passes an HTTPException on (any other error
    there becomes its 400), and the app's handler answers it as JSON."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            413,
            f"request body of {size} bytes (or more) is over the limit of "
            f"{limit}; send fewer rows per request",
        )
        self.size = size
