"""``caucasus-qa config``: the effective settings, one a line, and where each value came from.

Generic over the pydantic :class:`~caucasus_qa.settings.Settings` model: every field of
``Settings.model_fields`` (nested ``BaseModel`` fields are walked into and shown as ``outer.inner``),
its value as the commands would use it, and its source: ``flag`` (a command-line flag), ``env`` (a
``CAUCASUS_QA_*`` variable, read by pydantic-settings' own environment source, so prefix, case and
nesting rules are exactly those of the settings) or ``default``. Secrets (a ``SecretStr``, or a field
named like ``*_key``, ``*_password``, ``*_secret``, ``*_token``) are shown masked once set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource

from .errors import InputError
from .settings import Settings

Origin = Literal["default", "env", "flag"]
SECRET_WORDS = frozenset({"key", "password", "secret", "token", "apikey"})
MASK = "********"


@dataclass(frozen=True)
class SettingRow:
    name: str  # dotted path: "top_k", or "retrieval.top_k" for a nested field
    value: Any  # JSON-ready (paths as text); masked for a secret that is set
    source: Origin
    env: str  # the environment variable that sets it
    description: str = ""


def _nested_model(info: FieldInfo) -> type[BaseModel] | None:
    kind = info.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def _fields(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], FieldInfo]]:
    """Every leaf field of ``model`` as (path, info), nested models walked into, in declaration order."""
    for name, info in model.model_fields.items():
        inner = _nested_model(info)
        if inner is not None:
            yield from _fields(inner, (*prefix, name))
        else:
            yield (*prefix, name), info


def env_name(path: tuple[str, ...], settings_cls: type[BaseSettings] = Settings) -> str:
    """The variable that sets the field at ``path`` (``CAUCASUS_QA_RETRIEVAL__TOP_K``); with no nested
    delimiter configured, a nested field is set through its outer model's variable (JSON)."""
    config = settings_cls.model_config
    prefix = str(config.get("env_prefix") or "")
    delimiter = config.get("env_nested_delimiter")
    parts = path if delimiter else path[:1]
    return (prefix + str(delimiter or "").join(parts)).upper()


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def _is_secret(path: tuple[str, ...], info: FieldInfo) -> bool:
    return info.annotation is SecretStr or bool(SECRET_WORDS & set(path[-1].lower().split("_")))


def _flag_paths(flags: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    return {tuple(k.split(".")): v for k, v in flags.items()}


def effective_settings(
    flags: Mapping[str, Any] | None = None, settings_cls: type[BaseSettings] = Settings
) -> BaseSettings:
    """``Settings()`` (defaults and environment) with ``flags`` (dotted names) on top: what
    ``Assistant`` builds from the same flags. A bad environment value is an ``InputError``."""
    try:
        dump = settings_cls().model_dump()
        for path, value in _flag_paths(flags or {}).items():
            _set(dump, path, value)
        return settings_cls.model_validate(dump)
    except ValidationError as err:
        first = err.errors()[0]
        path = tuple(str(p) for p in first["loc"])
        where = env_name(path, settings_cls)
        raise InputError(f"{where}: {first['msg']} (got {first.get('input')!r})") from None


def settings_report(
    flags: Mapping[str, Any] | None = None, settings_cls: type[BaseSettings] = Settings
) -> list[SettingRow]:
    """One row per setting: the effective value and whether it came from a flag, the environment or
    the default. ``flags``: the settings given on the command line, by (dotted) field name."""
    given = _flag_paths(flags or {})
    values = effective_settings(flags, settings_cls).model_dump(mode="json")
    from_env = EnvSettingsSource(settings_cls)()
    rows = []
    for path, info in _fields(settings_cls):
        source: Origin = "default"
        if path in given:
            source = "flag"
        elif _lookup(from_env, path)[0]:
            source = "env"
        value = _lookup(values, path)[1]
        if _is_secret(path, info) and source != "default":
            value = MASK
        env = env_name(path, settings_cls)
        rows.append(SettingRow(".".join(path), value, source, env, info.description or ""))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def format_report(rows: list[SettingRow]) -> str:
    """``name  value  source`` aligned, one setting a line; an environment source names its variable."""
    width = max(len(r.name) for r in rows)
    value_width = min(48, max(len(_text(r.value)) for r in rows))
    lines = []
    for r in rows:
        source = f"env ({r.env})" if r.source == "env" else r.source
        lines.append(f"{r.name:<{width}}  {_text(r.value):<{value_width}}  {source}")
    return "\n".join(lines)


def report_dict(rows: list[SettingRow]) -> dict[str, dict[str, Any]]:
    return {
        r.name: {"value": r.value, "source": r.source, "env": r.env, "description": r.description}
        for r in rows
    }


def print_settings(flags: Mapping[str, Any] | None = None, as_json: bool = False) -> int:
    rows = settings_report(flags)
    if as_json:
        print(json.dumps(report_dict(rows), ensure_ascii=False, indent=2))
    else:
        print(format_report(rows))
    return 0
