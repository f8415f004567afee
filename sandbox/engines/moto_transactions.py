"""TransactWriteItems in the emulator at the cost DynamoDB's own has: proportional to the transaction, not the table.

moto backs up every table a transaction names with a deep copy of the whole table before it starts, so that a
cancelled transaction can be put back. The `counters` write mode sends one transaction per batch of keys, and its
table grows by a dedupe marker per event: each call then copies thousands of items, and a demo's session slows
to a crawl while the copies pile up in memory. The same all-or-nothing outcome needs only the items the
transaction touches, so this keeps a copy of those, lets moto's whole-table backup be the table itself, and on
any failure writes the touched items back as they were.

`install()` is idempotent and process-wide, as moto's state is.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

_INSTALLED_MARK = "_tributary_touched_items_only"


class _CopyKeepingTables:
    """The `copy` module as moto.dynamodb.models sees it once installed: a deep copy of a whole table is the table
    (nothing to restore from it), every other deep copy is a real one."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)


def _touched_key(backend: Any, entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The table and key one transaction entry writes, or None when the entry is malformed (moto rejects it)."""
    try:
        op_type, op = next(iter(entry.items()))
        table_name = op["TableName"]
        if op_type != "Put":
            return table_name, op["Key"]
        table = backend.get_table(table_name)
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return table_name, key
    except Exception:  # noqa: BLE001 - whatever is wrong with the entry, moto's own checks report it
        return None


def _restore(backend: Any, saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
    for table_name, key, attributes in reversed(saved):
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def install() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_type = models.DynamoDBBackend
    if getattr(backend_type.transact_write_items, _INSTALLED_MARK, False):
        return
    whole_table_backup = backend_type.transact_write_items
    models.copy = _CopyKeepingTables(Table)

    @functools.wraps(whole_table_backup)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items[:100]:  # moto refuses more, before writing anything
            touched = _touched_key(self, entry)
            if touched is None:
                continue
            table_name, key = touched
            try:
                current = self.get_item(table_name, key)
            except Exception:  # noqa: BLE001 - no such table: moto's own call reports it
                continue
            saved.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return whole_table_backup(self, transact_items)
        except Exception:
            _restore(self, saved)
            raise

    setattr(transact_write_items, _INSTALLED_MARK, True)
    backend_type.transact_write_items = transact_write_items
