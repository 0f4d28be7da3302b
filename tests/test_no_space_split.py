"""No module counts or matches words with ``str.split()`` or regex ``\\b`` around CJK: both break on Chinese.

Scans the package sources with ``ast`` (not grep, so docstrings and comments do not count):
- ``x.split()`` / ``x.split(None, n)`` / ``x.split(maxsplit=n)``: a whitespace split counts a Chinese
  paragraph as one word. Allowed: ``"a b c".split()`` on a string literal (a word list), and
  ``" ".join(x.split())`` (collapses whitespace; counts nothing). Anything else needs an ALLOWED entry.
- ``len(re.split(r"\\s+", x))`` / ``len(re.findall(r"\\S+|\\w+", x))``: the same word counter in regex form.
- a regex string with ``\\b`` that holds CJK characters, or that is joined with a non-literal (``r"\\b" + word``,
  ``f"\\b{word}"``): ``\\b`` never fires between two Han characters. A pure-latin literal (``r"\\bWhat\\b"``) is fine.
Use ``vertical.core.text`` instead (words, content_words, count_tokens, sentences, normalize).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("vertical", "knowledge", "finetune", "serving", "ui")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
WORD_COUNTER_PATTERNS = {r"\s+", r"\S+", r"\w+", " "}

# (path, text the offending line contains): why this use is legitimate.
ALLOWED: dict[tuple[str, str], str] = {
    ("knowledge/embedding.py", 'line.startswith("flags")'): "parses /proc/cpuinfo flags, not prose",
}


def _is_whitespace_split(node: ast.Call) -> bool:
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("split", "rsplit")):
        return False
    if isinstance(func.value, ast.Constant):  # "a b c".split(): a literal word list
        return False
    if not node.args:
        return all(k.arg == "maxsplit" for k in node.keywords)
    return isinstance(node.args[0], ast.Constant) and node.args[0].value is None


def _is_space_join(node: ast.AST | None) -> bool:
    """``" ".join(...)``: the whitespace-collapse idiom."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and node.func.value.value == " "
    )


def _is_regex_word_counter(node: ast.Call) -> bool:
    """``len(re.split(r"\\s+", x))``, ``len(re.findall(r"\\S+", x))``, ``len(x.split(" "))``."""
    if not (isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1):
        return False
    inner = node.args[0]
    if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.args):
        return False
    first = inner.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return False
    if inner.func.attr == "split" and first.value == " ":
        return True
    module = inner.func.value
    return (
        isinstance(module, ast.Name)
        and module.id == "re"
        and inner.func.attr in ("split", "findall")
        and first.value in WORD_COUNTER_PATTERNS
    )


def _has_word_boundary(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and "\\b" in node.value


_REGEX_SYNTAX = "()[]?:^$*+{}"  # skipped when looking for a \\b's neighbour; "|" ends the search (alternation)


def _boundary_touches_cjk(pattern: str) -> bool:
    """Some ``\\b`` whose nearest literal character (regex syntax skipped) on either side is CJK."""
    for match in re.finditer(r"\\b", pattern):
        before = pattern[: match.start()].rstrip(_REGEX_SYNTAX)
        after = pattern[match.end() :].lstrip(_REGEX_SYNTAX)
        if CJK.match(before[-1:] or " ") or CJK.match(after[:1] or " "):
            return True
    return False


def _cjk_word_boundary(node: ast.AST) -> bool:
    """A ``\\b`` literal next to a CJK character, or glued to a non-literal by ``+`` or an f-string."""
    if _has_word_boundary(node) and _boundary_touches_cjk(node.value):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        sides = (node.left, node.right)
        return any(_has_word_boundary(s) for s in sides) and not all(isinstance(s, ast.Constant) for s in sides)
    if isinstance(node, ast.JoinedStr):
        return any(_has_word_boundary(v) for v in node.values) and any(
            isinstance(v, ast.FormattedValue) for v in node.values
        )
    return False


def offenders_in(path: Path, rel: str | None = None) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    rel = rel or path.relative_to(REPO).as_posix()
    found: list[str] = []

    def report(node: ast.AST, why: str) -> None:
        line = lines[node.lineno - 1].strip()
        if any(rel == p and snippet in line for p, snippet in ALLOWED):
            return
        entry = f"{rel}:{node.lineno}: {why}: {line[:140]}"
        if entry not in found:
            found.append(entry)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _is_whitespace_split(node) and not _is_space_join(parents.get(node)):
                report(node, "str.split() on text (use vertical.core.text.words / count_tokens)")
            elif _is_regex_word_counter(node):
                report(node, "whitespace word count (use vertical.core.text.words / count_tokens)")
        if _cjk_word_boundary(node) and not isinstance(parents.get(node), ast.Expr):
            report(node, r"regex \b next to CJK or a runtime word (\b never fires between Han characters)")
    return sorted(found, key=lambda entry: int(entry.split(":")[1]))


def test_no_space_split_word_counting() -> None:
    offenders = [o for pkg in PACKAGES for f in sorted((REPO / pkg).rglob("*.py")) for o in offenders_in(f)]
    assert not offenders, "word counting/matching that breaks on Chinese:\n" + "\n".join(offenders)


def test_the_scanner_catches_each_pattern(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import re\n"
        "n = len(text.split())\n"
        "m = len(re.split(r'\\s+', text))\n"
        "p = re.compile(r'\\b' + re.escape(word) + r'\\b')\n"
        "q = re.compile(rf'\\b{word}\\b')\n"
        "z = re.compile(r'\\b失眠\\b')\n"
        "ok1 = ' '.join(text.split())\n"
        "ok2 = 'a b c'.split()\n"
        "ok3 = re.compile(r'\\bWhat\\b')\n"
        "ok4 = line.split(',')\n"
        "ok5 = re.compile(r'[。！，]|\\b(?:but|aber)\\b')\n"
        "ok6 = re.compile(r'\\b(?:but)\\b|但是')\n"
        "bad = re.compile(r'(?:失眠|焦虑)\\b')\n",
        encoding="utf-8",
    )
    found = offenders_in(sample, "sample.py")
    assert [int(f.split(":")[1]) for f in found] == [2, 3, 4, 5, 6, 13]
