"""careshed.report.labels: every text exists in English and Chinese with the same placeholders."""
from __future__ import annotations

import string

import pytest

from careshed.errors import InputError
from careshed.report import labels


def placeholders(s: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(s) if name}


def test_every_key_has_both_languages_with_the_same_placeholders():
    keys = list(labels.TEXTS)
    assert len(keys) > 40
    for key in keys:
        en, zh = labels.TEXTS[key]
        assert en.strip() and zh.strip(), key
        assert placeholders(en) == placeholders(zh), key


def test_text_fills_values_and_checks_the_language():
    assert labels.text("en", "within_minutes", m=15) == "share within 15 min"
    assert labels.text("zh", "within_minutes", m=15.5) == "15.5 分钟内人口比例"
    assert labels.text("zh", "map") == "地图"
    with pytest.raises(InputError, match="language 'fr'"):
        labels.text("fr", "map")
    assert labels.has_text("resource_beds") and not labels.has_text("resource_unicorns")
