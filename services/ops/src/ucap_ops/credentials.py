"""A credentials file: the gateway and one API key per principal, as ``make run`` writes
``demo-credentials.json`` and ``ucap load --credentials`` reads it.

    {"gateway": "http://127.0.0.1:8000",
     "keys": {"ops:demo": {"key_id": "…", "key": "ucap_…", "roles": ["admin"]},
              "iuc": {…, "roles": ["reader"]},
              "city:granada": {…, "roles": ["publisher"]}}}
"""

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError


class StoredKey(BaseModel):
    key_id: str
    key: str
    roles: list[str]


class Credentials(BaseModel):
    gateway: str
    keys: dict[str, StoredKey]

    def for_city(self, city_id: str) -> StoredKey | None:
        """The city system's own key, if the file holds a publisher key for it."""
        stored = self.keys.get(f"city:{city_id}")
        return stored if stored is not None and "publisher" in stored.roles else None

    def admin(self) -> tuple[str, StoredKey] | None:
        return next(
            ((name, stored) for name, stored in self.keys.items() if "admin" in stored.roles),
            None,
        )


class CredentialsError(ValueError):
    """A credentials file that cannot be read; the message says which and why."""


def read_credentials(path: Path) -> Credentials:
    try:
        return Credentials.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CredentialsError(f"cannot read {path}: {error.strerror or error}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(the file)"
        raise CredentialsError(f"{path}: {where}: {first['msg']}") from error


def write_credentials(path: Path, credentials: Credentials) -> None:
    """Written readable by its owner only (0600), replacing the old file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        json.dump(credentials.model_dump(), output, indent=2)
        output.write("\n")
    os.chmod(partial, 0o600)
    partial.replace(path)
