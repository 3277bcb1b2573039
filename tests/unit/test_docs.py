"""The README and the manual in docs/ name only things that exist.

Every page is read for what it names in backticks (and in fenced code blocks): `make` targets, `flask` commands
with their options, routes (`/admin/…`, `/api/v1/…`, `/workbench/…`, the portal's pages — placeholders such as
`<id>` or `{id}` stand for one path segment), files of the repository (`app/…`, `processes/…`, `forms/…`, …),
environment settings (UPPER_CASE names with an underscore) and dotted Python names (`app.x.y`). A page that
goes stale fails here with the page, the line and what is wrong — before a reader trips over it.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
import pytest
from flask.cli import routes_command, run_command, shell_command
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import MapAdapter, RequestRedirect

from app.config import ROOT, Settings

README_LIMIT_BYTES = 10 * 1024
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
REPO_DIRS = ("app", "processes", "forms", "dictionaries", "tests", "bench", "admin_ui", "migrations", "docs", ".ci")
GENERATED = ("/build/",)  # esbuild bundles: written by `make install`, not committed
FILESYSTEM = ("/usr/", "/etc/", "/var/", "/opt/", "/tmp/", "/srv/", "/dev/", "/home/")


@dataclass(frozen=True)
class Span:
    """A backticked span or a line of a fenced code block, with where it is."""
    page: str
    line: int
    text: str
    fenced: bool = False

    def where(self) -> str:
        return f"{self.page}:{self.line}: `{self.text.strip()}`"


def spans(page: Path) -> list[Span]:
    name = str(page.relative_to(ROOT))
    found: list[Span] = []
    fenced = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            found.append(Span(name, number, re.split(r"\s#\s", line)[0], fenced=True))  # a shell comment is prose
        else:
            found.extend(Span(name, number, m.group(1)) for m in re.finditer(r"`([^`]+)`", line))
    return found


def links(page: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        for m in re.finditer(r"\]\(([^)\s]+)\)", line):
            yield number, m.group(1)


# --- what exists -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The application as `make run` builds it (no database is opened: only its routes and commands are read)."""
    from app import create_app

    settings = Settings.from_env()
    home = tmp_path_factory.mktemp("docs")
    settings.database_url = f"sqlite:///{home / 'unused.sqlite3'}"
    settings.instance_path = home / "instance"
    settings.storage_dir = home / "files"
    return create_app(settings)


@pytest.fixture(scope="module")
def url_maps(platform) -> list[MapAdapter]:  # noqa: ANN001
    """The platform's routes, then the department simulator's (`/sms/outbox`, `/_control/…`, `/tsa`)."""
    from simulator import SimulatorConfig, create_simulator_app

    simulator = create_simulator_app(SimulatorConfig(api_key="x", tax_callback_secret="a",
                                                     payment_callback_secret="b"))
    return [platform.url_map.bind("localhost"), simulator.url_map.bind("localhost")]


@pytest.fixture(scope="module")
def flask_cli(platform) -> click.Group:  # noqa: ANN001
    """`flask --app wsgi …`: the application's command groups and Flask's own (`run`, `shell`, `routes`)."""
    return click.Group("flask", commands={**platform.cli.commands, "run": run_command, "shell": shell_command,
                                          "routes": routes_command})


@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(m.group(1) for m in re.finditer(r"^([a-z][\w-]*)\s*:", text, re.M))


@cache
def known_settings() -> frozenset[str]:
    """Names read from the environment: every one app/config.py reads, and the few read elsewhere (one
    interface's address, the simulator's and the tests' own, glibc's malloc)."""
    names = set(re.findall(r"\"([A-Z][A-Z0-9_]+)\"", (ROOT / "app/config.py").read_text(encoding="utf-8")))
    read = re.compile(r"(?:environ(?:\.get)?[\[(]|env_\w+\()\s*\"([A-Z][A-Z0-9_]+)\"")
    for folder in ("app", "simulator", "tests"):
        for source in (ROOT / folder).rglob("*.py"):
            names.update(read.findall(source.read_text(encoding="utf-8")))
    from app.integrations.interfaces import DEFAULTS

    names.update(f"INTERFACE_{d.code.upper()}_URL" for d in DEFAULTS)
    names.add("INTERFACE_<CODE>_URL")
    names.add("MALLOC_ARENA_MAX")  # read by glibc's malloc, not by Python: `make serve` sets it for gunicorn
    return frozenset(names)


# --- what the pages name -------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w.strip("[](),;") for w in text.split()]


def flask_commands(span: Span) -> Iterator[list[str]]:
    words = _words(span.text)
    for i, word in enumerate(words):
        if word == "flask" or word.endswith("/flask"):
            args = words[i + 1:]
            if args[:2] == ["--app", "wsgi"]:
                args = args[2:]
            yield [a for a in args if a and a != "\\"]


def check_flask(cli: click.Group, args: list[str]) -> str | None:
    if not args:
        return None
    command: click.Command = cli
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            return f"`flask {' '.join(path + [name])}` is not a command (known: {', '.join(sorted(command.commands))})"
        command, path = sub, path + [name]
    if isinstance(command, click.Group) and command is cli:
        return "`flask` without a command"
    options = {o for p in command.params for o in p.opts} | {"--help"}
    unknown = [a.split("=")[0] for a in rest if a.startswith("--") and a.split("=")[0] not in options]
    if unknown:
        return f"`flask {' '.join(path)}` has no option {', '.join(unknown)} (it has {', '.join(sorted(options))})"
    return None


def routes(span: Span) -> Iterator[tuple[str | None, str, int]]:
    """(method or None, path, which url map: 0 the platform, 1 the simulator, None either)."""
    words = span.text.split()
    for i, raw in enumerate(words):
        word = raw.strip("(),;:")
        word = re.sub(r"^<[A-Z_]+>", "", word)  # `<PUBLIC_BASE_URL>/verify/<code>`
        target = None
        host = re.match(r"^(?:https?://)?(?:localhost|127\.0\.0\.1)(?::(\d+))?(/.*)?$", word)
        if host:
            if not host.group(2):
                continue  # an address alone, no route
            word, target = host.group(2) or "/", 1 if host.group(1) == "5010" else 0
        if span.fenced and word == "/":
            continue  # a slash between words of a code block's comment column
        if not word.startswith("/") or word.startswith(FILESYSTEM) or word.startswith("//"):
            continue
        method = words[i - 1] if i and words[i - 1] in HTTP_METHODS else None
        yield method, word.split("?")[0].split("#")[0].rstrip("."), target


def _concrete(path: str) -> list[str]:
    """A documented path with its placeholders filled: `{a|b}` gives one path per choice, any other
    `<x>`, `{x}` or `…` one segment."""
    choice = re.search(r"[{<]([^{}<>]*\|[^{}<>]*)[}>]", path)
    if choice:
        return [c for option in choice.group(1).split("|")
                for c in _concrete(path[:choice.start()] + option + path[choice.end():])]
    return [re.sub(r"<[^<>/]*>|\{[^{}/]*\}|…", "1", path)]


def check_route(adapters: list[MapAdapter], method: str | None, path: str, target: int | None) -> str | None:
    candidates = adapters if target is None else [adapters[target]]
    for concrete in _concrete(path):
        answers = []
        for adapter in candidates:
            try:
                adapter.match(concrete, method=method or "GET")
                answers.append("ok")
            except RequestRedirect:
                answers.append("ok")
            except MethodNotAllowed as exc:
                answers.append("ok" if method is None else f"allows only {', '.join(sorted(exc.valid_methods or []))}")
            except NotFound:
                answers.append("no such route")
        if "ok" not in answers:
            return f"{method or ''} {concrete}: {answers[0]}".strip()
    return None


def file_paths(span: Span) -> Iterator[str]:
    pattern = rf"(?:^|(?<=[\s(`'\"]))((?:{'|'.join(re.escape(d) for d in REPO_DIRS)})/[^\s`'\",;)]*)"
    for m in re.finditer(pattern, span.text):
        yield m.group(1).split("::")[0].rstrip(".:")
    for m in re.finditer(r"(?:^|(?<=\s))(test_\w+\.py)\b", span.text):
        yield f"tests/**/{m.group(1)}"


def check_path(path: str) -> str | None:
    if any(g in path for g in GENERATED):
        return None
    pattern = re.sub(r"<[^<>]*>|\{[^{}]*\}|…", "*", path).rstrip("/")
    if any(ch in pattern for ch in "*?["):
        return None if any(ROOT.glob(pattern)) else f"no file matches {path}"
    return None if (ROOT / pattern).exists() else f"no such file {path}"


def setting_names(span: Span) -> Iterator[str]:
    for m in re.finditer(r"(?<![\w.<-])([A-Z][A-Z0-9]*(?:_(?:[A-Z0-9]+|<[A-Z]+>|\*))+)(?![\w.(-])", span.text):
        yield m.group(1)


def check_setting(name: str) -> str | None:
    known = known_settings()
    if name in known:
        return None
    if name.endswith("_*") and any(k.startswith(name[:-1]) for k in known):
        return None
    if name.endswith("_FILE") and (name[:-5] in known or name == "NAME_FILE"):
        return None  # every setting may be given as NAME_FILE
    return f"{name} is not a setting app/config.py (or another module) reads from the environment"


def dotted_names(span: Span) -> Iterator[str]:
    for m in re.finditer(r"(?<![\w/.])((?:app|simulator)(?:\.\w+)+)", span.text):
        yield m.group(1)


def check_dotted(name: str) -> str | None:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            obj = importlib.import_module(module)
            for attr in parts[cut:]:
                if not hasattr(obj, attr):
                    return f"{module} has no {'.'.join(parts[cut:])}"
                obj = getattr(obj, attr)
            return None
    return f"no module {name}"


def _report(problems: list[str]) -> str:
    return "stale names in the docs:\n  " + "\n  ".join(problems)


# --- the tests -----------------------------------------------------------------------------------------


def test_the_readme_is_a_front_door() -> None:
    readme = ROOT / "README.md"
    size = len(readme.read_bytes())
    assert size <= README_LIMIT_BYTES, f"README.md is {size} bytes; keep it ≤ {README_LIMIT_BYTES} (detail: docs/)"
    text = readme.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text, "README.md must give the two commands `make run`, `make test`"
    unlinked = [p.name for p in PAGES[1:] if f"docs/{p.name}" not in text]
    assert not unlinked, f"README.md does not link these docs pages: {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_make_targets_named_exist(page: Path) -> None:
    problems = [f"{s.where()}: no Makefile target {m.group(1)!r}"
                for s in spans(page) for m in re.finditer(r"(?:^|(?<=\s))make\s+([a-z][\w-]*)(?!\S*=)", s.text)
                if m.group(1) not in make_targets()]
    assert not problems, _report(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_flask_commands_named_exist(page: Path, flask_cli: click.Group) -> None:
    problems = [f"{s.where()}: {problem}" for s in spans(page) for args in flask_commands(s)
                if (problem := check_flask(flask_cli, args))]
    assert not problems, _report(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_routes_named_exist(page: Path, url_maps: list[MapAdapter]) -> None:
    problems = [f"{s.where()}: {problem}" for s in spans(page) for method, path, target in routes(s)
                if (problem := check_route(url_maps, method, path, target))]
    assert not problems, _report(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_files_named_exist(page: Path) -> None:
    problems = [f"{s.where()}: {problem}" for s in spans(page) for path in file_paths(s)
                if (problem := check_path(path))]
    for number, target in links(page):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        local = (page.parent / target.split("#")[0]).resolve()
        if not local.exists():
            problems.append(f"{page.relative_to(ROOT)}:{number}: link to {target}, which does not exist")
    assert not problems, _report(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_settings_named_are_read_from_the_environment(page: Path) -> None:
    problems = [f"{s.where()}: {problem}" for s in spans(page) for name in setting_names(s)
                if (problem := check_setting(name))]
    assert not problems, _report(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_python_names_named_exist(page: Path) -> None:
    problems = [f"{s.where()}: {problem}" for s in spans(page) for name in dotted_names(s)
                if (problem := check_dotted(name))]
    assert not problems, _report(problems)


def test_the_checks_catch_what_they_are_for(flask_cli: click.Group, url_maps: list[MapAdapter]) -> None:
    """The extraction itself: a stale name of each kind is caught, a good one passes."""
    span = Span("x.md", 1, "flask --app wsgi registry verify --log DIR")
    assert [check_flask(flask_cli, a) for a in flask_commands(span)] == [None]
    assert check_flask(flask_cli, ["registry", "verfy"]) is not None
    assert check_flask(flask_cli, ["logs", "purge", "--weeks"]) is not None
    assert check_route(url_maps, "POST", "/api/v1/tasks/{id}/claim", None) is None
    assert check_route(url_maps, "POST", "/api/v1/tasks/{id}/claimed", None) is not None
    assert check_route(url_maps, None, "/sms/outbox", 1) is None
    assert list(routes(Span("x.md", 1, "`http://127.0.0.1:5010/sms/outbox?html=1`".strip("`")))) == [
        (None, "/sms/outbox", 1)]
    assert check_path("app/registry/fees.py") is None and check_path("app/registry/feez.py") is not None
    assert check_path("processes/<code>/business.yaml") is None
    assert check_setting("LOG_RETENTION_DAYS") is None and check_setting("LOG_RETENTION_WEEKS") is not None
    assert check_setting("SECRET_KEY_FILE") is None
    assert check_dotted("app.registry.signing.validate_certificate_pdf") is None
    assert check_dotted("app.registry.signing.no_such_thing") is not None
