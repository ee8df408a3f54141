"""Who may reach the server: loopback by default; any other interface needs ``--auth`` or ``--no-auth``."""

from __future__ import annotations

import ipaddress

from ..errors import InputError


def is_loopback(host: str) -> bool:
    h = host.strip().strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth: expected USER:PASSWORD, both non-empty")
    return user, password


def check_exposure(host: str, auth: str | None, no_auth: bool) -> tuple[str, str] | None:
    """The credentials to launch with; :class:`InputError` (exit 2) for an unprotected public bind."""
    if auth and no_auth:
        raise InputError("serve: --auth and --no-auth exclude each other")
    creds = parse_auth(auth) if auth else None
    if creds is None and not no_auth and not is_loopback(host):
        raise InputError(
            f"serve: --host {host} exposes the UI beyond this machine; "
            "add --auth USER:PASSWORD, or --no-auth to allow anyone on the network"
        )
    return creds
