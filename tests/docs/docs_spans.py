"""What the guides name, read out of their Markdown, and what the project holds, read out of its code.

The rules for reading a guide (the tests apply them to README.md, docs/*.md, terraform/README.md and
medusa/plugin/README.md):
- an *inline span* is the text between single backticks outside fenced blocks;
- a *fenced line* is a line of a ``` block;
- a *link* is the target of a Markdown link `[text](target)` that is neither a URL nor a mail address.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDES = (
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    REPO_ROOT / "terraform" / "README.md",
    REPO_ROOT / "medusa" / "plugin" / "README.md",
)

FENCE = re.compile(r"^\s*```")
INLINE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Guide:
    path: Path
    inline_spans: tuple[str, ...]
    fenced_lines: tuple[str, ...]
    links: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO_ROOT))


def read_guide(path: Path) -> Guide:
    spans: list[str] = []
    fenced: list[str] = []
    links: list[str] = []
    inside_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside_fence = not inside_fence
            continue
        if inside_fence:
            fenced.append(line)
            continue
        spans += INLINE_SPAN.findall(line)
        links += [target for target in LINK.findall(line) if not re.match(r"^[a-z]+:", target)]
    return Guide(path, tuple(spans), tuple(fenced), tuple(links))


@cache
def guides() -> tuple[Guide, ...]:
    return tuple(read_guide(path) for path in GUIDES)


# --- what the project holds -------------------------------------------------------------------------


@cache
def make_targets() -> frozenset[str]:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))


def _terraform_blocks(kind: str) -> frozenset[str]:
    names: set[str] = set()
    for tf_file in (REPO_ROOT / "terraform").glob("*.tf"):
        names |= set(
            re.findall(rf'^{kind} "([a-z0-9_]+)"', tf_file.read_text(encoding="utf-8"), re.MULTILINE)
        )
    return frozenset(names)


@cache
def terraform_variables() -> frozenset[str]:
    return _terraform_blocks("variable")


@cache
def terraform_variable_attributes() -> frozenset[str]:
    """The attributes of the object-typed variables (e.g. `min_instances` of `webhook_function`)."""
    text = (REPO_ROOT / "terraform" / "variables.tf").read_text(encoding="utf-8")
    return frozenset(
        re.findall(r"^\s+([a-z][a-z0-9_]*)\s+=\s+(?:optional\(|string$|number$|bool$)", text, re.MULTILINE)
    )


@cache
def terraform_outputs() -> frozenset[str]:
    return _terraform_blocks("output")


@cache
def terraform_environment_names() -> frozenset[str]:
    """The environment and secret setting names terraform/locals.tf hands the components."""
    text = (REPO_ROOT / "terraform" / "locals.tf").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s+=", text, re.MULTILINE))


SETTINGS_MODULES = (REPO_ROOT / "fulfillment" / "settings.py", REPO_ROOT / "worker_job" / "config.py")


@cache
def settings_names() -> frozenset[str]:
    """The environment variables of every pydantic-settings class of the functions and the worker: the
    upper-cased field names (the classes set no prefix and no alias)."""
    names: set[str] = set()
    for module in SETTINGS_MODULES:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Settings"):
                names |= {
                    item.target.id.upper()
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                }
    return frozenset(names)


@cache
def make_variables() -> frozenset[str]:
    """The variables the Makefile's targets take (`make chaos SEED=7`)."""
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", text))


@cache
def deploy_command_environment() -> frozenset[str]:
    """The variables `make deploy` reads for its model step: DEPLOY_<NAME> for each setting it overrides."""
    from deploy.steps import MODEL_DEPLOY_SETTINGS

    return frozenset(f"DEPLOY_{name}" for name in MODEL_DEPLOY_SETTINGS)


@cache
def demo_shop_environment() -> frozenset[str]:
    """The variables the demo shop's medusa-config.ts reads (a shop's own settings for the plugin)."""
    text = (REPO_ROOT / "medusa" / "backend" / "medusa-config.ts").read_text(encoding="utf-8")
    return frozenset(re.findall(r"(?:process\.env|env)\.([A-Z][A-Z0-9_]+)", text))


@cache
def bpmn_error_codes() -> frozenset[str]:
    text = (REPO_ROOT / "bpmn" / "order-fulfillment.bpmn").read_text(encoding="utf-8")
    return frozenset(re.findall(r'errorCode="([A-Z_]+)"', text))


def _options_text() -> str:
    return (REPO_ROOT / "medusa" / "plugin" / "src" / "lib" / "options.ts").read_text(encoding="utf-8")


def _schema_fields(text: str, schema: str) -> Iterator[str]:
    """The fields of a group whose schema is its own constant (`camunda: camundaSchema.optional()`)."""
    block = text.split(f"const {schema} = z", 1)[1].split("\n\n", 1)[0]
    for line in block.splitlines():
        found = re.match(r"^ +([a-zA-Z]+): (?:z\b|positiveInt|nonNegativeInt)", line)
        if found:
            yield found.group(1)


def _options_block() -> Iterator[tuple[int, str]]:
    text = _options_text()
    block = text.split("const optionsSchema = z", 1)[1].split("export type PluginOptions", 1)[0]
    for line in block.splitlines():
        found = re.match(
            r"^( +)([a-zA-Z]+): (?:z\b|positiveInt|nonNegativeInt|secretsSchema|(\w+Schema))", line
        )
        if found:
            indent, name, group_schema = len(found.group(1)), found.group(2), found.group(3)
            yield indent, name
            if group_schema:
                yield from ((indent + 2, field) for field in _schema_fields(text, group_schema))


@cache
def plugin_options() -> frozenset[str]:
    """The option names of the plugin's schema (medusa/plugin/src/lib/options.ts), nested ones as
    `group.name`."""
    names: set[str] = set()
    top_indent = min(indent for indent, _ in _options_block())
    group = ""
    for indent, name in _options_block():
        if indent == top_indent:
            group = name
            names.add(name)
        else:
            names.add(f"{group}.{name}")
    return frozenset(names)


SOURCE_SUFFIXES = {
    ".py",
    ".tf",
    ".ts",
    ".tsx",
    ".mjs",
    ".bpmn",
    ".yaml",
    ".yml",
    ".toml",
    ".example",
    ".json",
}
SOURCE_ROOTS = (
    "fulfillment",
    "functions",
    "worker_job",
    "bpmn",
    "terraform",
    "medusa/plugin",
    "devstack",
    "tools",
)


@cache
def source_words() -> frozenset[str]:
    """Every identifier-like word in the project's own sources (not its docs, not node_modules)."""
    words: set[str] = set()
    for path in source_files():
        if path.suffix in SOURCE_SUFFIXES:
            words |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text(encoding="utf-8")))
    return frozenset(words)


# The project's own files beside its sources: the Makefile and the pinned Python dependencies.
ROOT_FILES = ("Makefile", "pyproject.toml", "requirements-dev.lock")


def source_files() -> Iterator[Path]:
    """The project's own source files: no docs, nothing installed (node_modules), no README."""
    for root in SOURCE_ROOTS:
        for path in (REPO_ROOT / root).rglob("*"):
            if path.is_file() and not {"node_modules", "tests"} & set(path.parts) and path.suffix != ".md":
                if path.name == "package-lock.json":
                    continue
                if path.suffix in SOURCE_SUFFIXES or path.name in {"Dockerfile", "requirements.txt"}:
                    yield path
    for name in ROOT_FILES:
        yield REPO_ROOT / name


@cache
def source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in source_files())


# --- anchors ----------------------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub makes of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors_of(path: Path) -> frozenset[str]:
    anchors: set[str] = set()
    inside_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside_fence = not inside_fence
        heading = re.match(r"^#{1,6} (.+)$", line)
        if heading and not inside_fence:
            anchors.add(github_anchor(heading.group(1)))
    return frozenset(anchors)
