"""A report as data: sections of labelled items and tables, each citing its rule ids.

The same :class:`Report` renders to HTML and PDF (``reports.render``) and dumps to JSON;
its :meth:`Report.sha256` (over canonical JSON) is what the ledger records when a report is
issued, so a court can tell which content was assessed and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from facegate._internal.canonical import canonical_json, sha256_hex

ReportKind = Literal["pia", "art30", "filing"]

#: marks what software cannot know and a person must complete before signing
TO_COMPLETE = "to be completed by the operator"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Item(_Frozen):
    label: str
    value: str
    rules: tuple[str, ...] = ()
    #: the value is a placeholder a person must fill in (shown highlighted)
    todo: bool = False


class Table(_Frozen):
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class Section(_Frozen):
    title: str
    title_zh: str
    rules: tuple[str, ...] = ()
    intro: str = ""
    items: tuple[Item, ...] = ()
    table: Table | None = None


class Report(_Frozen):
    kind: ReportKind
    title: str
    title_zh: str
    #: what the report is about: a deployment id, or an operator id for a filing
    subject: str
    generated_at: datetime
    rules: tuple[str, ...]
    sections: tuple[Section, ...]
    footnote: str = ""

    def sha256(self) -> str:
        """Digest of the content (not of one rendering of it)."""
        return sha256_hex(canonical_json(self.model_dump(mode="json")))

    def todo_count(self) -> int:
        return sum(item.todo for section in self.sections for item in section.items)


def item(label: str, value: object, *rules: str, todo: bool = False) -> Item:
    """An item; an empty value becomes the to-complete placeholder."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return Item(label=label, value=TO_COMPLETE, rules=rules, todo=True)
    return Item(label=label, value=text, rules=rules, todo=todo)
