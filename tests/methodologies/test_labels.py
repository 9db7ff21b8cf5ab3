"""An edition's `labels_vi`: checked when it loads, read as the values, outside the content hash."""

from __future__ import annotations

import copy

import pytest

from engine.edition import EditionError, check_edition, content_hash, load_edition
from engine.values import parse_value
from events.types import Choice
from tests.methodologies.test_edition_errors import RULES, SOURCE, dump, small_edition

HEAD, PLAN = 3, 1  # the small edition's category and yes/no indicators


def with_labels(index: int, labels: dict) -> dict:
    doc = copy.deepcopy(small_edition())
    doc["indicators"][index]["labels_vi"] = labels
    return doc


def checked(doc: dict):
    m = load_edition(dump(doc), source=SOURCE)
    check_edition(m, RULES, SOURCE)
    return m


def test_labels_read_as_their_values_and_leave_the_content_hash_alone():
    plain = checked(small_edition())
    labelled = checked(with_labels(HEAD, {"chairman": "Chủ tịch", "deputy": "Phó Chủ tịch"}))
    assert content_hash(labelled) == content_hash(plain)
    head = next(i for i in labelled.indicators if i.code == "head")
    assert parse_value(head, "phó chủ tịch") == Choice("deputy")
    assert parse_value(head, "none") == Choice("none")
    plan = next(i for i in checked(with_labels(PLAN, {"yes": "Đã ban hành"})).indicators
                if i.code == "has_plan")
    assert parse_value(plan, "ĐÃ BAN HÀNH") is True and parse_value(plan, "không") is False


@pytest.mark.parametrize("index, labels, path, fragment", [
    (HEAD, {"president": "Chủ tịch"}, "indicators[3].labels_vi.president", "not a value of head"),
    (HEAD, {"chairman": "Trưởng", "deputy": "trưởng"}, "indicators[3].labels_vi.deputy", "reads as 'chairman' too"),
    (HEAD, {"chairman": "deputy"}, "indicators[3].labels_vi.chairman", "reads as 'deputy' too"),
    (HEAD, {"chairman": " "}, "indicators[3].labels_vi.chairman", "non-empty"),
    (PLAN, {"maybe": "Có thể"}, "indicators[1].labels_vi.maybe", "one of: yes, no"),
    (0, {"yes": "Có"}, "indicators[0].labels_vi", "only yes_no and category indicators"),
])
def test_bad_labels_are_refused_naming_the_path(index, labels, path, fragment):
    with pytest.raises(EditionError) as e:
        checked(with_labels(index, labels))
    hits = [line for line in str(e.value).splitlines() if line.startswith(f"{SOURCE}: {path}: ")]
    assert hits and any(fragment in line for line in hits), str(e.value)
