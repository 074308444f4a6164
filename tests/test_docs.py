"""The documentation is self-contained: nothing outside ``docs/`` points at notes a user does not
get, and every ``docs/<file>.md §N`` citation, ``docs/paper.md U<n>`` id and ``docs/*.md`` link
resolves.

Files are the repository's own (``git ls-files``: tracked plus untracked, not ignored). This file
is left out of the scans because it holds deliberately broken examples for the parsers.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: the source tags that docs/paper.md §1.1 must define (the ones code and data once used)
REQUIRED_TAGS = {"TF", "PT", "HF", "WIZ", "README", "HIST", "PwC", "FF", "DERIVED"}

#: a bare file name of the outside reference notes (``docs/attention.md`` is ours: the name must
#: not be part of a path)
_NOTE_NAME = re.compile(r"(?<![\w/.-])(?:ladagan|attention|environment|style)\.md\b")
_NOTE_DIR = re.compile(r"shared/reference")
#: ``docs/<file>.md`` (optionally in backticks) followed by one or more section numbers
_SECTION_CITE = re.compile(
    r"docs/(?P<file>[\w-]+\.md)`?(?P<refs>(?:(?:\s*(?:,|/|-|–|and|or)\s*|\s+)§\s*\d+(?:\.\d+)*)+)"
)
_SECTION_NUM = re.compile(r"§\s*(\d+(?:\.\d+)*)")
_UNCONFIRMED_CITE = re.compile(r"docs/paper\.md`?(?P<ids>(?:(?:\s*(?:,|/|and)\s*|\s+)U\d+\b)+)")
_DOC_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")
_MD_LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.md)(?:#[^)]*)?\)")
_HEADING = re.compile(r"^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s", re.M)
#: notes about how the software was built, which a user's documentation does not carry: the
#: issue or session it came from, who had which machine, work in progress
_INTERNAL = re.compile(
    r"\b(?:the|this|an?|our) issue(?:'s)?\b|\bissue \d+|\bsessions? so far\b"
    r"|\b(?:no|a) GPU was available\b|\bwho had\b|\bengineers?\b|\bTODO\b|\bWIP\b", re.I)


# ----------------------------------------------------------------------------- parsers

def outside_note_refs(text: str, tags: set[str]) -> list[str]:
    """Every reference in ``text`` to the outside notes: their file names (not as part of a
    ``docs/`` path), their folder, or a source tag written in brackets (``[HF]``)."""
    tag = re.compile(r"\[(?:" + "|".join(map(re.escape, sorted(tags))) + r")\]")
    return [m.group(0) for rx in (_NOTE_NAME, _NOTE_DIR, tag) for m in rx.finditer(text)]


def internal_notes(text: str) -> list[str]:
    """Every phrase of ``text`` that speaks about how ladabench was built rather than what it
    does (``_INTERNAL``)."""
    return [m.group(0) for m in _INTERNAL.finditer(text)]


def section_citations(text: str) -> list[tuple[str, str]]:
    """``(file, section)`` for every ``docs/<file>.md §N[.M]`` citation; a list such as
    ``docs/paper.md §8.1, §8.4`` yields one pair per section."""
    return [(m["file"], n) for m in _SECTION_CITE.finditer(text)
            for n in _SECTION_NUM.findall(m["refs"])]


def local_sections(text: str) -> list[str]:
    """Bare ``§N`` references of a document to itself: every ``§`` outside a cross-document
    citation."""
    return _SECTION_NUM.findall(_SECTION_CITE.sub("", text))


def unconfirmed_citations(text: str) -> list[str]:
    """The ids of every ``docs/paper.md U<n>`` citation (``U1, U2`` lists included)."""
    return [i for m in _UNCONFIRMED_CITE.finditer(text) for i in re.findall(r"U\d+", m["ids"])]


def headings(markdown: str) -> set[str]:
    """The numbers of the numbered headings (``## 7. Training`` → ``7``, ``### 7.1 ...`` →
    ``7.1``)."""
    return set(_HEADING.findall(markdown))


def defined_tags(paper: str) -> set[str]:
    """The source tags of the table in docs/paper.md §1.1 (rows ``| [TAG] | ...``)."""
    section = paper.split("### 1.1", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\|\s*\[(\w+)\]\s*\|", section, re.M))


def defined_unconfirmed(paper: str) -> set[str]:
    """The ids of the UNCONFIRMED table (rows ``| U5 | ...``)."""
    return set(re.findall(r"^\|\s*(U\d+)\s*\|", paper, re.M))


def broken_section_citations(text: str, docs: dict[str, str]) -> list[str]:
    """Citations in ``text`` whose file is not in ``docs`` or whose heading does not exist."""
    out = []
    for name, sec in section_citations(text):
        if name not in docs:
            out.append(f"docs/{name} §{sec}: no such file")
        elif sec not in headings(docs[name]):
            out.append(f"docs/{name} §{sec}: no such numbered heading")
    return out


def broken_doc_paths(text: str, source: Path) -> list[str]:
    """``docs/*.md`` paths (from the repository root) and relative markdown links to ``.md``
    files (from ``source``'s folder) that do not exist."""
    missing = [p for p in _DOC_PATH.findall(text) if not (ROOT / p).is_file()]
    for m in _MD_LINK.finditer(text):
        target = m["target"]
        if "://" not in target and not (source.parent / target).is_file():
            missing.append(target)
    return missing


# ----------------------------------------------------------------------------- the repository

def repo_files() -> dict[str, str]:
    """Text of every file of the checkout (tracked, or untracked and not ignored)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the file list comes from git ls-files")
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    files = {}
    for name in filter(None, names):
        path = ROOT / name
        if name != THIS and path.is_file():
            files[name] = path.read_text(encoding="utf-8", errors="replace")
    return files


def doc_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return repo_files()


@pytest.fixture(scope="module")
def docs() -> dict[str, str]:
    return doc_texts()


# ----------------------------------------------------------------------------- the parsers can fail

def test_outside_note_refs_catches_each_kind():
    tags = {"HF", "TF"}
    text = ("see ladagan.md §4, `attention.md` §2 and style.md item 9; /work/shared/reference/x;"
            " ckpt ([HF] 68M), [TF] code")
    assert outside_note_refs(text, tags) == [
        "ladagan.md", "attention.md", "style.md", "shared/reference", "[HF]", "[TF]"]
    assert outside_note_refs("docs/attention.md §3, HF checkpoint, x[0] [TFX]", tags) == []


def test_internal_notes_are_found():
    text = ("The issue's aim of 15 img/s; no GPU was available to the sessions so far; see issue 14;"
            " TODO: measure")
    assert internal_notes(text) == ["The issue's", "no GPU was available", "sessions so far",
                                    "issue 14", "TODO"]
    assert internal_notes("a known PyTorch bug (github.com/x/y/issues/110); a training session") == []


def test_section_citations_parse_lists_and_backticks():
    text = ("(docs/paper.md §8.1, §8.4 and §12) and `docs/attention.md` §9.3; "
            "docs/paper.md §8.2-§8.4. docs/architecture.md contract 2")
    assert section_citations(text) == [
        ("paper.md", "8.1"), ("paper.md", "8.4"), ("paper.md", "12"),
        ("attention.md", "9.3"), ("paper.md", "8.2"), ("paper.md", "8.4")]


def test_broken_section_citations_are_reported():
    docs = {"paper.md": "# T\n## 1. Sources\n### 1.1 Tags\n## 2. Lada\n"}
    text = "docs/paper.md §1.1, §2 ok; docs/paper.md §3 missing; docs/nope.md §1 missing"
    assert broken_section_citations(text, docs) == [
        "docs/paper.md §3: no such numbered heading", "docs/nope.md §1: no such file"]


def test_local_sections_skip_cross_document_citations():
    assert local_sections("see §2 and §3.1, not docs/attention.md §9 or `docs/paper.md` §7") == [
        "2", "3.1"]


def test_unconfirmed_citations_and_definitions():
    assert unconfirmed_citations("(docs/paper.md U1, U2) and `docs/paper.md` U10; U7 alone") == [
        "U1", "U2", "U10"]
    assert defined_unconfirmed("| id | q |\n|---|---|\n| U1 | a |\n| U10 | b |\n") == {"U1", "U10"}


def test_broken_doc_paths_are_reported(tmp_path):
    source = tmp_path / "a.md"
    text = "see docs/paper.md and docs/missing.md, [x](other.md), [y](https://e.org/z.md)"
    assert broken_doc_paths(text, source) == ["docs/missing.md", "other.md"]


# ----------------------------------------------------------------------------- the repository

def test_paper_defines_the_source_tags(docs):
    assert REQUIRED_TAGS <= defined_tags(docs["paper.md"])


def test_nothing_outside_docs_refers_to_the_outside_notes(files, docs):
    tags = defined_tags(docs["paper.md"])
    found = [f"{name}: {ref}" for name, text in files.items() if not name.startswith("docs/")
             for ref in outside_note_refs(text, tags)]
    assert found == [], "cite docs/paper.md or docs/attention.md instead:\n" + "\n".join(found)


def test_every_section_citation_resolves(files, docs):
    broken = [f"{name}: {b}" for name, text in files.items()
              for b in broken_section_citations(text, docs)]
    assert broken == [], "\n".join(broken)


def test_docs_reference_their_own_sections(docs):
    broken = [f"docs/{name}: §{sec}" for name, text in docs.items()
              for sec in local_sections(text) if sec not in headings(text)]
    assert broken == [], "\n".join(broken)


def test_every_unconfirmed_id_is_defined(files, docs):
    defined = defined_unconfirmed(docs["paper.md"])
    assert defined, "docs/paper.md has no UNCONFIRMED table"
    unknown = [f"{name}: {i}" for name, text in files.items()
               for i in unconfirmed_citations(text) if i not in defined]
    assert unknown == [], "\n".join(unknown)


def test_readme_and_docs_links_exist(files):
    sources = ["README.md"] + [n for n in files if n.startswith("docs/") and n.endswith(".md")]
    missing = [f"{name}: {p}" for name in sources if name in files
               for p in broken_doc_paths(files[name], ROOT / name)]
    assert "README.md" in files
    assert missing == [], "\n".join(missing)


def test_readme_and_docs_carry_no_notes_on_how_they_were_built(files):
    sources = ["README.md"] + [n for n in files if n.startswith("docs/")]
    found = [f"{name}: {note}" for name in sources for note in internal_notes(files[name])]
    assert found == [], "\n".join(found)
