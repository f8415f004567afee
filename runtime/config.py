"""The handler's configuration, resolved once per container.

Resolution order for every setting: explicit argument > environment variable > default. Every problem
raises ConfigurationError naming the variable, so a misconfigured function fails at its first
invocation with one readable line instead of failing record by record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runtime import settings
from runtime.exceptions import ConfigurationError
from runtime.modes import DEFAULT_WRITE_MODE, MODES, mode
from runtime.settings import RESERVED_ATTRIBUTES
from runtime.templates import KeyTemplate

# Markers must outlive every redelivery of the event: the stream's maximum retention is 365 days, but
# the event source mapping's maximum record age (production default 1 hour, at most 7 days) bounds
# how late Lambda redelivers; a `redrive` replays from the on-failure queue within its 14 days.
DEFAULT_DEDUPE_TTL_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class HandlerConfig:
    """One tenant's handler settings (see runtime/settings.py for the variable names)."""

    tenant: str
    table_name: str
    failure_queue_url: str
    partition_template: KeyTemplate
    write_mode: str = DEFAULT_WRITE_MODE
    sort_template: KeyTemplate | None = None
    event_id_field: str | None = None
    timestamp_field: str | None = None
    version_field: str | None = None
    counter_fields: tuple[str, ...] = ()
    schema: Mapping[str, Any] | None = None
    validator: Callable[[Any], Any] | None = None
    ttl_days: int | None = None
    dedupe_ttl_seconds: int = DEFAULT_DEDUPE_TTL_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> HandlerConfig:
        """Build and validate the configuration. ``explicit`` keyword arguments use the names of this
        class's fields (templates and schema as text, counter_fields as a list or comma string)."""
        env = os.environ if environ is None else environ
        r = _Resolver(env, explicit)
        write_mode = r.text(settings.WRITE_MODE, "write_mode", DEFAULT_WRITE_MODE) or DEFAULT_WRITE_MODE
        try:
            mode(write_mode)
        except ValueError as exc:
            raise ConfigurationError(settings.WRITE_MODE, str(exc)) from None
        schema = r.schema()
        cfg = cls(
            tenant=r.required(settings.TENANT, "tenant"),
            table_name=r.required(settings.TABLE_NAME, "table_name"),
            failure_queue_url=r.required(settings.FAILURE_QUEUE_URL, "failure_queue_url"),
            write_mode=write_mode,
            partition_template=r.template(settings.PARTITION_KEY, "partition_template", required=True),
            sort_template=r.template(settings.SORT_KEY, "sort_template", required=False),
            event_id_field=r.text(settings.EVENT_ID_FIELD, "event_id_field", None),
            timestamp_field=r.text(settings.TIMESTAMP_FIELD, "timestamp_field", None),
            version_field=r.text(settings.VERSION_FIELD, "version_field", None),
            counter_fields=r.names(settings.COUNTER_FIELDS, "counter_fields"),
            schema=schema,
            validator=_compile(schema),
            ttl_days=r.positive_int(settings.TTL_DAYS, "ttl_days", None),
            dedupe_ttl_seconds=r.positive_int(
                settings.DEDUPE_TTL_SECONDS, "dedupe_ttl_seconds", DEFAULT_DEDUPE_TTL_SECONDS
            ),
        )
        cfg._check_mode_fields()
        return cfg

    def _check_mode_fields(self) -> None:
        """The settings the write mode requires (runtime/modes/<mode>.py), and no reserved attribute among them."""
        write_mode = MODES[self.write_mode]
        for required in write_mode.required_settings:
            value = getattr(self, required.attribute)
            if not value:
                raise ConfigurationError(required.variable, f"is required when {settings.WRITE_MODE}={self.write_mode}")
            clash = (
                [name for name in value if name in write_mode.reserved_attributes] if required.names_attributes else ()
            )
            if clash:
                raise ConfigurationError(
                    required.variable, f"{clash[0]!r} is reserved by the table or the {self.write_mode} mode"
                )
        if self.version_field in RESERVED_ATTRIBUTES:
            raise ConfigurationError(settings.VERSION_FIELD, f"{self.version_field!r} is reserved")


class _Resolver:
    """explicit argument > environment variable > default, with the variable's name in every error."""

    def __init__(self, env: Mapping[str, str], explicit: Mapping[str, Any]):
        self.env = env
        self.explicit = dict(explicit)

    def raw(self, var: str, name: str) -> Any:
        if self.explicit.get(name) is not None:
            return self.explicit[name]
        value = self.env.get(var)
        return value if value not in (None, "") else None

    def text(self, var: str, name: str, default: str | None) -> str | None:
        value = self.raw(var, name)
        if value is None:
            return default
        value = str(value).strip()
        return value or default

    def required(self, var: str, name: str) -> str:
        value = self.text(var, name, None)
        if value is None:
            raise ConfigurationError(var, "is required (not set)")
        return value

    def template(self, var: str, name: str, required: bool) -> KeyTemplate | None:
        value = self.raw(var, name)
        if isinstance(value, KeyTemplate):
            return value
        if value is None:
            if required:
                raise ConfigurationError(var, "is required (not set)")
            return None
        try:
            return KeyTemplate.parse(str(value))
        except ValueError as exc:
            raise ConfigurationError(var, f"{exc} (got {value!r})") from None

    def names(self, var: str, name: str) -> tuple[str, ...]:
        value = self.raw(var, name)
        if value is None:
            return ()
        items = value.split(settings.COUNTER_FIELDS_SEPARATOR) if isinstance(value, str) else list(value)
        names = tuple(str(v).strip() for v in items)
        if any(not n for n in names):
            raise ConfigurationError(var, f"must be a comma-separated list of field names (got {value!r})")
        return names

    def positive_int(self, var: str, name: str, default: int | None) -> int | None:
        value = self.raw(var, name)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ConfigurationError(var, f"must be a positive integer (got {value!r})") from None
        if number <= 0:
            raise ConfigurationError(var, f"must be a positive integer (got {value!r})")
        return number

    def schema(self) -> Mapping[str, Any] | None:
        value = self.raw(settings.SCHEMA, "schema")
        if value is None or isinstance(value, Mapping):
            return value
        try:
            schema = json.loads(value)
        except ValueError as exc:
            raise ConfigurationError(settings.SCHEMA, f"is not valid JSON ({exc})") from None
        if not isinstance(schema, dict):
            raise ConfigurationError(settings.SCHEMA, "must be a JSON Schema object")
        return schema


def _compile(schema: Mapping[str, Any] | None) -> Callable[[Any], Any] | None:
    """Compile the tenant's JSON Schema once per container (fastjsonschema generates Python code)."""
    if schema is None:
        return None
    import fastjsonschema  # imported here: tenants without a schema do not pay for it at cold start

    try:
        return fastjsonschema.compile(dict(schema))
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise ConfigurationError(settings.SCHEMA, f"is not a valid JSON Schema ({exc})") from None
