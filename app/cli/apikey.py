"""``onegrid apikey create | list | revoke``: Open311 API keys.

The plaintext key is printed once by ``create``; the database keeps only its SHA-256 digest.
The key's channel is the intake channel of every case posted with it.
"""

from __future__ import annotations

import argparse
import sys

from geodata.cases import CHANNELS, create_api_key, fetch_api_keys, revoke_api_key
from geodata.db import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apikey", help="Open311 API keys: create, list, revoke")
    keysub = p.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    create = keysub.add_parser("create", help="create a key (printed once; only its digest is stored)")
    create.add_argument("name", help="who the key is for, e.g. hotline-12345")
    create.add_argument("--channel", choices=CHANNELS, default="public",
                        help="intake channel of cases posted with this key (default public)")
    create.set_defaults(func=cmd_create)
    keysub.add_parser("list", help="list keys (names, channels, dates; never the keys)").set_defaults(func=cmd_list)
    revoke = keysub.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)


def cmd_create(args) -> int:
    with connect() as conn:
        key = create_api_key(conn, args.name, channel=args.channel)
        conn.commit()
    # The key alone on stdout (KEY=$(onegrid apikey create …)); the note goes to stderr.
    print(key)
    print(f"API key {args.name!r} created for channel {args.channel}; store it now, it is not shown again.",
          file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    with connect() as conn:
        keys = fetch_api_keys(conn)
    if not keys:
        print("no API keys (create one with: onegrid apikey create NAME)")
        return 0
    width = max(len(k["name"]) for k in keys)
    for k in keys:
        state = f"revoked {k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else "active"
        print(f"{k['name']:<{width}}  {k['channel']:<10}  created {k['created_at']:%Y-%m-%d %H:%M}  {state}")
    return 0


def cmd_revoke(args) -> int:
    with connect() as conn:
        revoke_api_key(conn, args.name)
        conn.commit()
    print(f"API key {args.name!r} revoked")
    return 0
