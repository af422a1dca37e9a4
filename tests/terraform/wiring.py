"""Wiring checks over the Terraform config in terraform/, without Terraform or the Google provider.

The config is parsed with python-hcl2; expressions come back as `"${...}"` strings. Each check takes a parsed
`TerraformConfig` and returns the problems it found (empty = fine), so the tests can run the same checks on a
deliberately broken copy of the config and see that every kind of mistake is caught.

A function resource made with `for_each` over a local map (functions.tf) is read as one resource per key,
addressed as Terraform does (`google_cloudfunctions2_function.function["webhook"]`), with `each.key` and
`each.value.ATTR` replaced by that entry's key and the map's expression for ATTR.

Values built from locals are resolved as far as the config keeps them literal: a reference to a local, a
`toset()` of one, or a for-expression that only filters a local (the filter may drop entries, so the literal
map is the upper bound of what a component can get). Anything else is reported as "cannot resolve", which
keeps the config in a shape these checks can read.
"""

from __future__ import annotations

import ast
import functools
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import hcl2
from hcl2 import SerializationOptions
from pydantic import SecretStr
from pydantic_settings import BaseSettings

PARSE_OPTIONS: Final = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)

FUNCTION: Final = "google_cloudfunctions2_function"
JOB: Final = "google_cloud_run_v2_job"
WORKER_POOL: Final = "google_cloud_run_v2_worker_pool"
SERVICE_ACCOUNT: Final = "google_service_account"
SECRET: Final = "google_secret_manager_secret"
SECRET_VERSION: Final = "google_secret_manager_secret_version"
SECRET_GRANT: Final = "google_secret_manager_secret_iam_member"
SCHEDULER: Final = "google_cloud_scheduler_job"
RUN_SERVICE_MEMBER: Final = "google_cloud_run_v2_service_iam_member"
RUN_JOB_MEMBER: Final = "google_cloud_run_v2_job_iam_member"

PUBLIC_ENTRY_POINT: Final = "order_webhook"
STATUS_ENTRY_POINT: Final = "status_update"
# Components: the functions by entry point; the workers as a Cloud Run job or a worker pool (the two
# deployments of one component, chosen by var.worker_runtime); the incident checker job.
WORKER: Final = "worker_job"
WORKER_POOL_COMPONENT: Final = "worker_pool"
INCIDENT_CHECKER: Final = "incident_checker"
JOB_COMPONENTS: Final = {"worker": WORKER, "incident_checker": INCIDENT_CHECKER}
WORKER_DEPLOYMENTS: Final = frozenset({WORKER, WORKER_POOL_COMPONENT})
PUBLIC_MEMBERS: Final = frozenset({"allUsers", "allAuthenticatedUsers"})
INVOKER: Final = "roles/run.invoker"
SECRET_ACCESSOR: Final = "roles/secretmanager.secretAccessor"
INGRESS_VALUES: Final = frozenset({"ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"})
# Settings that hold credentials even where their type does not say so.
KNOWN_SECRET_SETTINGS: Final = frozenset(
    {
        "ORDER_WEBHOOK_SECRET",
        "STATUS_UPDATE_SECRET",
        "MEDUSA_WORKER_SECRET",
        "MEDUSA_STATUS_SECRET",
        "ZEEBE_CLIENT_SECRET",
    }
)
# Each component's own Camunda client: its code reads the client's secret as ZEEBE_CLIENT_SECRET.
CAMUNDA_CLIENT_SECRETS: Final = {
    PUBLIC_ENTRY_POINT: "WEBHOOK_CAMUNDA_CLIENT_SECRET",
    WORKER: "WORKER_CAMUNDA_CLIENT_SECRET",
    WORKER_POOL_COMPONENT: "WORKER_CAMUNDA_CLIENT_SECRET",
    INCIDENT_CHECKER: "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET",
}
# Secrets that stand for one party: the plugin tells its callers apart by the secret a request is signed
# with, the order webhook trusts events signed with its secret as the plugin's, and Camunda tells the
# components apart by their clients. Each may be read by its component alone (docs/contracts.md, "Plugin
# routes the cloud side calls"; terraform/README.md, "Camunda clients").
ONE_READER_SECRETS: Final = {
    "ORDER_WEBHOOK_SECRET": PUBLIC_ENTRY_POINT,
    "MEDUSA_WORKER_SECRET": WORKER,
    "MEDUSA_STATUS_SECRET": STATUS_ENTRY_POINT,
    "WEBHOOK_CAMUNDA_CLIENT_SECRET": PUBLIC_ENTRY_POINT,
    "WORKER_CAMUNDA_CLIENT_SECRET": WORKER,
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": INCIDENT_CHECKER,
}
# A Medusa admin credential in any form: a secret API key (sk_...) or a setting, secret or variable for one.
# The cloud side calls only the plugin's signed routes, so none belongs anywhere in terraform/.
ADMIN_KEY_MARKS: Final = (re.compile(r"\bsk_", re.I), re.compile(r"api[-_]key", re.I))
# Settings the function server reads, not our settings classes: functions-framework runs THREADS threads.
FUNCTION_SERVER_SETTINGS: Final = frozenset({"THREADS"})
SECRET_LITERALS: Final = (
    re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),
    re.compile(r"\bsk_[A-Za-z0-9]{8,}"),
)
DEFAULT_ACCOUNTS: Final = re.compile(
    r"-compute@developer\.gserviceaccount\.com|@appspot\.gserviceaccount\.com"
)
BROAD_ROLES: Final = re.compile(r"^roles/(owner|editor|viewer)$|[Aa]dmin$")

Body = dict[str, Any]
Problems = list[str]


class UnresolvableError(ValueError):
    """An expression the checks cannot turn into a literal value."""


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TerraformConfig:
    texts: Mapping[str, str]  # the .tf and .tfvars files
    documents: Mapping[str, str]  # every other file in the directory: README.md, the Cloud Build config
    resources: Mapping[str, Mapping[str, Body]]
    data: Mapping[str, Mapping[str, Body]]
    locals: Mapping[str, Any]
    variables: Mapping[str, Body]

    def of_type(self, resource_type: str) -> Mapping[str, Body]:
        return self.resources.get(resource_type, {})

    def all_blocks(self) -> Iterator[tuple[str, Body]]:
        """Every resource and data source as (address, body)."""
        for kind, prefix in ((self.resources, ""), (self.data, "data.")):
            for resource_type, named in kind.items():
                for name, body in named.items():
                    yield f"{prefix}{resource_type}.{name}", body


def parse_config(directory: Path) -> TerraformConfig:
    texts: dict[str, str] = {}
    documents = {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.name.startswith(".") and path.suffix not in (".tf", ".tfvars")
    }
    resources: dict[str, dict[str, Body]] = {}
    data: dict[str, dict[str, Body]] = {}
    locals_: dict[str, Any] = {}
    variables: dict[str, Body] = {}
    for path in sorted([*directory.glob("*.tf"), *directory.glob("*.tfvars")]):
        texts[path.name] = path.read_text(encoding="utf-8")
        if path.suffix != ".tf":
            continue
        parsed = _parse(texts[path.name])
        _merge_blocks(parsed.get("resource", []), resources)
        _merge_blocks(parsed.get("data", []), data)
        for block in parsed.get("locals", []):
            locals_.update(block)
        for block in parsed.get("variable", []):
            variables.update(block)
    if FUNCTION in resources:
        resources[FUNCTION] = _expand_for_each(resources[FUNCTION], locals_)
    return TerraformConfig(texts, documents, resources, data, locals_, variables)


_EACH_VALUE: Final = re.compile(r"\beach\.value\.(\w+)")
_WHOLE_EACH_VALUE: Final = re.compile(r"\$\{each\.value\.(\w+)\}")


def _expand_for_each(named: Mapping[str, Body], locals_: Mapping[str, Any]) -> dict[str, Body]:
    """Each resource with `for_each = local.NAME` (a map of maps) as one body per key; others as they are."""
    expanded: dict[str, Body] = {}
    for name, body in named.items():
        source = re.fullmatch(r"\$\{local\.(\w+)\}", str(body.get("for_each", "")))
        entries = locals_.get(source.group(1)) if source else None
        if not isinstance(entries, Mapping):
            expanded[name] = body
            continue
        for key, entry in entries.items():
            instance = {k: v for k, v in body.items() if k != "for_each"}
            expanded[f'{name}["{key}"]'] = _substitute_each(instance, str(key), entry)
    return expanded


def _substitute_each(value: Any, key: str, entry: Mapping[str, Any]) -> Any:
    """`each.key` -> the quoted key; `${each.value.ATTR}` -> the entry's value for ATTR as written, and
    `each.value.ATTR` inside a larger expression -> that value's expression (a literal is quoted)."""
    if isinstance(value, Mapping):
        return {k: _substitute_each(v, key, entry) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_each(item, key, entry) for item in value]
    if not isinstance(value, str) or "each." not in value:
        return value
    whole = _WHOLE_EACH_VALUE.fullmatch(value.strip())
    if whole:
        return entry[whole.group(1)]

    def expression(match: re.Match[str]) -> str:
        attribute = entry[match.group(1)]
        inner = re.fullmatch(r"\$\{(.*)\}", str(attribute), re.S)
        return inner.group(1) if inner else f'"{attribute}"'

    return _EACH_VALUE.sub(expression, value).replace("each.key", f'"{key}"')


def parse_text(text: str) -> dict[str, Any]:
    """One .tf file's blocks as python-hcl2 gives them (e.g. its `moved` blocks)."""
    return _parse(text)


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> dict[str, Any]:
    """Parsed once per distinct file text: the broken copies share all but one file with the original.
    Callers only read the result."""
    parsed: dict[str, Any] = hcl2.loads(text, serialization_options=PARSE_OPTIONS)
    return parsed


def _merge_blocks(
    blocks: Iterable[Mapping[str, Mapping[str, Body]]], into: dict[str, dict[str, Body]]
) -> None:
    for block in blocks:
        for resource_type, named in block.items():
            for name, body in named.items():
                if name in into.setdefault(resource_type, {}):
                    raise ValueError(f"{resource_type}.{name} is declared twice")
                into[resource_type][name] = body


# ---------------------------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------------------------
_LOCAL_REF: Final = re.compile(r"\$\{(?:toset\()?local\.(\w+)\)?\}")
_MAP_VALUES: Final = re.compile(r"\$\{toset\(values\(local\.(\w+)\)\)\}")
_MAP_FILTER: Final = re.compile(
    r"\$\{\{\s*for (\w+), (\w+) in local\.(\w+)\s*:\s*\1\s*=>\s*\2(?:\s+if .*)?\}\}", re.S
)
_LIST_FILTER: Final = re.compile(r"\$\{\[\s*for (\w+) in local\.(\w+)\s*:\s*\1(?:\s+if .*)?\]\}", re.S)
_SERVICE_ACCOUNT_REF: Final = re.compile(
    r"^(?:serviceAccount:)?\$\{google_service_account\.(\w+)\.(?:member|email)\}$"
)


def resolve(config: TerraformConfig, value: Any) -> Any:
    """The literal behind a value: itself, or the local it refers to (through filters, see module doc)."""
    if not isinstance(value, str) or "${" not in value:
        return value
    values_of = _MAP_VALUES.fullmatch(value.strip())
    if values_of:
        mapping = resolve(config, f"${{local.{values_of.group(1)}}}")
        if not isinstance(mapping, Mapping):
            raise UnresolvableError(f"local.{values_of.group(1)} is not a map")
        return sorted({str(item) for item in mapping.values()})
    for pattern, group in ((_LOCAL_REF, 1), (_MAP_FILTER, 3), (_LIST_FILTER, 2)):
        match = pattern.fullmatch(value.strip())
        if match:
            name = match.group(group)
            if name not in config.locals:
                raise UnresolvableError(f"local.{name} is not defined")
            return resolve(config, config.locals[name])
    raise UnresolvableError(f"cannot resolve {value!r} to a literal")


def service_account_of(expression: Any) -> str | None:
    """`google_service_account.NAME.email|member` -> NAME."""
    if not isinstance(expression, str):
        return None
    match = _SERVICE_ACCOUNT_REF.fullmatch(expression.strip())
    return match.group(1) if match else None


def _first(body: Body, key: str) -> Body:
    """The first (usually only) block of a kind; an empty body when there is none."""
    blocks = body.get(key) or [{}]
    block = blocks[0] if isinstance(blocks, list) else blocks
    return dict(block) if isinstance(block, Mapping) else {}


def _dynamic(body: Body, block: str) -> list[Body]:
    return [entry[block] for entry in body.get("dynamic", []) if block in entry]


def _names_from_iteration(collection: Any, name_expression: str, iterator: str) -> set[str]:
    """The names a dynamic block produces: its for_each keys or values, as its content picks them."""
    if name_expression == f"${{{iterator}.key}}" and isinstance(collection, Mapping):
        return set(collection)
    if name_expression == f"${{{iterator}.value}}" and isinstance(collection, list | set | tuple):
        return {str(item) for item in collection}
    if name_expression == f"${{{iterator}.value}}" and isinstance(collection, Mapping):
        return {str(item) for item in collection.values()}
    raise UnresolvableError(f"cannot tell the names made by {name_expression!r}")


def _mentions(expression: Any, address: str) -> bool:
    """True when the expression refers to the resource (`${google_x.y.name}`, `${google_x.y["k"].name}`)."""
    # Not a longer name, and not one instance of a for_each resource when the address is the whole resource.
    pattern = rf"(?<![\w.]){re.escape(address)}(?!\w|\[\")"
    return isinstance(expression, str) and re.search(pattern, expression) is not None


# ---------------------------------------------------------------------------------------------------------
# Components: the two functions, the worker (job or pool) and the incident checker, with what each gets
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Component:
    name: str  # the function's entry point, WORKER / WORKER_POOL_COMPONENT, or the job's component name
    address: str
    service_account: str | None
    plain_env: frozenset[str]
    secret_env: frozenset[str]
    # Secret environment variable -> the secret (a key of local.secret_ids) it is read from.
    secret_sources: Mapping[str, str]


def components(config: TerraformConfig) -> dict[str, Component]:
    found: dict[str, Component] = {}
    for name, body in config.of_type(FUNCTION).items():
        component = _function_component(config, f"{FUNCTION}.{name}", body)
        found[component.name] = component
    for name, body in config.of_type(JOB).items():
        component_name = JOB_COMPONENTS.get(name, name)
        found[component_name] = _container_component(
            config, component_name, f"{JOB}.{name}", _first(_first(body, "template"), "template")
        )
    for name, body in config.of_type(WORKER_POOL).items():
        component_name = WORKER_POOL_COMPONENT if name == "worker" else name
        found[component_name] = _container_component(
            config, component_name, f"{WORKER_POOL}.{name}", _first(body, "template")
        )
    return found


def _function_component(config: TerraformConfig, address: str, body: Body) -> Component:
    service = _first(body, "service_config")
    plain = resolve(config, service.get("environment_variables", {}))
    sources: dict[str, str] = {}
    for block in service.get("secret_environment_variables", []):
        sources[str(block.get("key"))] = _literal_secret_key(block.get("secret"))
    for dynamic in _dynamic(service, "secret_environment_variables"):
        collection = resolve(config, dynamic["for_each"])
        content = _first(dynamic, "content")
        sources |= _secret_sources(collection, content.get("key", ""), "secret_environment_variables")
    return Component(
        name=str(_first(body, "build_config").get("entry_point")),
        address=address,
        service_account=service_account_of(service.get("service_account_email")),
        plain_env=frozenset(plain),
        secret_env=frozenset(sources),
        secret_sources=sources,
    )


def _container_component(config: TerraformConfig, name: str, address: str, task: Body) -> Component:
    """A Cloud Run job's task template or a worker pool's template: containers with their env blocks."""
    plain: set[str] = set()
    sources: dict[str, str] = {}
    for container in task.get("containers", []):
        for env in container.get("env", []):
            if "value_source" in env:
                ref = _first(_first(env, "value_source"), "secret_key_ref")
                sources[str(env.get("name"))] = _literal_secret_key(ref.get("secret"))
            else:
                plain.add(str(env.get("name")))
        for dynamic in _dynamic(container, "env"):
            content = _first(dynamic, "content")
            collection = resolve(config, dynamic["for_each"])
            if "value_source" in content:
                sources |= _secret_sources(collection, content.get("name", ""), "env")
            else:
                plain.update(_names_from_iteration(collection, content.get("name", ""), "env"))
    return Component(
        name=name,
        address=address,
        service_account=service_account_of(task.get("service_account")),
        plain_env=frozenset(plain),
        secret_env=frozenset(sources),
        secret_sources=sources,
    )


def _secret_sources(collection: Any, name_expression: str, iterator: str) -> dict[str, str]:
    """env name -> secret key for a dynamic block over a map (name = key, secret = value) or a list."""
    if name_expression == f"${{{iterator}.key}}" and isinstance(collection, Mapping):
        return {str(name): str(secret) for name, secret in collection.items()}
    return {name: name for name in _names_from_iteration(collection, name_expression, iterator)}


def _literal_secret_key(expression: Any) -> str:
    match = re.fullmatch(rf'\$\{{{SECRET}\.\w+\["(\w+)"\]\.(?:secret_id|id)\}}', str(expression))
    if match is None:
        raise UnresolvableError(f"cannot tell which secret {expression!r} is")
    return match.group(1)


def _task_template(config: TerraformConfig, component: Component) -> Body:
    resource_type, name = component.address.split(".")
    body = config.of_type(resource_type)[name]
    return (
        _first(body, "template")
        if resource_type == WORKER_POOL
        else _first(_first(body, "template"), "template")
    )


def plain_env_values(config: TerraformConfig, component: Component) -> Mapping[str, Any]:
    """The literal map behind a component's plain environment (values are expressions)."""
    if not component.address.startswith(FUNCTION):
        values: dict[str, Any] = {}
        for container in _task_template(config, component).get("containers", []):
            values.update({env["name"]: env.get("value") for env in container.get("env", [])})
            for dynamic in _dynamic(container, "env"):
                if "value_source" not in _first(dynamic, "content"):
                    values.update(resolve(config, dynamic["for_each"]))
        return values
    body = config.of_type(FUNCTION)[component.address.split(".")[1]]
    return dict(resolve(config, _first(body, "service_config").get("environment_variables", {})))


# ---------------------------------------------------------------------------------------------------------
# What the code reads
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingsSpec:
    env_names: frozenset[str]
    secret_names: frozenset[str]
    required: frozenset[str]


def settings_spec(settings_class: type[BaseSettings]) -> SettingsSpec:
    """Environment variable names a settings class reads, which of them are secrets, which required."""
    config = settings_class.model_config
    if config.get("case_sensitive") or config.get("env_nested_delimiter"):
        raise ValueError(
            f"{settings_class.__name__}: case-sensitive or nested settings are not supported here"
        )
    prefix = str(config.get("env_prefix") or "")
    env_names: set[str] = set()
    secrets: set[str] = set()
    required: set[str] = set()
    for field_name, field in settings_class.model_fields.items():
        if field.validation_alias is not None or field.alias is not None:
            raise ValueError(f"{settings_class.__name__}.{field_name}: aliases are not supported here")
        env_name = f"{prefix}{field_name}".upper()
        env_names.add(env_name)
        if _mentions_secret_str(field.annotation) or env_name in KNOWN_SECRET_SETTINGS:
            secrets.add(env_name)
        if field.is_required():
            required.add(env_name)
    return SettingsSpec(frozenset(env_names), frozenset(secrets), frozenset(required))


def served_by_functions_framework(spec: SettingsSpec) -> SettingsSpec:
    """A function's spec plus what its server reads (required: the thread count must match concurrency)."""
    return SettingsSpec(
        spec.env_names | FUNCTION_SERVER_SETTINGS, spec.secret_names, spec.required | FUNCTION_SERVER_SETTINGS
    )


def _mentions_secret_str(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _mentions_secret_str(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_mentions_secret_str(arg) for arg in typing.get_args(annotation))
    return False


# ---------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------
def check_entry_points(config: TerraformConfig, functions_dir: Path) -> Problems:
    """Every function's entry point is a top-level function in functions/NAME/main.py."""
    problems: Problems = []
    for name, body in config.of_type(FUNCTION).items():
        build = _first(body, "build_config")
        entry_point = str(build.get("entry_point"))
        if build.get("runtime") != "python312":
            problems.append(f"{FUNCTION}.{name}: runtime {build.get('runtime')!r}, expected python312")
        main = functions_dir / entry_point / "main.py"
        if not main.is_file():
            problems.append(f"{FUNCTION}.{name}: entry point {entry_point!r} but {main} does not exist")
        elif entry_point not in _top_level_functions(main):
            problems.append(f"{FUNCTION}.{name}: {main} defines no function {entry_point!r}")
    return problems


def _top_level_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def check_env_matches_settings(
    config: TerraformConfig, specs: Mapping[str, SettingsSpec], only: Iterable[str] | None = None
) -> Problems:
    """Each component gets exactly the settings its code reads; secret settings only as secret references.
    `only` limits the check to some components (the others' code may not be importable)."""
    problems: Problems = []
    try:
        found = components(config)
    except UnresolvableError as exc:
        return [f"environment: {exc}"]
    if only is not None:
        wanted = set(only)
        found = {name: component for name, component in found.items() if name in wanted}
        specs = {name: spec for name, spec in specs.items() if name in wanted}
    for missing in sorted(set(specs) - set(found)):
        problems.append(f"no function or job for component {missing!r}")
    for name, component in sorted(found.items()):
        spec = specs.get(name)
        if spec is None:
            problems.append(f"{component.address}: no settings class is known for {name!r}")
            continue
        given = component.plain_env | component.secret_env
        for env in sorted(spec.env_names - given):
            problems.append(f"{component.address}: setting {env} is read by the code but not configured")
        for env in sorted(given - spec.env_names):
            problems.append(f"{component.address}: {env} is configured but the code does not read it")
        for env in sorted(component.plain_env & spec.secret_names):
            problems.append(f"{component.address}: secret setting {env} is a plain environment variable")
        for env in sorted(component.secret_env - spec.secret_names):
            problems.append(f"{component.address}: {env} comes from Secret Manager but is not a secret")
    return problems


def check_secret_access(config: TerraformConfig) -> Problems:
    """Each service account may read exactly the secrets its component gets; no project-wide access."""
    problems: Problems = []
    for address, body in config.all_blocks():
        role = str(body.get("role", ""))
        on_single_secret = address.startswith(f"{SECRET_GRANT}.")
        if ("secretmanager" in role or "secretmanager" in _roles_in(body)) and not on_single_secret:
            problems.append(f"{address}: grants {role or 'Secret Manager roles'} beyond single secrets")
    try:
        granted = _secret_grants(config, problems)
        found = components(config)
    except UnresolvableError as exc:
        return [*problems, f"secret access: {exc}"]
    expected: dict[str, set[str]] = {}
    for component in found.values():
        if component.service_account:
            expected.setdefault(component.service_account, set()).update(component.secret_sources.values())
    for account in sorted(set(granted) | set(expected)):
        extra = granted.get(account, set()) - expected.get(account, set())
        missing = expected.get(account, set()) - granted.get(account, set())
        if extra:
            problems.append(f"service account {account} may read {sorted(extra)} but its component does not")
        if missing:
            problems.append(f"service account {account} reads {sorted(missing)} without an accessor grant")
    return problems


def secret_readers(config: TerraformConfig) -> dict[str, set[str]]:
    """Secret setting -> the service accounts with an accessor grant on it."""
    readers: dict[str, set[str]] = {}
    for account, secrets in _secret_grants(config, []).items():
        for secret in secrets:
            readers.setdefault(secret, set()).add(account)
    return readers


def check_one_reader_per_party_secret(config: TerraformConfig) -> Problems:
    """The plugin's secrets and the webhook's are readable by their one component only (ONE_READER_SECRETS):
    a second reader could sign as that party, e.g. the status function cancelling orders as the worker."""
    try:
        readers = secret_readers(config)
        found = components(config)
    except UnresolvableError as exc:
        return [f"secret readers: {exc}"]
    problems: Problems = []
    for secret, component_name in ONE_READER_SECRETS.items():
        component = found.get(component_name)
        expected = {component.service_account} if component and component.service_account else set()
        actual = readers.get(secret, set())
        if not expected or actual != expected:
            problems.append(
                f"{secret} must be readable by {component_name}'s service account alone, "
                f"readers: {sorted(actual)}"
            )
    return problems


def _roles_in(body: Body) -> str:
    """Roles inside policy documents (bindings blocks), flattened for a substring test."""
    return " ".join(str(binding.get("role", "")) for binding in body.get("binding", []))


def _secret_grants(config: TerraformConfig, problems: Problems) -> dict[str, set[str]]:
    secret_keys = {
        f"{SECRET}.{name}": resolve(config, body.get("for_each", {}))
        for name, body in config.of_type(SECRET).items()
    }
    granted: dict[str, set[str]] = {}
    for name, body in config.of_type(SECRET_GRANT).items():
        address = f"{SECRET_GRANT}.{name}"
        if body.get("role") != SECRET_ACCESSOR:
            problems.append(f"{address}: role {body.get('role')!r}, expected {SECRET_ACCESSOR}")
        account = service_account_of(body.get("member"))
        if account is None:
            problems.append(f"{address}: member {body.get('member')!r} is not one of our service accounts")
            continue
        for secret in _granted_secret_names(config, body, secret_keys):
            granted.setdefault(account, set()).add(secret)
    return granted


def _granted_secret_names(config: TerraformConfig, body: Body, secret_keys: Mapping[str, Any]) -> set[str]:
    match = re.fullmatch(
        r"\$\{(google_secret_manager_secret\.\w+)\[(.+?)\]\.(?:secret_id|id)\}", str(body["secret_id"])
    )
    if match is None or match.group(1) not in secret_keys:
        raise UnresolvableError(f"cannot tell which secret {body['secret_id']!r} is")
    key = match.group(2)
    if key.startswith('"'):
        names = {key.strip('"')}
    elif key == "each.value":
        names = {str(item) for item in resolve(config, body["for_each"])}
    elif key == "each.key":
        names = set(resolve(config, body["for_each"]))
    else:
        raise UnresolvableError(f"cannot tell which secret {body['secret_id']!r} is")
    unknown = names - set(secret_keys[match.group(1)])
    if unknown:
        raise UnresolvableError(f"grants on secrets that are not declared: {sorted(unknown)}")
    return names


def check_public_access(config: TerraformConfig) -> Problems:
    """allUsers / allAuthenticatedUsers only as run.invoker on the order_webhook function's service."""
    problems: Problems = []
    webhook = _function_address(config, PUBLIC_ENTRY_POINT)
    public_grant_on_webhook = False
    for address, body in config.all_blocks():
        public = sorted(PUBLIC_MEMBERS & set(_strings(body)))
        if not public:
            continue
        allowed = (
            address.startswith(f"{RUN_SERVICE_MEMBER}.")
            and body.get("role") == INVOKER
            and webhook is not None
            and _mentions(body.get("name"), webhook)
        )
        if allowed:
            public_grant_on_webhook = True
        else:
            problems.append(f"{address}: grants {public} access; only the order webhook may be public")
    if not public_grant_on_webhook:
        problems.append("the order webhook has no allUsers run.invoker grant: Medusa could not call it")
    return problems


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _function_address(config: TerraformConfig, entry_point: str) -> str | None:
    for name, body in config.of_type(FUNCTION).items():
        if _first(body, "build_config").get("entry_point") == entry_point:
            return f"{FUNCTION}.{name}"
    return None


def check_private_functions(config: TerraformConfig) -> Problems:
    """Every other function answers only the worker: run.invoker for the worker's service account alone,
    and no project-wide Cloud Run role that would reach every service."""
    problems: Problems = []
    worker = components(config).get(WORKER)
    expected = {(INVOKER, worker.service_account if worker else None)}
    for name, body in config.of_type(FUNCTION).items():
        address = f"{FUNCTION}.{name}"
        if _first(body, "build_config").get("entry_point") == PUBLIC_ENTRY_POINT:
            continue
        grants = _grants_on_function(config, address, body, problems)
        if grants != expected:
            shown = sorted(f"{role} {member}" for role, member in grants)
            problems.append(f"{address}: grants {shown}, expected only run.invoker for the worker")
    for address, body in config.all_blocks():
        roles = [str(body.get("role", "")), *(str(b.get("role", "")) for b in body.get("binding", []))]
        project_wide = re.match(r"(data\.)?google_(project|folder|organization)_iam_", address)
        if project_wide and any(role.startswith(("roles/run.", "roles/cloudfunctions.")) for role in roles):
            problems.append(f"{address}: a project-wide Cloud Run or Functions role reaches every service")
    return problems


def _grants_on_function(
    config: TerraformConfig, function: str, body: Body, problems: Problems
) -> set[tuple[str, str | None]]:
    """(role, service account or member) of every IAM grant on the function or its Cloud Run service."""
    name_expression = body.get("name")
    grants: set[tuple[str, str | None]] = set()
    for address, grant in config.all_blocks():
        if "_iam_" not in address:
            continue
        targets = (grant.get("name"), grant.get("cloud_function"), grant.get("service"))
        if not any(_mentions(t, function) or (t is not None and t == name_expression) for t in targets):
            continue
        if "iam_member" not in address:
            problems.append(f"{address}: use per-member IAM grants on {function}")
            continue
        member = grant.get("member")
        grants.add((str(grant.get("role")), service_account_of(member) or str(member)))
    return grants


def check_secret_references(config: TerraformConfig) -> Problems:
    """Each secret environment variable reads the secret its for_each entry names, at a pinned version."""
    problems: Problems = []
    for name, body in config.of_type(FUNCTION).items():
        service = _first(body, "service_config")
        for block in service.get("secret_environment_variables", []):
            problems += _secret_ref_problems(f"{FUNCTION}.{name}", _quoted_secret(block), block)
        for dynamic in _dynamic(service, "secret_environment_variables"):
            content = _first(dynamic, "content")
            problems += _secret_ref_problems(f"{FUNCTION}.{name}", _secret_index(content.get("key")), content)
    for address, _component, task in _container_templates(config):
        for container in task.get("containers", []):
            for env in container.get("env", []):
                if "value_source" in env:
                    ref = _first(_first(env, "value_source"), "secret_key_ref")
                    problems += _secret_ref_problems(address, _quoted_secret(ref), ref)
            for dynamic in _dynamic(container, "env"):
                content = _first(dynamic, "content")
                if "value_source" in content:
                    ref = _first(_first(content, "value_source"), "secret_key_ref")
                    problems += _secret_ref_problems(address, _secret_index(content.get("name")), ref)
    return problems


def _container_templates(config: TerraformConfig) -> Iterator[tuple[str, str, Body]]:
    """(address, component name, task template) of every Cloud Run job and worker pool."""
    for name, body in config.of_type(JOB).items():
        yield f"{JOB}.{name}", JOB_COMPONENTS.get(name, name), _first(_first(body, "template"), "template")
    for name, body in config.of_type(WORKER_POOL).items():
        yield (
            f"{WORKER_POOL}.{name}",
            WORKER_POOL_COMPONENT if name == "worker" else name,
            _first(body, "template"),
        )


def _quoted_secret(reference: Body) -> str:
    match = re.search(r'\["(\w+)"\]', str(reference.get("secret")))
    return f'"{match.group(1)}"' if match else "?"


def _secret_index(name_expression: Any) -> str:
    """The expression that must index the secret: `X.value` whether the name is `X.key` (a map from
    variable name to secret) or `X.value` (a list of names that are their own secrets)."""
    return re.sub(r"\.key$", ".value", _inner(name_expression))


def _inner(expression: Any) -> str:
    """`${x.y}` -> `x.y`."""
    text = str(expression)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _secret_ref_problems(address: str, index: str, reference: Body) -> Problems:
    """`index` is what must select the secret: a quoted literal or an iterator expression."""
    problems: Problems = []
    secret = re.fullmatch(rf"\$\{{{SECRET}\.\w+\[(.+)\]\.(?:secret_id|id)\}}", str(reference.get("secret")))
    if secret is None or secret.group(1) != index:
        problems.append(f"{address}: {index} reads secret {reference.get('secret')!r}, not its own")
    version = str(reference.get("version"))
    if not (version.isdigit() or version == f"${{local.secret_versions[{index}]}}"):
        problems.append(f"{address}: {index} uses version {version!r}; pin it through secret_versions")
    return problems


def check_secret_sources(config: TerraformConfig) -> Problems:
    """A secret setting reads the secret of the same name, except ZEEBE_CLIENT_SECRET, which reads the
    component's own Camunda client secret (CAMUNDA_CLIENT_SECRETS)."""
    try:
        found = components(config)
    except UnresolvableError as exc:
        return [f"secret sources: {exc}"]
    problems: Problems = []
    for component in found.values():
        for env, secret in sorted(component.secret_sources.items()):
            expected = CAMUNDA_CLIENT_SECRETS.get(component.name) if env == "ZEEBE_CLIENT_SECRET" else env
            if secret != expected:
                problems.append(f"{component.address}: {env} reads secret {secret}, expected {expected}")
    return problems


def check_ingress(config: TerraformConfig) -> Problems:
    """The webhook takes traffic from anywhere (Medusa); every other function internal traffic only."""
    problems: Problems = []
    for name, body in config.of_type(FUNCTION).items():
        address = f"{FUNCTION}.{name}"
        ingress = _first(body, "service_config").get("ingress_settings")
        if _first(body, "build_config").get("entry_point") == PUBLIC_ENTRY_POINT:
            if ingress != "ALLOW_ALL":
                problems.append(
                    f"{address}: ingress {ingress!r}; Medusa calls it from the internet: ALLOW_ALL"
                )
        elif ingress != "ALLOW_INTERNAL_ONLY":
            problems.append(f"{address}: ingress {ingress!r}; only the worker calls it: ALLOW_INTERNAL_ONLY")
    return problems


def check_worker_vpc_egress(config: TerraformConfig) -> Problems:
    """Each worker deployment sends all its traffic through the VPC (Direct VPC egress), so its requests to
    the internal-only status function count as internal."""
    problems: Problems = []
    for address, component, task in _container_templates(config):
        if component not in WORKER_DEPLOYMENTS:
            continue
        access = _first(task, "vpc_access")
        interface = _first(access, "network_interfaces")
        if access.get("egress") != "ALL_TRAFFIC":
            problems.append(f"{address}: vpc_access egress {access.get('egress')!r}, expected ALL_TRAFFIC")
        if (
            interface.get("network") != "${var.vpc_network}"
            or interface.get("subnetwork") != "${var.vpc_subnetwork}"
        ):
            problems.append(f"{address}: no Direct VPC egress through var.vpc_network / var.vpc_subnetwork")
    return problems


def check_worker_runtimes(config: TerraformConfig) -> Problems:
    """The worker job and the worker pool exist one at a time, chosen by var.worker_runtime."""
    job = config.of_type(JOB).get("worker", {})
    pool = config.of_type(WORKER_POOL).get("worker", {})
    problems: Problems = []
    if job.get("count") != "${local.worker_on_job ? 1 : 0}":
        problems.append(f"{JOB}.worker: count {job.get('count')!r} is not local.worker_on_job ? 1 : 0")
    if pool.get("count") != "${local.worker_on_pool ? 1 : 0}":
        problems.append(
            f"{WORKER_POOL}.worker: count {pool.get('count')!r} is not local.worker_on_pool ? 1 : 0"
        )
    expected = {
        "worker_on_job": '${var.worker_runtime == "job"}',
        "worker_on_pool": '${var.worker_runtime == "worker_pool"}',
    }
    for name, expression in expected.items():
        if config.locals.get(name) != expression:
            problems.append(f"local.{name} is {config.locals.get(name)!r}, expected {expression}")
    return problems


def check_no_secret_values(config: TerraformConfig) -> Problems:
    """No secret versions or secret literals in the config; no variable that would carry a secret value."""
    problems: Problems = [
        f"{SECRET_VERSION}.{name}: secret values must not be in Terraform (state holds them in plain text)"
        for name in config.of_type(SECRET_VERSION)
    ]
    for file_name, text in sorted(config.texts.items()):
        for pattern in SECRET_LITERALS:
            for match in pattern.finditer(text):
                problems.append(f"{file_name}: secret-looking literal {match.group(0)[:10]}...")
    for name in sorted(config.variables):
        if name.upper() in KNOWN_SECRET_SETTINGS:
            problems.append(f"variable {name}: a secret value would pass through Terraform state")
    return problems


def check_no_medusa_admin_key(config: TerraformConfig) -> Problems:
    """No Medusa admin credential anywhere in terraform/, in the config or its documents (ADMIN_KEY_MARKS)."""
    problems: Problems = []
    for file_name, text in sorted({**config.texts, **config.documents}.items()):
        for number, line in enumerate(text.splitlines(), start=1):
            for pattern in ADMIN_KEY_MARKS:
                for match in pattern.finditer(line):
                    problems.append(
                        f"{file_name}:{number}: {match.group(0)!r}: the cloud side holds no Medusa API key"
                    )
    return problems


def check_webhook_has_no_medusa_setting(config: TerraformConfig) -> Problems:
    """The order webhook makes no call to Medusa: the plugin signs what the process needs into the event."""
    webhook = components(config).get(PUBLIC_ENTRY_POINT)
    if webhook is None:
        return ["the order webhook function is missing"]
    return [
        f"{webhook.address}: gets {name}, but the order webhook never calls Medusa"
        for name in sorted(webhook.plain_env | webhook.secret_env)
        if name.startswith("MEDUSA_")
    ]


def check_service_accounts(config: TerraformConfig) -> Problems:
    """One service account of our own per component; no default accounts, no basic or admin roles."""
    problems: Problems = []
    accounts = set(config.of_type(SERVICE_ACCOUNT))
    seen: dict[str, str] = {}
    for component in components(config).values():
        account = component.service_account
        # The worker job and the worker pool are one component deployed one way or the other.
        owner = WORKER if component.name in WORKER_DEPLOYMENTS else component.address
        if account is None or account not in accounts:
            problems.append(f"{component.address}: runs without a service account declared here")
        elif account in seen and seen[account] != owner:
            problems.append(f"{component.address}: shares service account {account} with {seen[account]}")
        else:
            seen[account] = owner
    for file_name, text in sorted(config.texts.items()):
        if DEFAULT_ACCOUNTS.search(text):
            problems.append(f"{file_name}: refers to a default service account")
    for address, body in config.all_blocks():
        for role in [body.get("role"), *(binding.get("role") for binding in body.get("binding", []))]:
            if isinstance(role, str) and BROAD_ROLES.search(role):
                problems.append(f"{address}: grants the broad role {role}")
    return problems


def check_worker_settings(config: TerraformConfig) -> Problems:
    """The worker calls the status function with an ID token and stops before its task timeout."""
    worker = components(config).get(WORKER)
    status = next(
        (a for a in _function_addresses(config) if a != _function_address(config, PUBLIC_ENTRY_POINT)), None
    )
    if worker is None or status is None:
        return ["the worker job or the status function is missing"]
    env = plain_env_values(config, worker)
    problems: Problems = []
    if not _mentions(env.get("STATUS_UPDATE_URL"), status):
        problems.append(f"STATUS_UPDATE_URL is {env.get('STATUS_UPDATE_URL')!r}, not the URL of {status}")
    if str(env.get("STATUS_UPDATE_USE_ID_TOKEN")).lower() != "true":
        problems.append("STATUS_UPDATE_USE_ID_TOKEN must be true: the status function is private")
    task = _first(_first(config.of_type(JOB)[worker.address.split(".")[1]], "template"), "template")
    timeout = re.fullmatch(r"\$\{var\.(\w+)\}s", str(task.get("timeout")))
    runtime = str(env.get("WORKER_MAX_RUNTIME_SECONDS"))
    if timeout is None or not re.search(rf"var\.{timeout.group(1)}\s*-\s*", runtime):
        problems.append(
            f"WORKER_MAX_RUNTIME_SECONDS {runtime!r} is not derived from the task timeout minus a margin"
        )
    return problems


def _function_addresses(config: TerraformConfig) -> list[str]:
    return [f"{FUNCTION}.{name}" for name in config.of_type(FUNCTION)]


def check_scheduler(config: TerraformConfig) -> Problems:
    """Every Cloud Run job has one scheduler that POSTs its jobs:run, present exactly when the job is, with an
    OAuth token of one account that may run the scheduled jobs and nothing else."""
    problems: Problems = []
    jobs = {f"{JOB}.{name}": body for name, body in config.of_type(JOB).items()}
    triggered: dict[str, list[str]] = {}
    accounts: set[str] = set()
    for name, body in config.of_type(SCHEDULER).items():
        address = f"{SCHEDULER}.{name}"
        target = _first(body, "http_target")
        job = _scheduled_job(str(target.get("uri")))
        if job not in jobs:
            problems.append(
                f"{address}: uri {target.get('uri')!r} is not the jobs:run endpoint of a job here"
            )
            continue
        triggered.setdefault(job, []).append(address)
        if body.get("count") != jobs[job].get("count"):
            problems.append(f"{address}: count {body.get('count')!r} differs from {job}'s")
        if target.get("http_method") != "POST":
            problems.append(f"{address}: http_method must be POST")
        account = service_account_of(_first(target, "oauth_token").get("service_account_email"))
        if account is None:
            problems.append(f"{address}: no oauth_token with one of our service accounts")
        else:
            accounts.add(account)
    for job in sorted(jobs):
        if len(triggered.get(job, [])) != 1:
            problems.append(f"{job}: started by {len(triggered.get(job, []))} schedulers, expected 1")
    for account in sorted(accounts):
        problems.extend(_scheduler_grants(config, account, jobs))
    return problems


_JOBS_RUN: Final = re.compile(
    r"^https://run\.googleapis\.com/v2/projects/\$\{var\.project_id\}/locations/\$\{var\.region\}"
    r"/jobs/\$\{(google_cloud_run_v2_job\.\w+)(?:\[0\])?\.name\}:run$"
)


def _scheduled_job(uri: str) -> str | None:
    match = _JOBS_RUN.fullmatch(uri)
    return match.group(1) if match else None


def _scheduler_grants(config: TerraformConfig, account: str, jobs: Mapping[str, Body]) -> Problems:
    """The scheduler's account holds run.invoker on each job (gated like it) and no other role anywhere."""
    problems: Problems = []
    runs: set[str] = set()
    for address, body in config.all_blocks():
        if service_account_of(body.get("member")) != account and not any(
            service_account_of(member) == account for member in body.get("members", [])
        ):
            continue
        job = next((job for job in jobs if _mentions(body.get("name"), job)), None)
        if address.startswith(f"{RUN_JOB_MEMBER}.") and body.get("role") == INVOKER and job is not None:
            runs.add(job)
            if body.get("count") != jobs[job].get("count"):
                problems.append(f"{address}: count {body.get('count')!r} differs from {job}'s")
        else:
            problems.append(f"{address}: the scheduler's account {account} may only run {sorted(jobs)}")
    for job in sorted(set(jobs) - runs):
        problems.append(f"the scheduler's account {account} has no run.invoker on {job}")
    return problems


def check_threads_match_concurrency(config: TerraformConfig) -> Problems:
    """Each function's server runs as many threads as Cloud Run sends it requests at once."""
    problems: Problems = []
    for name, body in config.of_type(FUNCTION).items():
        address = f"{FUNCTION}.{name}"
        service = _first(body, "service_config")
        concurrency = _inner(service.get("max_instance_request_concurrency"))
        try:
            threads = resolve(config, service.get("environment_variables", {})).get("THREADS")
        except UnresolvableError as exc:
            problems.append(f"{address}: {exc}")
            continue
        if not concurrency or threads is None or concurrency not in _inner(threads):
            problems.append(
                f"{address}: THREADS ({threads}) must follow max_instance_request_concurrency ({concurrency})"
            )
    return problems


ALL_CHECKS: Final = (
    "check_env_matches_settings",
    "check_threads_match_concurrency",
    "check_secret_access",
    "check_one_reader_per_party_secret",
    "check_no_medusa_admin_key",
    "check_webhook_has_no_medusa_setting",
    "check_public_access",
    "check_private_functions",
    "check_ingress",
    "check_secret_references",
    "check_no_secret_values",
    "check_service_accounts",
    "check_worker_settings",
    "check_scheduler",
    "check_secret_sources",
    "check_worker_vpc_egress",
    "check_worker_runtimes",
)
