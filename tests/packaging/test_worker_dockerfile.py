"""worker_job/Dockerfile, checked by reading it (Docker cannot build on this machine): a pinned slim Python
3.12 base, pinned dependencies installed without a cache, sources that exist, an unprivileged user, and an
exec-form entry point so Python is PID 1 and gets Cloud Run's SIGTERM.
"""

from __future__ import annotations

import json
import re
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
    assert re.search(rf"-r {re.escape(destination)}(\s|$)", install), f"pip does not install -r {destination}"
    assert instructions.index(requirement_copies[0]) < instructions.index(installs[0])
    # Dependencies before sources: a code change does not reinstall them.
    source_copies = [c for c in copies if c is not requirement_copies[0]]
    assert all(instructions.index(installs[0]) < instructions.index(c) for c in source_copies)


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
