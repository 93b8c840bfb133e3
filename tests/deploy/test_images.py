"""The images install what the tests ran, and nothing else: no container engine runs here,
so this reads the Dockerfile (one for every service, which it names as a build argument)
and the locks instead of building them.

Each image installs its service's production lock (``services/<name>/requirements.lock``,
written by ``make lock``) with hashes and no dependency resolution, then its own packages
without dependencies. The lock must pin what ``requirements.lock`` (the venv the tests run
in) pins, and hold exactly the closure of the service's runtime requirements as the
installed distributions declare them: every runtime dependency, and no development tool.
"""

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
IMAGES = sorted(path.parent.name for path in (REPO_ROOT / "services").glob("*/requirements.lock"))
DEV_LOCK = REPO_ROOT / "requirements.lock"
BUILD_LOCK = REPO_ROOT / "requirements-build.lock"
PYPROJECTS = [REPO_ROOT / "shared/pyproject.toml", *REPO_ROOT.glob("services/*/pyproject.toml")]
PINNED_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$")
LOCK_INSTALL_FLAGS = {"--require-hashes", "--no-deps", "--only-binary=:all:"}


# --- the locks ---------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str]
    marker: Marker | None


def read_lock(path: Path) -> dict[str, Pin]:
    """A requirements file with hashes, as ``uv export`` and ``uv pip compile`` write it."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, Pin] = {}
    for line in joined.splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        words = entry.split()
        hashes = frozenset(w.removeprefix("--hash=") for w in words if w.startswith("--hash="))
        requirement = Requirement(" ".join(w for w in words if not w.startswith("--hash=")))
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {entry} is not pinned"
        pins[canonicalize_name(requirement.name)] = Pin(
            specifier.version, hashes, requirement.marker
        )
    return pins


def applies_here(pin: Pin) -> bool:
    return pin.marker is None or pin.marker.evaluate()


def runtime_closure(root: str) -> set[str]:
    """Every distribution ``root`` needs at run time on this platform (markers and extras
    evaluated), read from the installed distributions' metadata."""
    needed: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while pending:
        item = pending.pop()
        if item in visited:
            continue
        visited.add(item)
        name, extras = item
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            dependency = canonicalize_name(requirement.name)
            needed.add(dependency)
            pending.append((dependency, frozenset(requirement.extras)))
    return needed


def dev_tools() -> set[str]:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return {canonicalize_name(Requirement(r).name) for r in pyproject["dependency-groups"]["dev"]}


def workspace_packages() -> set[str]:
    return {
        canonicalize_name(tomllib.loads(path.read_text())["project"]["name"]) for path in PYPROJECTS
    }


# --- the Dockerfiles ---------------------------------------------------------


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [rest for kind, rest in self.instructions if kind == keyword]


def read_dockerfile(service: str) -> list[Stage]:
    """The stages of the image of ``service``, its build arguments put in."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    args: dict[str, str] = {"SERVICE": service}
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args.setdefault(name, default)
            continue
        rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), rest)
        if keyword == "FROM":
            image, _, alias = rest.partition(" AS ")
            stages.append(Stage(image.strip(), alias.strip() or None))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


def commands(stage: Stage) -> list[list[str]]:
    """Each shell command of the stage's RUN instructions, split into words."""
    found = []
    for run in stage.arguments("RUN"):
        found += [shlex.split(part) for part in re.split(r"&&|;", run) if part.strip()]
    return found


def pip_commands(stage: Stage) -> list[list[str]]:
    return [
        words
        for words in commands(stage)
        if words and words[0].endswith("pip") and words[1] in ("install", "wheel")
    ]


def copies(stage: Stage) -> dict[str, str]:
    """Where each ``COPY`` of the build context put what: destination -> source."""
    placed = {}
    for rest in stage.arguments("COPY"):
        if rest.startswith("--from"):
            continue
        source, destination = rest.split()
        placed[destination] = source
    return placed


@pytest.fixture(scope="module")
def dev_lock() -> dict[str, Pin]:
    return read_lock(DEV_LOCK)


class TestImageBuild:
    @pytest.mark.parametrize("name", IMAGES)
    def test_builds_in_two_stages_from_a_base_pinned_by_version_and_digest(self, name: str) -> None:
        stages = read_dockerfile(name)
        build, final = stages[0], stages[-1]
        assert len(stages) == 2
        assert all(PINNED_BASE.match(stage.image) for stage in stages), [s.image for s in stages]
        assert final.arguments("COPY") == [f"--from={build.name} /opt/ucap /opt/ucap"]
        assert pip_commands(final) == []

    @pytest.mark.parametrize("name", IMAGES)
    def test_runs_as_a_user_other_than_root(self, name: str) -> None:
        final = read_dockerfile(name)[-1]
        (user,) = final.arguments("USER")
        assert not {"root", "0"} & set(user.split(":")), user
        assert any(words[0] == "useradd" and "10001" in words for words in commands(final))

    @pytest.mark.parametrize("name", IMAGES)
    def test_starts_the_service_it_holds_and_answers_its_health_on_its_port(
        self, name: str
    ) -> None:
        build, final = read_dockerfile(name)
        pyproject = tomllib.loads((REPO_ROOT / "services" / name / "pyproject.toml").read_text())
        links = [words for words in commands(build) if words[:2] == ["ln", "-s"]]
        assert links == [["ln", "-s", f"/opt/ucap/bin/ucap-{name}", "/opt/ucap/bin/ucap-service"]]
        assert f"ucap-{name}" in pyproject["project"]["scripts"]
        assert final.arguments("CMD") == ['["ucap-service"]']
        assert f"UCAP_{name.upper()}_HOST=0.0.0.0" in " ".join(final.arguments("ENV"))

    @pytest.mark.parametrize("name", IMAGES)
    def test_third_party_packages_come_only_from_locks_checked_against_their_hashes(
        self, name: str
    ) -> None:
        build = read_dockerfile(name)[0]
        placed = copies(build)
        from_locks: dict[str, str] = {}
        for words in pip_commands(build):
            if "-r" not in words:
                continue
            assert set(words) >= LOCK_INSTALL_FLAGS, words
            lock = placed[words[words.index("-r") + 1]]
            from_locks[lock] = words[0]
        assert from_locks == {
            f"services/{name}/requirements.lock": "/opt/ucap/bin/pip",
            "requirements-build.lock": "pip",
        }, "the image's venv installs its production lock; the build tools stay outside it"

    @pytest.mark.parametrize("name", IMAGES)
    def test_installs_its_own_packages_built_by_the_locked_backend_without_dependencies(
        self, name: str
    ) -> None:
        build = read_dockerfile(name)[0]
        placed = copies(build)
        built, installed = [], []
        for words in pip_commands(build):
            if "-r" in words:
                continue
            assert "--no-deps" in words, words
            targets = [w for w in words[2:] if not w.startswith("-")]
            if words[1] == "wheel":
                assert "--no-build-isolation" in words
                assert words[words.index("--wheel-dir") + 1] == "/build/wheels"
                built += [placed[t] for t in targets if t != "/build/wheels"]
            else:
                installed += targets
        assert sorted(built) == sorted(["shared", f"services/{name}"])
        assert installed == ["/build/wheels/*.whl"]

    def test_the_build_lock_pins_the_build_backend_every_package_names(self) -> None:
        build_lock = read_lock(BUILD_LOCK)
        for pyproject in PYPROJECTS:
            backend = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
            assert [canonicalize_name(Requirement(r).name) for r in backend] == ["hatchling"]
        assert build_lock["hatchling"].hashes
        assert all(pin.hashes for pin in build_lock.values())

    def test_the_build_context_leaves_out_local_state(self) -> None:
        ignored = (REPO_ROOT / ".dockerignore").read_text().split()
        assert {".git", ".venv", ".cache", ".run"} <= set(ignored)


class TestProductionLock:
    @pytest.mark.parametrize("name", IMAGES)
    def test_pins_every_package_with_hashes_as_the_tested_lock_does(
        self, name: str, dev_lock: dict[str, Pin]
    ) -> None:
        lock = read_lock(REPO_ROOT / "services" / name / "requirements.lock")
        assert lock
        assert [n for n, pin in lock.items() if not pin.hashes] == []
        differing = {
            n: (pin.version, dev_lock[n].version if n in dev_lock else None)
            for n, pin in lock.items()
            if n not in dev_lock
            or dev_lock[n].version != pin.version
            or not pin.hashes <= dev_lock[n].hashes
        }
        assert differing == {}, "the image would run versions no test ran"

    @pytest.mark.parametrize("name", IMAGES)
    def test_holds_exactly_the_runtime_dependencies_of_the_service(self, name: str) -> None:
        lock = read_lock(REPO_ROOT / "services" / name / "requirements.lock")
        needed = runtime_closure(f"ucap-{name}")
        ours = workspace_packages()
        assert needed & ours == {"ucap-shared"}
        locked = {n for n, pin in lock.items() if applies_here(pin)}
        assert sorted(needed - ours - locked) == [], "runtime dependencies the image lacks"
        assert sorted(locked - needed) == [], "packages the service does not need"
        assert not set(lock) & ours

    @pytest.mark.parametrize("name", IMAGES)
    def test_locked_versions_satisfy_every_requirement_on_them(self, name: str) -> None:
        lock = read_lock(REPO_ROOT / "services" / name / "requirements.lock")
        unmet = []
        for distribution in runtime_closure(f"ucap-{name}") | {f"ucap-{name}"}:
            for text in metadata.requires(distribution) or []:
                requirement = Requirement(text)
                pin = lock.get(canonicalize_name(requirement.name))
                if pin is not None and Version(pin.version) not in requirement.specifier:
                    unmet.append(f"{distribution}: {text} (locked {pin.version})")
        assert unmet == []

    @pytest.mark.parametrize("name", IMAGES)
    def test_holds_no_development_tool(self, name: str) -> None:
        lock = read_lock(REPO_ROOT / "services" / name / "requirements.lock")
        # pyyaml, httpx: dev tools the service needs at run time too (uvicorn, the gateway).
        tools = dev_tools() - runtime_closure(f"ucap-{name}")
        assert {"pytest", "ruff", "mypy", "schemathesis", "testcontainers"} <= tools
        assert sorted(tools & set(lock)) == []

    def test_the_dev_lock_still_holds_the_dev_tools(self, dev_lock: dict[str, Pin]) -> None:
        assert sorted(dev_tools() - set(dev_lock)) == []
