"""Every string a floor worker sees exists in English, French and Dutch."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB),
        METHOD_MAP,
        keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_message_in_the_code_is_translated(language):
    with (WEB / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    source = _source_messages()
    assert {"Sign in", "Scan your badge", "picker"} <= source  # extraction itself works
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(source - translated)
    assert missing == [], f"untranslated in {language}: {missing} (run pybabel extract/update)"


def test_a_french_speaking_user_gets_french_screens(client, login):
    from wms.model import Role

    login(Role.PACKER)  # the packer's profile says French
    page = client.get("/overview").get_data(as_text=True)
    assert "Vue d&#39;ensemble" in page or "Vue d'ensemble" in page
    assert "Commandes par statut" in page


def test_an_anonymous_dutch_browser_gets_dutch(client):
    page = client.get("/badge", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).get_data(
        as_text=True
    )
    assert "Scan uw badge" in page
