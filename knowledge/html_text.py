"""HTML → markdown-ish text (headings as ``#`` lines, list items as ``- ``), for .html files and EPUB chapters."""

from __future__ import annotations

import re

_BLOCK_TAGS = ["p", "div", "li", "br", "tr", "section", "article", "blockquote", "pre", "table", "ul", "ol", "dd", "dt"]


def html_to_text(html: str) -> tuple[str, str]:
    """(text, title) of an HTML page: scripts, styles and navigation dropped."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "template", "svg"]):
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if title_tag:
        title_tag.decompose()
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        heading.replace_with(NavigableString(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append(NavigableString("\n"))
    for item in soup.find_all("li"):
        item.insert(0, NavigableString("- "))
    text = soup.get_text()
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, title
