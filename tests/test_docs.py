"""Every command the docs show runs, and every option and variable they name exists.

The fenced blocks of README.md, docs/*.md and bench/README.md are read by their info
string. ``sh`` blocks run: each page's blocks in one bash, in order, in a scratch folder
that sees the project's folders, against a store built from ``ontology/`` and ``data/``;
``crinkkg serve`` starts on a free port and ``curl`` examples go to it, each answer's
status the one the command's line names in a comment (``# 404``), else 2xx. ``sparql``
blocks run, ``turtle`` and ``ini`` blocks parse. A tag after the language says why a block
cannot run here and how it is checked instead: ``setup`` (equal to ``.ci/run``'s command),
``remote`` (needs a remote store: its ``crinkkg`` commands are parsed; the remote-store
tests run them), ``slow`` (parsed), ``needs-jdk`` (run when a JDK is installed).
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import rdflib
from conftest import ROOT, require
from servers import start_server

from crinkkg.cli.main import cli
from crinkkg.settings import Settings

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
LANGUAGES = {"sh", "sparql", "turtle", "python", "ini", "text", "json"}
TAGS = {"setup", "remote", "slow", "needs-jdk"}
VENV_BIN = Path(sys.executable).parent
SERVE_COMMAND = ("python3 -m venv .venv && .venv/bin/pip install -e . "
                 "&& .venv/bin/crinkkg serve")
#: the options of other programs that the docs show (curl, pip, pytest, stores, tools)
FOREIGN_OPTIONS = {
    "--data", "--data-urlencode", "--data-binary", "--digest", "--location", "--bind",
    "--union-default-graph", "--timeout-s", "--separately", "--tdb2", "--loc", "--passwd",
    "--update",
}
PREFIXES = {
    "crink": "https://w3id.org/crinkkg/ontology#", "id": "https://w3id.org/crinkkg/id/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#", "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#", "dcterms": "http://purl.org/dc/terms/",
    "time": "http://www.w3.org/2006/time#", "vann": "http://purl.org/vocab/vann/",
    "oa": "http://www.w3.org/ns/oa#", "wd": "http://www.wikidata.org/entity/",
}


@dataclasses.dataclass
class Block:
    page: Path
    line: int
    language: str
    tags: set[str]
    text: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, with the line of their opening fence."""
    found, current, lines = [], None, []
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        fence = re.match(r"^```(.*)$", line)
        if fence and current is None:
            words = fence.group(1).split()
            current = Block(page, number, words[0] if words else "", set(words[1:]), "")
            lines = []
        elif line == "```" and current is not None:
            current.text = "\n".join(lines) + "\n"
            found.append(current)
            current = None
        elif current is not None:
            lines.append(line)
    assert current is None, f"{page}: a block opened at line {current.line} is not closed"
    return found


ALL = [b for page in PAGES for b in blocks(page)]


def commands(text: str) -> list[str]:
    """Logical shell lines: continuations joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.split("\n")
            if line.strip() and not line.lstrip().startswith("#")]


def test_every_block_says_what_it_is():
    for block in ALL:
        assert block.language in LANGUAGES or block.language == "", block
        assert block.tags <= TAGS, f"{block}: unknown tag {block.tags - TAGS}"
        if block.language == "sh" and not block.tags:
            assert "crinkkg --backend" not in block.text, f"{block}: tag it remote"


def test_the_set_up_commands_are_the_readme_s_and_ci_s():
    readme = [b.text.strip() for b in blocks(ROOT / "README.md") if "setup" in b.tags]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().split("\n")
          if line.startswith("python3 -m venv")]
    assert readme[0] == SERVE_COMMAND
    assert ci == [readme[1]], ".ci/run must run the README's test command verbatim"
    for block in ALL:
        if "setup" in block.tags:
            assert block.text.strip() in readme, f"{block}: not one of the README's commands"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^crinkkg = "', pyproject, re.M) and re.search(r"^test = \[", pyproject,
                                                                     re.M)


# -- the shell blocks, run ------------------------------------------------------------

PRELUDE = r"""
set -eo pipefail
DOCS_CRINKKG="$(command -v crinkkg)"
curl() {
  local args=() a
  for a in "$@"; do args+=("${a//http:\/\/127.0.0.1:8000/$DOCS_URL}"); done
  command curl -sS -w '%{stderr}DOCS-STATUS %{http_code}\n' "${args[@]}"
}
crinkkg() {
  case " $* " in
    *" serve "*) docs_serve "$@" ;;
    *) "$DOCS_CRINKKG" "$@" ;;
  esac
}
docs_serve() {
  local args=() skip=0 a log url=""
  for a in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in --port|--host) skip=1 ;; *) args+=("$a") ;; esac
  done
  log="$DOCS_TMP/serve-$RANDOM.log"
  setsid "$DOCS_CRINKKG" "${args[@]}" --host 127.0.0.1 --port 0 >"$log" 2>&1 &
  echo $! >>"$DOCS_TMP/pids"
  for _ in $(seq 600); do
    url="$(grep -o 'serving http://[^/ ]*' "$log" | head -1 | cut -d' ' -f2)" || true
    if [ -n "$url" ] && command curl -sf "$url/health" >/dev/null 2>&1; then
      DOCS_URL="$url"; return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2; return 1
}
"""


@pytest.fixture(scope="module")
def docs_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the curated project, built once; each page gets a copy."""
    folder = tmp_path_factory.mktemp("docs-store")
    done = subprocess.run([str(VENV_BIN / "crinkkg"), "--store", str(folder / "store"),
                           "--ontology", str(ROOT / "ontology"), "--data", str(ROOT / "data"),
                           "build", "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def read_only_server(docs_store: Path, tmp_path_factory: pytest.TempPathFactory):
    """One server over a copy of the store, for pages that query without starting one."""
    folder = tmp_path_factory.mktemp("docs-server")
    shutil.copytree(docs_store, folder, symlinks=True, dirs_exist_ok=True)
    with start_server(folder / "store", "--no-build") as server:
        yield server


RUNNABLE = sorted({b.page for b in ALL if b.language == "sh" and not b.tags})


def _project(page: Path, root: Path) -> Path:
    """The data folder a page's commands use: the project's, with the modelling guide's
    worked example added for the guide."""
    if page.name != "modelling.md":
        return ROOT / "data"
    data = root / "data"
    shutil.copytree(ROOT / "data", data)
    example = ROOT / "docs" / "example"
    shutil.copy(example / "example-brief.ttl", data)
    shutil.copy(example / "texts" / "example-brief.txt", data / "texts")
    return data


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_shell_blocks_run(page: Path, docs_store: Path, read_only_server,
                              tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("ontology", "src", "tests", "docs", "bench"):
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(VENV_BIN.parent)
    data = _project(page, tmp_path)
    (work / "data").symlink_to(data)
    shutil.copytree(docs_store, tmp_path / "copy", symlinks=True)
    runnable = [b for b in blocks(page) if b.language == "sh" and not b.tags]
    script = PRELUDE
    for block in runnable:
        text = re.sub(r"^(\s*crinkkg serve[^#\n]*?)\s*&(\s*#.*)?$", r"\1\2", block.text,
                      flags=re.M)
        script += f"\nDOCS_AT='{block}'\n{text}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRINKKG_")}
    env.update(PATH=f"{VENV_BIN}:{env['PATH']}", DOCS_TMP=str(tmp_path),
               DOCS_URL=read_only_server.url, CRINKKG_STORE=str(tmp_path / "copy" / "store"),
               CRINKKG_ONTOLOGY_DIR=str(ROOT / "ontology"), CRINKKG_DATA_DIR=str(data))
    try:
        done = subprocess.run(["bash", "-c", script + "\necho DOCS-DONE\n"], cwd=work,
                              env=env, capture_output=True, text=True, timeout=300)
    finally:
        _stop_servers(tmp_path / "pids")
    where = re.findall(r"^DOCS_AT='([^']+)'", script, re.M)
    assert done.returncode == 0 and "DOCS-DONE" in done.stdout, (
        f"a command of {page.name} failed (blocks at {', '.join(where)}):\n"
        f"{done.stderr[-3000:]}")
    statuses = re.findall(r"^DOCS-STATUS (\d+)$", done.stderr, re.M)
    curls = [line for b in runnable for line in commands(b.text) if line.startswith("curl ")]
    assert len(statuses) == len(curls), (statuses, curls)
    for line, status in zip(curls, statuses, strict=True):
        expected = set(re.findall(r"\b([1-5]\d\d)\b", line.split("#", 1)[-1])) \
            if "#" in line else set()
        assert status in expected if expected else status.startswith("2"), \
            f"{status} for: {line}"


def _stop_servers(pids: Path) -> None:
    """Stop every server a page started (its whole process group)."""
    if not pids.exists():
        return
    for pid in map(int, pids.read_text().split()):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)


# -- the blocks that cannot run here ----------------------------------------------------

def _parse_crinkkg(args: list[str]) -> None:
    """Parse a command line as the ``crinkkg`` command would, without running it."""
    ctx = cli.make_context("crinkkg", list(args), resilient_parsing=False)
    name, command, rest = cli.resolve_command(ctx, [*getattr(ctx, "_protected_args", []),
                                                    *ctx.args])
    command.make_context(name, rest, parent=ctx)


@pytest.mark.parametrize("block", [b for b in ALL if b.tags & {"remote", "slow", "needs-jdk"}],
                         ids=str)
def test_the_commands_that_cannot_run_here_parse(block: Block):
    variables: dict[str, str] = {}
    for line in commands(block.text):
        line = line.split(" #", 1)[0]
        assignment = re.match(r"^([A-Z]+)=(.*)$", line)
        if assignment:
            variables[assignment.group(1)] = shlex.split(assignment.group(2))[0]
            continue
        for word in re.findall(r"(?:tests|bench|ontology|src)/[\w/.-]+\.\w+", line):
            assert (ROOT / word).exists(), f"{block}: {word} does not exist"
        if not re.match(r"^(\.venv/bin/)?(crinkkg|python)\b", line):
            continue  # another program (a store, curl): run by the remote-store tests
        words = shlex.split(re.sub(r"\$([A-Z]+)", lambda m: variables.get(m.group(1), ""),
                                   line))
        if words[0] in ("crinkkg", ".venv/bin/crinkkg"):
            _parse_crinkkg(words[1:])
        elif "-m" in words and words[words.index("-m") + 1].startswith("bench"):
            module = words[words.index("-m") + 1].replace(".", "/")
            assert (ROOT / f"{module}.py").exists() or (ROOT / module).is_dir(), line


def test_the_owl_tools_check_of_the_docs_runs():
    require(shutil.which("javac") is not None, "no JDK (javac): the OWL API check cannot run")
    [block] = [b for b in ALL if "needs-jdk" in b.tags]
    [line] = commands(block.text)
    done = subprocess.run(["bash", "-c", line.replace(".venv/bin/python", sys.executable)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


# -- SPARQL, Turtle, ini ----------------------------------------------------------------

@pytest.mark.parametrize("block", [b for b in ALL if b.language == "sparql"], ids=str)
def test_the_sparql_blocks_run(block: Block, docs_store: Path, tmp_path: Path):
    query = tmp_path / "query.rq"
    query.write_text(block.text)
    done = subprocess.run([str(VENV_BIN / "crinkkg"), "--store", str(docs_store / "store"),
                           "query", "--no-build", "-f", str(query), "--format", "csv"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, f"{block}: {done.stderr}"


@pytest.mark.parametrize("block", [b for b in ALL if b.language == "turtle"], ids=str)
def test_the_turtle_blocks_parse(block: Block):
    header = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items())
    # the modelling guide elides the selectors ``crinkkg anchor`` prints: "[ ... ]"
    text = re.sub(r"\[ \.\.\.[^\]]*\]", "[]", block.text)
    rdflib.Graph().parse(data=header + text, format="turtle")


@pytest.mark.parametrize("block", [b for b in ALL if b.language == "ini"], ids=str)
def test_the_ini_blocks_parse(block: Block):
    configparser.ConfigParser(strict=True).read_string(block.text)


@pytest.mark.parametrize("block", [b for b in ALL if b.language == "python"], ids=str)
def test_the_python_blocks_compile(block: Block):
    compile(block.text, str(block), "exec")


# -- options, variables, routes ---------------------------------------------------------

def _crinkkg_options() -> set[str]:
    options: set[str] = set()

    def walk(command: click.Command) -> None:
        for param in command.params:
            options.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)
    walk(cli)
    return options


def _bench_options() -> set[str]:
    return {m for path in (ROOT / "bench").glob("*.py")
            for m in re.findall(r"""["'](--[a-z][a-z0-9-]*)["']""", path.read_text())}


def _code(page: Path) -> str:
    """Everything a page sets as code: inline spans and fenced blocks."""
    text = page.read_text(encoding="utf-8")
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    return "\n".join(fenced + inline)


def test_every_option_the_docs_name_exists():
    known = _crinkkg_options() | _bench_options() | FOREIGN_OPTIONS | {"--help", "--version"}
    pytest_options = {"--quiet"}
    unknown = {}
    for page in PAGES:
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])", _code(page)):
            if option.startswith("--no-") and "--" + option[5:] in known:
                continue  # the negative of a boolean option
            if option not in known | pytest_options:
                unknown.setdefault(option, page.name)
    assert not unknown, f"options the docs name that no command has: {unknown}"


def test_every_variable_the_docs_name_exists():
    source = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    fields = {"CRINKKG_" + f.name.upper() for f in dataclasses.fields(Settings)}
    for page in PAGES:
        for name in set(re.findall(r"\bCRINKKG_[A-Z_]*[A-Z]\b", page.read_text())):
            assert name in fields or name in source, f"{page.name}: {name} is not read"


def test_the_crinkkg_commands_in_the_text_parse():
    """Inline ``crinkkg ...`` spans are command lines a reader copies: they must parse."""
    for page in PAGES:
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
        for span in re.findall(r"`((?:\.venv/bin/)?crinkkg [^`\n]+)`", text):
            words = shlex.split(span)[1:]
            if "--help" in words or any(w in ("...", "…") or w.isupper() and len(w) > 1
                                        for w in words):
                continue  # a pattern with placeholders (URL, S P O), not a command line
            try:
                _parse_crinkkg(words)
            except click.MissingParameter:
                continue  # a span that names a command (`crinkkg explain`), not a line
            except click.ClickException as exc:
                pytest.fail(f"{page.name}: `{span}`: {exc.format_message()}")
