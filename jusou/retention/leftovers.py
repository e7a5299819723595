"""What a disposed record left elsewhere: copies of its texts outside its own rows.

A disposal (jusou.retention.services.disposal_execute) gathers every text its scrubs took out
(anonymise.Removed); this module then takes those texts out of the places that copy them:

- notifications (お知らせ): a title or body quoting them (an emergency access's reason, a name);
- the read log: a search term naming the person (「本人検索: 山田」 for 山田 花子, the 重複確認's name and
  birth date) or quoting a disposed text. The row stays — who searched, when, how many were found —
  and the term becomes 廃棄済み. The read log is append-only and hash-chained: the one change it
  takes is this one (migration 0016), inside the disposal's transaction, keeping the old text's
  digest (`detail_digest`) so that `verify_read_log` still passes. Rows hashed before that migration
  (chain_version 1) cannot change and are left, with a warning in the log;
- the minutes of the meetings the case was discussed at (the apps' `leftovers` hooks, through
  `text_replace`), in the rows and their history.

Texts shorter than MIN_LENGTH are not looked for outside the record's own meetings (「なし」 would
match everything); a search term of two characters or more naming the person is.
"""

import hashlib
import logging
import re
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.utils import timezone

from jusou.ja.text import normalize_for_search
from jusou.models import Notification, ReadLog
from jusou.retention.anonymise import BATCH, DISPOSED, Removed, Rows

log = logging.getLogger("jusou.retention")

#: texts at least this long are looked for in every notification and read-log row
MIN_LENGTH = 3
#: a search term at least this long that is part of a disposed person's name is taken out
MIN_SEARCH_LENGTH = 2
TERMS_PER_QUERY = 50
SEARCH_TERM_MAX_LENGTH = 100
# 「本人検索: 山田（3件）」「ケース検索: 山田 2件 [..]」「重複確認: 山田 花子 1980-01-02（1件該当）」
SEARCH_TERM = re.compile(r"^(?P<head>[^:：]{1,20}[:：] ?)(?P<term>.+?)(?P<tail>（.*|\s\d+件.*)?$", re.S)
ISO_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*$")


def terms(removed: Removed, *, min_length: int = MIN_LENGTH) -> list[str]:
    """The texts to look for, longest first (so a longer text is replaced before a part of it), with
    the variant of each without spaces (「山田 花子」 is also searched as 「山田花子」)."""
    found = set()
    for text in removed.texts:
        for variant in (text, re.sub(r"[\s\u3000]+", "", text)):
            if len(variant) >= min_length:
                found.add(variant)
    return sorted(found, key=lambda t: (-len(t), t))


def replace_all(text: str, texts: Iterable[str]) -> str:
    for term in texts:
        if term in text:
            text = text.replace(term, DISPOSED)
    return text


def _containing(fields: Iterable[str], texts: list[str]) -> Iterable[Q]:
    for start in range(0, len(texts), TERMS_PER_QUERY):
        chunk = texts[start : start + TERMS_PER_QUERY]
        yield reduce(or_, (Q(**{f"{field}__contains": term}) for field in fields for term in chunk))


def text_replace(model: type[models.Model], ids, fields: list[str], removed: Removed) -> Rows:
    """Replace the disposed texts (of MIN_SEARCH_LENGTH or more) where they appear in `fields` of the
    rows `ids` of `model` and of their history rows: for records about several people (a meeting's
    minutes), where only what was written about this one goes. Must run inside history_scrub()."""
    ids = sorted(set(ids))
    texts = terms(removed, min_length=MIN_SEARCH_LENGTH)
    if not ids or not texts:
        return {}

    def apply(row) -> bool:
        changed = False
        for name in fields:
            old = getattr(row, name) or ""
            new = replace_all(old, texts)
            if new != old:
                setattr(row, name, new)
                changed = True
        return changed

    history = getattr(model, "history", None)
    changed = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        if history is not None:
            rows = [row for row in history.model.objects.filter(id__in=chunk) if apply(row)]
            if rows:
                history.model.objects.bulk_update(rows, fields, batch_size=BATCH)
        objects = [obj for obj in model._default_manager.filter(pk__in=chunk) if apply(obj)]
        if objects:
            # No new history row: the disposal's own record (the candidate) says what was done, and a
            # new history row would only repeat the replaced text's neighbours.
            model._default_manager.bulk_update(objects, fields, batch_size=BATCH)
            changed.extend(obj.pk for obj in objects)
    return {model._meta.label_lower: changed} if changed else {}


def notifications_scrub(removed: Removed) -> Rows:
    """お知らせ quoting a disposed text: the text goes from the title and the body."""

    texts = terms(removed)
    changed = []
    for condition in _containing(["title", "body"], texts):
        rows = []
        for note in Notification.objects.filter(condition):
            title, body = replace_all(note.title, texts), replace_all(note.body, texts)
            if (title, body) != (note.title, note.body):
                note.title, note.body = title, body
                rows.append(note)
        Notification.objects.bulk_update(rows, ["title", "body"], batch_size=BATCH)
        changed += [note.pk for note in rows]
    return {"jusou.notification": sorted(set(changed))} if changed else {}


def _names_a_disposed_person(term: str, keys: set[str]) -> bool:
    term = normalize_for_search(ISO_DATE.sub("", term))
    return len(term) >= MIN_SEARCH_LENGTH and any(term in key for key in keys)


def _redacted(detail: str, action: str, texts: list[str], keys: set[str]) -> str:

    new = detail
    if action == ReadLog.Action.SEARCH and keys:
        # The whole term goes when it names the person (with the birth date a 重複確認 asked with).
        match = SEARCH_TERM.match(detail)
        if match and _names_a_disposed_person(match["term"], keys):
            new = f"{match['head']}{DISPOSED}{match['tail'] or ''}"
    return replace_all(new, texts)


def _search_parts(keys: set[str]) -> list[str]:
    """Every part (MIN_SEARCH_LENGTH characters or more) of the disposed names' search keys: the
    candidate rows a search term could name the person in (checked one by one after)."""
    parts = set()
    for key in keys:
        for size in range(MIN_SEARCH_LENGTH, len(key) + 1):
            parts.update(key[i : i + size] for i in range(len(key) - size + 1))
    return sorted(parts, key=lambda t: (-len(t), t))


def read_log_redact(removed: Removed) -> Rows:
    """Take the disposed texts and the search terms naming the disposed people out of the read log,
    keeping each row (and its chain: the digest of the old text stays in `detail_digest`). Must run
    inside history_scrub() (on PostgreSQL the read log's trigger lets the change through only there)."""

    # What a read-log row quotes is a search term (the search boxes take 100 characters): longer texts
    # (a note, an assessment) are not looked for there, which keeps the scans of a large log few.
    texts = [text for text in terms(removed) if len(text) <= SEARCH_TERM_MAX_LENGTH]
    keys = {key for key in removed.search_keys if key}
    conditions = list(_containing(["detail"], texts))
    # A search term is stored as typed: the parts of the (normalised, hiragana) keys find 「山田」 and
    # 「やまだ」; the same parts in katakana find 「ヤマダ」. Each candidate row is then checked whole.
    parts = _search_parts(keys)
    hiragana_parts = [p for p in parts if re.fullmatch(r"[ぁ-ゖー]+", p)]
    katakana_parts = [p.translate(_HIRAGANA_TO_KATAKANA) for p in hiragana_parts]
    conditions += [
        Q(action=ReadLog.Action.SEARCH) & q for q in _containing(["detail"], parts + katakana_parts)
    ]
    changed, kept = [], 0
    now = timezone.now()
    seen: set[int] = set()
    for condition in conditions:
        for row in ReadLog.objects.filter(condition).exclude(pk__in=seen).order_by("pk"):
            seen.add(row.pk)
            new = _redacted(row.detail, row.action, texts, keys)
            if new == row.detail:
                continue
            if row.chain_version < 2:
                kept += 1
                continue
            digest = row.detail_digest or hashlib.sha256(row.detail.encode("utf-8")).hexdigest()
            ReadLog.objects.filter(pk=row.pk).update(detail=new, detail_digest=digest, redacted_at=now)
            changed.append(row.pk)
    if kept:
        log.warning("retention: %d read-log rows hashed before chain version 2 keep their text", kept)
    return {"jusou.readlog": sorted(changed)} if changed else {}


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}
