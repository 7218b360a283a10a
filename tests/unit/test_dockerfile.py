"""The Dockerfile's structure, checked as text since no Docker engine runs here: a pinned slim
base, the lock file as the only source of dependencies, a non-root runtime without build tools,
an exec-form entry point, and only service modules that exist."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
BUILD_TOOLS = {"gcc", "g++", "build-essential", "make", "clang", "cmake", "python3-dev"}
# Files that tell people which `python -m services...` module to run in a container.
RUN_INSTRUCTIONS = [DOCKERFILE, ROOT / "deploy/k8s/README.md", ROOT / "README.md"]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [value for kw, value in self.instructions if kw == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        result.append((keyword.upper(), rest.strip()))
        pending = ""
    return result


def stages(text: str) -> list[Stage]:
    """The build stages, each base with the global `ARG NAME=value` defaults substituted."""
    global_args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, value in instructions(text):
        if keyword == "FROM":
            parts = value.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m[1], m[0]), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            found.append(Stage(base, name))
        elif found:
            found[-1].instructions.append((keyword, value))
        elif keyword == "ARG" and "=" in value:
            arg, _, default = value.partition("=")
            global_args[arg] = default
    return found


def final_stage() -> Stage:
    return stages(DOCKERFILE.read_text())[-1]


def test_the_runtime_starts_afresh_and_takes_only_what_the_build_stage_made():
    built = stages(DOCKERFILE.read_text())
    assert len(built) >= 2, "a single stage would ship the build tools"
    runtime = built[-1]
    # Starting FROM the build stage would carry uv and the build layers into the image.
    assert runtime.base not in {stage.name for stage in built[:-1]}
    assert any(v.startswith("--from=") for v in runtime.values("COPY")), "no COPY --from=build"


def test_the_runtime_base_is_slim_python_311_pinned_to_a_patch_release_and_digest():
    base = final_stage().base
    match = re.fullmatch(r"python:3\.11\.(\d+)-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
    assert match, f"not an exact slim Python 3.11 release: {base}"
    if "@" in base:
        assert match[2], "a digest must be a full sha256"


def test_the_runtime_runs_as_a_fixed_non_root_uid_set_before_the_entry_point():
    stage = final_stage()
    keywords = [kw for kw, _ in stage.instructions]
    users = stage.values("USER")
    assert users, "the runtime stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER must be a numeric non-root UID: {users[-1]}"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert "ENTRYPOINT" in keywords[last_user:], "USER must come before ENTRYPOINT"


def test_dependencies_come_from_the_lock_file_only():
    built = stages(DOCKERFILE.read_text())
    steps = [(kw, v) for stage in built for kw, v in stage.instructions]
    copies_lock = any(kw in {"COPY", "ADD"} and "uv.lock" in v.split() for kw, v in steps)
    assert copies_lock, "uv.lock is never copied into the build"
    syncs = [v for kw, v in steps if kw == "RUN" and "uv sync" in v]
    assert syncs, "nothing runs uv sync"
    for command in syncs:
        assert "--frozen" in command or "--locked" in command, command
        assert "--no-dev" in command, command
    for kw, value in steps:
        if kw == "RUN":
            installs = re.findall(r"(?:pip|uv pip) install ([^&;]*)", value)
            for args in installs:
                words = args.replace('"', "").replace("'", "").split()
                assert all(re.fullmatch(r"-\S+|[\w.-]+==[\w.${}]+", a) for a in words), (
                    f"an install outside the lock file must pin its version: {value}"
                )


def test_the_runtime_stage_installs_no_build_tools_and_no_package_manager_output():
    for value in final_stage().values("RUN"):
        for packages in re.findall(r"apt-get install ([^&;]*)", value):
            assert not BUILD_TOOLS & set(packages.split()), value
        assert "uv sync" not in value and "pip install" not in value, value


def test_python_writes_no_bytecode_and_does_not_buffer_output():
    env = " ".join(final_stage().values("ENV"))
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env)
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", env)


def test_the_entry_point_is_in_exec_form():
    entrypoints = final_stage().values("ENTRYPOINT")
    assert entrypoints, "the runtime stage has no ENTRYPOINT"
    command = json.loads(entrypoints[-1])
    assert isinstance(command, list) and command and all(isinstance(c, str) for c in command)


def test_the_build_context_leaves_out_the_venv_the_data_and_git():
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git"} <= ignored


def test_every_service_module_named_for_a_container_exists():
    named = set()
    for path in RUN_INSTRUCTIONS:
        text = path.read_text()
        named |= set(re.findall(r"python -m (services(?:\.[a-z_]+)+)", text))
        if path == DOCKERFILE:
            named |= set(re.findall(r'"(services\.[a-z_.]+)"', text))
    assert named, "no service module is named anywhere"
    for module in named:
        parts = module.split(".")
        as_file = ROOT.joinpath(*parts).with_suffix(".py")
        as_package = ROOT.joinpath(*parts, "__main__.py")
        assert as_file.exists() or as_package.exists(), f"`python -m {module}` names nothing"
