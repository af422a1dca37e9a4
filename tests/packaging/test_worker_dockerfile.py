"""worker_job/Dockerfile, checked by reading it (Docker cannot build on this machine): a pinned slim Python
3.12 base, pinned dependencies installed without a cache, sources that exist and are compiled to bytecode,
an unprivileged user, and an exec-form entry point so Python is PID 1 and gets Cloud Run's SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "worker_job" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / "worker_job" / "Dockerfile.dockerignore"
REQUIREMENTS = REPO_ROOT / "worker_job" / "requirements.txt"
PINNED_PYTHON = re.compile(r"^python:3\.12\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped (enough for these checks)."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [instruction for instruction in instructions if instruction.keyword == keyword]


def copy_sources(instruction: Instruction) -> tuple[list[str], str]:
    parts = [part for part in instruction.arguments.split() if not part.startswith("--")]
    return parts[:-1], parts[-1]


def test_parser_joins_continuations_and_drops_comments() -> None:
    parsed = parse_dockerfile("# c\nFROM x:1\nENV A=1 \\\n    # inline\n    B=2\nUSER 1\n")
    assert parsed == [Instruction("FROM", "x:1"), Instruction("ENV", "A=1 B=2"), Instruction("USER", "1")]


def test_base_image_is_slim_python_312_pinned_to_a_patch_release(instructions: list[Instruction]) -> None:
    bases = only(instructions, "FROM")
    assert len(bases) == 1, "one stage: nothing to copy between stages"
    image = bases[0].arguments.split()[0]
    assert PINNED_PYTHON.fullmatch(image), f"{image} is not python:3.12.<patch>-slim[-<debian>][@sha256:...]"


def test_entrypoint_is_exec_form_python_module(instructions: list[Instruction]) -> None:
    entrypoints = only(instructions, "ENTRYPOINT")
    assert len(entrypoints) == 1
    # Exec form is a JSON array; the shell form would make /bin/sh PID 1 and swallow SIGTERM.
    assert json.loads(entrypoints[0].arguments) == ["python", "-m", "worker_job"]
    assert not only(instructions, "CMD"), "no CMD: the job passes no arguments"
    assert (REPO_ROOT / "worker_job" / "__main__.py").is_file()


def test_runs_as_an_unprivileged_user(instructions: list[Instruction]) -> None:
    users = only(instructions, "USER")
    assert users, "no USER: the worker would run as root"
    user = users[-1].arguments.split(":")[0]
    assert user not in {"root", "0"}
    last_user_index = instructions.index(users[-1])
    assert all(i.keyword != "RUN" for i in instructions[last_user_index:]), "nothing runs as root after USER"


def test_output_is_unbuffered(instructions: list[Instruction]) -> None:
    env = " ".join(instruction.arguments for instruction in only(instructions, "ENV"))
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", env)


def test_pinned_requirements_are_copied_then_installed_without_cache(instructions: list[Instruction]) -> None:
    copies = only(instructions, "COPY")
    requirement_copies = [c for c in copies if copy_sources(c)[0] == ["worker_job/requirements.txt"]]
    assert requirement_copies, "worker_job/requirements.txt is not copied into the image"
    destination = copy_sources(requirement_copies[0])[1]
    installs = [
        instruction
        for instruction in only(instructions, "RUN")
        if re.search(r"\bpip install\b", instruction.arguments)
    ]
    assert len(installs) == 1
    install = installs[0].arguments
    assert "--no-cache-dir" in install
    # The task's user cannot write bytecode at run time: pip must compile it into the image.
    assert "--no-compile" not in install
    assert re.search(rf"-r {re.escape(destination)}(\s|$)", install), f"pip does not install -r {destination}"
    assert instructions.index(requirement_copies[0]) < instructions.index(installs[0])
    # Dependencies before sources: a code change does not reinstall them.
    source_copies = [c for c in copies if c is not requirement_copies[0]]
    assert all(instructions.index(installs[0]) < instructions.index(c) for c in source_copies)


def compile_step(instructions: list[Instruction]) -> list[str]:
    """The directories the image compiles to bytecode after copying the sources."""
    steps = [i for i in only(instructions, "RUN") if "compileall" in i.arguments]
    assert len(steps) == 1, "the image does not compile its own modules to bytecode"
    arguments = shlex.split(steps[0].arguments)
    assert arguments[:3] == ["python", "-m", "compileall"]
    return [argument for argument in arguments[3:] if not argument.startswith("-")]


def test_the_sources_are_compiled_after_they_are_copied(instructions: list[Instruction]) -> None:
    step = next(i for i in only(instructions, "RUN") if "compileall" in i.arguments)
    copied = {copy_sources(c)[1].rstrip("/") for c in only(instructions, "COPY")}
    assert set(compile_step(instructions)) == {"/app/fulfillment", "/app/worker_job"} <= copied
    assert all(instructions.index(c) < instructions.index(step) for c in only(instructions, "COPY"))
    assert instructions.index(step) < instructions.index(only(instructions, "USER")[0])


def test_worker_requirements_are_pinned() -> None:
    assert REQUIREMENTS.is_file(), "worker_job/requirements.txt is missing"
    requirements = [
        line.split("#")[0].strip()
        for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    ]
    assert requirements
    unpinned = [
        line for line in requirements if not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[^\s;]+(\s*;.*)?", line)
    ]
    assert unpinned == []


def test_copies_the_code_the_worker_needs_from_paths_that_exist(instructions: list[Instruction]) -> None:
    copied: set[str] = set()
    for instruction in only(instructions, "COPY"):
        assert "--from" not in instruction.arguments
        sources, _ = copy_sources(instruction)
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"
            copied.add(source.rstrip("/"))
    assert {"fulfillment", "worker_job", "bpmn"} <= copied
    assert (REPO_ROOT / "bpmn" / "order-fulfillment.bpmn").is_file()


def test_build_context_sends_only_what_the_image_needs() -> None:
    """The context is the repository root; its ignore file starts from nothing and adds the copied dirs."""
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    assert {"!fulfillment/", "!worker_job/", "!bpmn/"} <= set(patterns)
    assert "**/__pycache__" in patterns


# ---------------------------------------------------------------------------------------------------------
# The image's contents, assembled without Docker
# ---------------------------------------------------------------------------------------------------------
IGNORED_IN_CONTEXT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", "Dockerfile*")


def in_image(root: Path, workdir: Path, path: str) -> Path:
    """Where an image path lands in the staging directory `root` (relative paths start at WORKDIR)."""
    return root / path.lstrip("/") if path.startswith("/") else workdir / path


def assemble_image(instructions: list[Instruction], root: Path) -> tuple[Path, dict[str, str]]:
    """Applies WORKDIR, ENV and COPY to `root` as the image's file system; returns WORKDIR and the ENV."""
    workdir, env = root, {}
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = in_image(root, workdir, instruction.arguments)
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(instruction.arguments)))
        elif instruction.keyword == "COPY":
            sources, destination = copy_sources(instruction)
            target = in_image(root, workdir, destination)
            for source in sources:
                copy_into_image(REPO_ROOT / source, target, destination.endswith("/"))
    return workdir, env


def copy_into_image(source: Path, target: Path, into_directory: bool) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=IGNORED_IN_CONTEXT, dirs_exist_ok=True)
        return
    destination = target / source.name if into_directory else target
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


@pytest.mark.integration
def test_image_contents_start_the_worker(
    instructions: list[Instruction], tmp_path: Path, cloud_python: str
) -> None:
    """Docker cannot build here, so the Dockerfile's COPY, ENV and WORKDIR are applied to a directory and
    its pip install to a fresh virtual environment (Python 3.12 when installed), then its ENTRYPOINT runs.
    With no settings the worker must stop at start with one line naming a missing setting and exit 2:
    that proves every module it imports resolves with exactly the image's files and dependencies."""
    workdir, env = assemble_image(instructions, tmp_path / "image")
    install = next(i for i in only(instructions, "RUN") if "pip install" in i.arguments).arguments
    requirements = in_image(tmp_path / "image", workdir, install.split(" -r ")[1].split()[0])
    venv = tmp_path / "venv"
    subprocess.run([cloud_python, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-input", "-r", str(requirements)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    compiled = [str(in_image(tmp_path / "image", workdir, path)) for path in compile_step(instructions)]
    subprocess.run([python, "-m", "compileall", "-q", *compiled], check=True, timeout=120)
    assert_every_module_has_bytecode(python, [Path(path) for path in compiled])
    entrypoint = json.loads(only(instructions, "ENTRYPOINT")[0].arguments)
    assert entrypoint[0] == "python"
    command = [python, *entrypoint[1:]]
    started = subprocess.run(
        command,
        cwd=workdir,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert started.returncode == 2, started.stderr
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1, started.stderr
    assert lines[0].startswith("invalid settings:")
    assert "MEDUSA_BACKEND_URL" in lines[0]
    assert sorted(path.name for path in (workdir / "bpmn").iterdir()) == ["order-fulfillment.bpmn"]


def assert_every_module_has_bytecode(python: str, directories: list[Path]) -> None:
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    modules = [source for directory in directories for source in directory.rglob("*.py")]
    assert modules
    missing = [s for s in modules if not (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").is_file()]
    assert missing == []
