"""``ucap-gateway keys create|list|revoke``: manage the gateway's API keys."""

import argparse
import asyncio
import json
import sys

from ucap_gateway.config import Settings
from ucap_gateway.keys import KeyStore
from ucap_shared.auth import Role
from ucap_shared.mongo import connect_mongo


def parser() -> argparse.ArgumentParser:
    keys = argparse.ArgumentParser(prog="ucap-gateway keys", description="Manage API keys.")
    commands = keys.add_subparsers(dest="action", required=True)
    create = commands.add_parser("create", help="create a key; it is shown once")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--city", help="a city system's key, e.g. granada")
    who.add_argument("--principal", help="iuc, or ops:<name>")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="publisher, reader or admin (repeat for several)",
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    listing = commands.add_parser("list", help="every key, without its secret")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return keys


async def run(args: argparse.Namespace, settings: Settings) -> int:
    mongo = connect_mongo(settings.mongodb_uri)
    try:
        store = KeyStore(mongo[settings.database])
        if args.action == "create":
            principal = f"city:{args.city}" if args.city else args.principal
            try:
                new = await store.create(principal, [Role(r) for r in args.role])
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            if args.json:
                print(json.dumps({"key": new.secret, **new.record.model_dump(mode="json")}))
            else:
                print(f"created key {new.record.key_id} for {principal} ({', '.join(args.role)})")
                print(f"key (shown once): {new.secret}")
            return 0
        if args.action == "list":
            records = await store.list()
            if args.json:
                print(json.dumps([r.model_dump(mode="json") for r in records]))
            else:
                for record in records:
                    print(record.describe())
            return 0
        if await store.revoke(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"error: no active key {args.key_id}", file=sys.stderr)
        return 1
    finally:
        await mongo.close()


def main(argv: list[str]) -> int:
    return asyncio.run(run(parser().parse_args(argv), Settings()))
