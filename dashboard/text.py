"""Text from outside (a link, an uploaded file, an error quoting either) shown as plain text."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&\"'=^%@/])")


def plain(text: object) -> str:
    """`text` escaped for Streamlit's Markdown: every ASCII punctuation mark is backslashed,
    so links, images, HTML, colour directives, emoji codes and formulas show as typed."""
    return _PUNCTUATION.sub(r"\\\1", str(text)).replace("\n", "  \n")
