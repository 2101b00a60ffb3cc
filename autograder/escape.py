"""Escaping for every format a student-controlled string lands in: Markdown, HTML, CSV, XML.

Student code chooses exception texts, printed values and (through file names) submission names.
Each writer passes such strings through the function for its format here, so a message cannot
become a link, a remote image, markup, a spreadsheet formula or invalid XML.
(scripts/ci-summary.py runs without the kit installed and keeps its own copy of `md_html`.)
"""

from __future__ import annotations

import html
import re

# Markdown's and HTML's markup characters, backslash-escaped: each shows as written
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!])")
_MD_LINE_START = re.compile(r"^(\d*)([#+=>.)-])")  # a heading, list, quote or rule at a line start
XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def md(s) -> str:
    """Text Markdown shows as written, on one line: no links, images, HTML, emphasis, code spans
    or table breaks (every markup character is backslash-escaped)."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(s).split()))
    return _MD_LINE_START.sub(r"\1\\\2", text)


def md_code(s, table: bool = False) -> str:
    """An inline code span holding s literally, on one line: the fence is longer than any run of
    backticks inside, so the text cannot close it. In a table cell, `|` is escaped as GFM asks."""
    text = " ".join(str(s).split())
    n = max([1, *(len(m) + 1 for m in re.findall(r"`+", text))])
    if text.startswith("`") or text.endswith("`") or not text:
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{'`' * n}{text}{'`' * n}"


def md_html(s) -> str:
    """Text for a place that may be read as Markdown or as HTML (inside `<code>` or `<b>` in
    Markdown): HTML-escaped, and Markdown's markup characters as character references, which
    both formats show as the plain character; on one line."""
    text = html.escape(" ".join(str(s).split()), quote=True)
    return re.sub(r"[\\`*_\[\](){}|~!#+=:-]", lambda m: f"&#{ord(m.group())};", text)


def html_text(s) -> str:
    "Text for HTML element content or a quoted attribute."
    return html.escape(str(s), quote=True)


def csv_cell(v):
    "A CSV cell a spreadsheet will not run as a formula (a leading ' makes it text)."
    return f"'{v}" if isinstance(v, str) and v[:1] in CSV_FORMULA else v


def xml_text(s) -> str:
    "Text XML 1.0 can hold: control characters and lone surrogates become U+FFFD."
    return XML_BAD.sub("\ufffd", str(s))
