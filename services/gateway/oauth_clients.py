"""The embedded mode's registry of OAuth2 machine clients: a JSON file of client ids, their
scopes and salted scrypt hashes of their secrets. It never stores, logs or returns a secret
except once, to whoever registers the client."""

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.kernel.auth import SCOPES

CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
FORMAT_VERSION = 1
# scrypt at n=2**14, r=8 (16 MiB, tens of milliseconds): the secrets are random and long, so
# this guards a stolen file against nothing more than a fast offline check of weak secrets.
SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES = 2**14, 8, 1, 32


class ClientRegistryError(Exception):
    """A registration the registry refuses, or a file it cannot read; the message says which."""


@dataclass(frozen=True)
class MachineClient:
    client_id: str
    scopes: frozenset[str]
    secret_hash: str
    created_at: str


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64), self-describing so the parameters can change later."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def secret_matches(secret: str, stored: str) -> bool:
    """Constant-time comparison of `secret` with a stored hash; a malformed hash matches nothing."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(expected)),
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


@functools.cache
def _decoy_hash() -> str:
    return hash_secret(secrets.token_urlsafe(32))


def load_clients(path: Path) -> dict[str, MachineClient]:
    """Every registered client by id; no file means none."""
    try:
        document = json.loads(path.read_text())
        return {
            client_id: MachineClient(
                client_id=client_id,
                scopes=frozenset(_names(entry["scopes"])),
                secret_hash=entry["secret_hash"],
                created_at=entry["created_at"],
            )
            for client_id, entry in document["clients"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ClientRegistryError(f"the client registry {path} cannot be read") from exc


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise TypeError("scopes must be a list of names")
    return value


def save_clients(path: Path, clients: dict[str, MachineClient]) -> None:
    """Replace the file atomically, readable by its owner only."""
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "clients": {
            client.client_id: {
                "scopes": sorted(client.scopes),
                "secret_hash": client.secret_hash,
                "created_at": client.created_at,
            }
            for client in sorted(clients.values(), key=lambda c: c.client_id)
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def add_client(path: Path, client_id: str, scopes: set[str]) -> str:
    """Register a client with `scopes`; returns its new secret, which is nowhere else. A bad
    id or scope is a ValueError; an id already taken is a ClientRegistryError."""
    if not CLIENT_ID.fullmatch(client_id):
        raise ValueError(
            f"{client_id!r} is not a valid client id: use 1 to 63 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    if not scopes:
        raise ValueError("a client needs at least one scope")
    unknown = scopes - SCOPES
    if unknown:
        raise ValueError(
            f"unknown scope {', '.join(map(repr, sorted(unknown)))}; "
            f"choose from {', '.join(sorted(SCOPES))}"
        )
    clients = load_clients(path)
    if client_id in clients:
        raise ClientRegistryError(f"the client {client_id!r} already exists; remove it first")
    secret = secrets.token_urlsafe(32)
    clients[client_id] = MachineClient(
        client_id=client_id,
        scopes=frozenset(scopes),
        secret_hash=hash_secret(secret),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    save_clients(path, clients)
    return secret


def remove_client(path: Path, client_id: str) -> None:
    clients = load_clients(path)
    if clients.pop(client_id, None) is None:
        raise ClientRegistryError(f"no client {client_id!r} is registered")
    save_clients(path, clients)


def authenticate(path: Path, client_id: str, secret: str) -> MachineClient | None:
    """The client when `secret` is its own. An unknown id costs the same hash as a known one,
    so timing does not tell which client ids exist."""
    client = load_clients(path).get(client_id)
    matches = secret_matches(secret, client.secret_hash if client else _decoy_hash())
    return client if client is not None and matches else None
