"""A report as documents (drafting/documents.py): the PDF, read back with pdftotext and looked
at as an image, and the field-by-field sheet."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from incident.kernel.settings import REPOSITORY
from notifications.drafting.contexts import sample_context
from notifications.drafting.documents import SheetRow, pdf_of, report_sheet, sheet_text
from notifications.drafting.render import renderer

BERLIN = ZoneInfo("Europe/Berlin")
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="needs poppler-utils (pdftotext, pdftoppm)")


def report_html(locale: str) -> str:
    rendered = renderer(REPOSITORY / "templates").render(
        "authority_report", locale, sample_context("authority_report"), zone=BERLIN)
    return rendered.html


@needs_poppler
@pytest.mark.parametrize(("locale", "words"), [
    ("en", ["Supplement 2 to the personal data breach notification",
            "Number of data subjects", "12,480", "Annex: our risk assessment"]),
    ("de", ["Ergänzung Nr. 2", "Zahl der betroffenen", "12.480",
            "Anlage: unsere Risikobewertung"]),
])
def test_the_pdf_says_what_the_e_mail_says(tmp_path: Path, locale: str, words: list[str]) -> None:
    pdf = pdf_of(report_html(locale))
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    for expected in words:
        assert " ".join(expected.split()) in text, expected
    assert "BR-2026-0007" in text and "DKN.5131.88.2026" in text


@needs_poppler
def test_the_first_page_is_an_a4_page_with_ink_on_it(tmp_path: Path) -> None:
    """Looked at as an image: A4 proportions, and text on it rather than a blank page."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_of(report_html("en")))
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-gray", str(path),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    data = png.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "A4" in info or "595.28 x 841.89" in info


def test_a_report_loads_nothing_from_outside() -> None:
    """A reference to a server (here one on loopback that counts its visitors) is never asked."""
    asked: list[str] = []

    class Counting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        html = report_html("en").replace(
            "</body>", f'<img src="{url}/pixel.png"><link rel="stylesheet" href="{url}/x.css"></body>')
        assert pdf_of(html).startswith(b"%PDF-")
    finally:
        server.shutdown()
        server.server_close()
    assert asked == []


def sheet_in(locale: str) -> list[SheetRow]:
    formatting = renderer(REPOSITORY / "templates").formatting("authority_report", locale,
                                                zone=ZoneInfo("Europe/Warsaw"))
    return report_sheet(sample_context("authority_report"),
                        ["nature of the breach (Art. 33(3)(a))"], formatting)


def test_the_sheet_lists_each_field_of_article_33_3_and_the_content_list() -> None:
    rows = sheet_in("en")
    by_field = {row.field: row for row in rows}
    assert by_field["Number of data subjects"].value == "12,480 (counted from our records)"
    assert by_field["Number of data subjects"].basis == "GDPR Art. 33(3)(a)"
    assert by_field["Likely consequences"].basis == "GDPR Art. 33(3)(c)"
    assert by_field["Measures taken"].value.startswith("- Public access to the file share removed")
    assert by_field["Data subjects by country or region"].value == (
        "Poland: 9,120; Germany: 2,310; United States (US-CA): 1,050")
    assert by_field["Categories of personal data"].value == (
        "contact details; sign-in details; financial details")
    assert by_field["When the controller became aware"].value == (
        "November 24, 2026, 9:30\u202fAM CET")
    assert by_field["Initial report or supplement"].value == "supplement 2"
    assert rows[-1].field == "Content required: nature of the breach (Art. 33(3)(a))"
    text = sheet_text(rows)
    assert "Likely consequences (GDPR Art. 33(3)(c))\nPhishing aimed at" in text


def test_the_sheet_is_in_the_language_of_the_authority_s_form() -> None:
    by_field = {row.field: row.value for row in sheet_in("de")}
    assert by_field["Zahl der betroffenen Personen"] == "12.480 (aus unseren Aufzeichnungen ermittelt)"
    assert by_field["Betroffene Personen nach Land oder Region"].startswith("Polen: 9.120")
    assert by_field["Kategorien personenbezogener Daten"].startswith("Kontaktdaten")
    assert "24. November 2026" in by_field["Zeitpunkt der Kenntnis des Verantwortlichen"]
    english = {row.field for row in sheet_in("en")}
    for locale in renderer(REPOSITORY / "templates").locales("authority_report"):
        if locale != "en":
            assert not {row.field for row in sheet_in(locale)[:-1]} & english, locale


@needs_poppler
@pytest.mark.parametrize(("locale", "script"), [("ja", "CJK-JP"), ("ko", "CJK"), ("zh_Hans", "CJK"),
                                                ("el", "DejaVu"), ("bg", "DejaVu")])
def test_every_script_is_set_in_a_font_that_has_it(tmp_path: Path, locale: str,
                                                   script: str) -> None:
    """A report in Japanese is not a page of empty boxes: a font with the script is embedded."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_of(report_html(locale)))
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout
    assert script in fonts, fonts

