"""The live demo ``make run`` sets up once the services are ready: demo credentials (an
admin, a reader, a publisher per city of the demo file), the demo data file loaded with
each city's own key as the partner city systems would, and where to look.

The credentials are written to ``<run dir>/demo-credentials.json`` (mode 0600); a later
run reuses each key that still authenticates as what it should be, and makes the rest."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx
from pymongo.errors import PyMongoError
from rich.console import Console

from ucap_gateway.operator_access import KeyStore, opened_key_store
from ucap_ops.credentials import (
    Credentials,
    CredentialsError,
    StoredKey,
    read_credentials,
    write_credentials,
)
from ucap_ops.datafile import DataFile, read_data_file
from ucap_ops.loading.display import ProgressBar, show_summary
from ucap_ops.loading.gateway import KeyChoice, LoadError
from ucap_ops.loading.outcome import Summary
from ucap_ops.loading.runner import LoadPlan, count_items, load
from ucap_shared.auth import Role

CREDENTIALS_FILE = "demo-credentials.json"
ADMIN = "ops:demo"
READER = "iuc"


@dataclass(frozen=True)
class DemoKeys:
    credentials: Credentials
    made: list[str]
    """The principals whose keys this run made (the others were reused)"""


def wanted_keys(data: DataFile) -> dict[str, list[Role]]:
    return {
        ADMIN: [Role.ADMIN],
        READER: [Role.READER],
        **{f"city:{city.id}": [Role.PUBLISHER] for city in data.cities},
    }


async def _ensure(
    store: KeyStore, wanted: dict[str, list[Role]], old: Credentials | None
) -> tuple[dict[str, StoredKey], list[str]]:
    keys: dict[str, StoredKey] = {}
    made: list[str] = []
    for principal, roles in wanted.items():
        stored = old.keys.get(principal) if old else None
        if stored is not None:
            record = await store.authenticate(stored.key)
            if record and record.principal == principal and set(record.roles) == set(roles):
                keys[principal] = stored
                continue
        new = await store.create(principal, roles)
        keys[principal] = StoredKey(
            key_id=new.record.key_id, key=new.secret, roles=[str(r) for r in new.record.roles]
        )
        made.append(principal)
    return keys, made


def ensure_demo_keys(path: Path, gateway_url: str, data: DataFile) -> DemoKeys:
    try:
        old: Credentials | None = read_credentials(path) if path.exists() else None
    except CredentialsError:
        old = None

    async def run() -> tuple[dict[str, StoredKey], list[str]]:
        async with opened_key_store() as store:
            return await _ensure(store, wanted_keys(data), old)

    keys, made = asyncio.run(run())
    credentials = Credentials(gateway=gateway_url, keys=keys)
    write_credentials(path, credentials)
    return DemoKeys(credentials, made)


def _has_login(gateway_url: str) -> bool:
    try:
        answer = httpx.get(f"{gateway_url}/login", timeout=5)
    except httpx.HTTPError:
        return False
    return answer.status_code not in (404, 401, 405)


def show_where_to_look(
    console: Console, gateway_url: str, keys: DemoKeys, path: Path, ucap_id: str | None
) -> None:
    console.print(f"\nDemo credentials (also in {path}, readable by you only):", highlight=False)
    for principal, stored in keys.credentials.keys.items():
        state = "new" if principal in keys.made else "reused"
        roles = ",".join(stored.roles)
        console.print(f"  {principal:22} {roles:10} {stored.key}  ({state})", highlight=False)
    reader = keys.credentials.keys[READER].key
    status_url = f"{gateway_url}/ucaps/{ucap_id}/status" if ucap_id else None
    console.print("")
    if status_url:
        console.print(f"Live status page:  {status_url}", highlight=False)
    console.print(f"Programme page:    {gateway_url}/programme/status", highlight=False)
    console.print(f"API docs:          {gateway_url}/docs", highlight=False)
    if _has_login(gateway_url):
        after = f"?next=/ucaps/{ucap_id}/status" if ucap_id else ""
        console.print(f"Log in (browser):  {gateway_url}/login{after}", highlight=False)
    if status_url:
        console.print(f'Try:  curl -H "X-API-Key: {reader}" {status_url}', highlight=False)


def run_demo(gateway_url: str, run_dir: Path, data_file: Path) -> Summary | None:
    """Credentials, the demo data loaded, and where to look; None when it could not load
    (the reason printed). Never raises for an expected failure: the system stays up."""
    console = Console(soft_wrap=True)
    path = run_dir / CREDENTIALS_FILE
    try:
        data = read_data_file(data_file)
        keys = ensure_demo_keys(path, gateway_url, data)
    except (ValueError, OSError, PyMongoError) as error:
        console.print(f"demo: not set up: {error}", highlight=False, markup=False)
        return None
    console.print(f"\nLoading {data_file.name} as the partner city systems would …")
    plan = LoadPlan(data, gateway_url, KeyChoice(credentials=keys.credentials))
    try:
        with ProgressBar(count_items(data), Console(stderr=True)) as bar:
            summary = load(plan, bar)
    except LoadError as error:
        console.print(f"demo: not loaded: {error}", highlight=False, markup=False)
        return None
    show_summary(summary, f"{data_file.name} through {gateway_url}", console)
    show_where_to_look(console, gateway_url, keys, path, data.ucaps[0].id if data.ucaps else None)
    return summary
