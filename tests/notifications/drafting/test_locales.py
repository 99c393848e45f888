"""Locales: the fallback chain, and the words each locale's terms file must give."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from notifications.drafting.locales import TERM_KEYS, TermsError, load_terms, locale_chain

TERMS = Path(__file__).resolve().parents[3] / "templates" / "email" / "terms"


def test_the_locale_chain() -> None:
    assert locale_chain("de-AT") == ["de_AT", "de", "en"]
    assert locale_chain("zh_Hant_TW") == ["zh_Hant_TW", "zh_Hant", "zh", "en"]
    assert locale_chain("en") == ["en"]


def test_norwegian_is_bokmal_and_chinese_without_a_script_is_simplified() -> None:
    assert locale_chain("no") == ["nb", "en"]
    assert locale_chain("no-NO") == ["nb_NO", "nb", "en"]
    assert locale_chain("zh") == ["zh_Hans", "zh", "en"]
    assert locale_chain("zh-TW")[:2] == ["zh_Hant_TW", "zh_Hant"]


def test_the_chain_falls_back_to_the_organisation_s_language_before_english() -> None:
    assert locale_chain("es-MX", "pl") == ["es_MX", "es", "pl", "en"]
    assert locale_chain("de-AT", "de") == ["de_AT", "de", "en"]
    assert locale_chain("fr-BE", "de-CH") == ["fr_BE", "fr", "de_CH", "de", "en"]


def test_every_shipped_terms_file_covers_the_whole_vocabulary() -> None:
    for path in sorted(TERMS.glob("*.yaml")):
        terms = load_terms(path)
        for group, keys in TERM_KEYS.items():
            assert set(getattr(terms, group)) == keys, (path.name, group)


def test_a_terms_file_with_gaps_names_the_file_and_every_gap(tmp_path: Path) -> None:
    path = tmp_path / "de.yaml"
    shutil.copy(TERMS / "de.yaml", path)
    text = path.read_text(encoding="utf-8").replace("  health: Gesundheitsdaten\n", "")
    path.write_text(text + "mood: {}\n", encoding="utf-8")

    with pytest.raises(TermsError) as caught:
        load_terms(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "unknown group 'mood'" in str(caught.value)
    assert "categories: health is missing" in str(caught.value)
