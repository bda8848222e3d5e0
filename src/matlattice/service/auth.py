"""The service's bearer token: where it comes from and how a request is checked."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from matlattice.errors import MatlatticeError

__all__ = ["MIN_TOKEN_LENGTH", "TOKEN_VARIABLE", "load_token", "token_matches"]

TOKEN_VARIABLE = "MATLATTICE_TOKEN"
MIN_TOKEN_LENGTH = 16


def load_token(token_file: Path | None = None) -> str:
    """The token from ``token_file`` (its first line) or else ``$MATLATTICE_TOKEN``; a
    :class:`MatlatticeError` when neither gives one of at least 16 characters, so a server
    never starts open."""
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise MatlatticeError(f"--token-file {token_file} cannot be read: {exc}") from exc
        token = token[0].strip() if token else ""
        source = f"--token-file {token_file}"
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        source = f"${TOKEN_VARIABLE}"
    if not token:
        raise MatlatticeError(
            f"no token: set {TOKEN_VARIABLE} or give --token-file; the service never runs "
            "without authentication"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise MatlatticeError(
            f"the token from {source} has {len(token)} characters; use at least "
            f"{MIN_TOKEN_LENGTH} (e.g. python -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    return token


def token_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant-time)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
