"""Stand-ins for `gcloud` and `terraform`, written onto PATH by the tests: each call is appended to a JSON
lines log, and what the real tools would keep (secret versions, images, buckets, applied plans) lives in a
JSON state file, so a second run sees what the first one did. They answer as the real tools do where the
deploy reads their output, and refuse what the real services would refuse at that point (a secret or a
repository before the foundations exist)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

PROLOGUE: Final = f"""#!{sys.executable}
import hashlib, json, os, sys
from pathlib import Path

STATE = Path(os.environ["FAKE_CLOUD_STATE"])
LOG = Path(os.environ["FAKE_CLOUD_LOG"])


def load():
    return json.loads(STATE.read_text())


def save(state):
    STATE.write_text(json.dumps(state))


def record(tool, **facts):
    with LOG.open("a") as log:
        log.write(json.dumps({{"tool": tool, "argv": sys.argv[1:], **facts}}) + "\\n")


def option(name):
    for arg in sys.argv[1:]:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def fail(message, code=1):
    sys.stderr.write(message + "\\n")
    sys.exit(code)
"""

GCLOUD: Final = (
    PROLOGUE
    + """
args = [arg for arg in sys.argv[1:] if not arg.startswith("--project=")]
state = load()
founded = "foundations" in state["terraform"]
words = [arg for arg in args if not arg.startswith("-")]
command = " ".join(words[:3])


def is_(*prefix):
    return words[: len(prefix)] == list(prefix)


if os.environ.get("FAKE_FAIL") and command.startswith(os.environ["FAKE_FAIL"]):
    record("gcloud", failed=True)
    fail(f"ERROR: (gcloud.{command.replace(' ', '.')}) PERMISSION_DENIED: the caller lacks a permission")

if is_("services", "enable"):
    record("gcloud")
elif is_("storage", "buckets", "describe"):
    record("gcloud")
    if words[3] not in state["buckets"]:
        fail(f"ERROR: (gcloud.storage.buckets.describe) {words[3]} not found: 404.")
    print(words[3].removeprefix("gs://"))
elif is_("storage", "buckets", "create"):
    record("gcloud")
    state["buckets"].append(words[3])
elif is_("storage", "buckets", "update"):
    record("gcloud")
elif is_("secrets", "versions", "list"):
    record("gcloud")
    if not founded:
        fail(f"ERROR: (gcloud.secrets.versions.list) NOT_FOUND: Secret [{words[3]}] not found.")
    versions = state["secrets"].get(words[3], [])
    prefix = f"projects/123/secrets/{words[3]}/versions/"
    print(json.dumps([{"name": prefix + v["number"], "state": v["state"]} for v in versions]))
elif is_("secrets", "versions", "add"):
    value = sys.stdin.read()
    record("gcloud", stdin_bytes=len(value))
    if not founded:
        fail(f"ERROR: (gcloud.secrets.versions.add) NOT_FOUND: Secret [{words[3]}] not found.")
    versions = state["secrets"].setdefault(words[3], [])
    number = str(len(versions) + 1)
    versions.append({"number": number, "state": "ENABLED", "value": value})
    print(f"projects/123/secrets/{words[3]}/versions/{number}")
elif is_("artifacts", "docker", "images", "describe"):
    record("gcloud")
    if not founded:
        fail("ERROR: (gcloud.artifacts.docker.images.describe) NOT_FOUND: Repository not found")
    if words[4] not in state["images"]:
        fail("ERROR: (gcloud.artifacts.docker.images.describe) Image not found.\\n\\nA valid image ...")
    print("sha256:" + hashlib.sha256(words[4].encode()).hexdigest())
elif is_("builds", "submit"):
    record("gcloud")
    if not founded:
        fail("ERROR: (gcloud.builds.submit) PERMISSION_DENIED: the build account cannot push")
    image = option("--substitutions").removeprefix("_IMAGE=")
    print(f"pushing {image}")
    state["images"].append(image)
elif is_("run", "jobs", "execute"):
    record("gcloud")
else:
    record("gcloud", unexpected=True)
    fail(f"fake gcloud: unexpected command {args}", 2)
save(state)
"""
)

TERRAFORM: Final = (
    PROLOGUE
    + """
state = load()
verb = sys.argv[1]


def fingerprint(kind):
    digest = hashlib.sha256(Path(option("-var-file")).read_bytes())
    if kind == "deployment":  # the foundations depend on neither the image tag nor the function sources
        digest.update(json.dumps(sorted(a for a in sys.argv if a.startswith("-var="))).encode())
        for zip_file in sorted(Path("../.build/functions").glob("*.zip")):
            digest.update(zip_file.read_bytes())
    return digest.hexdigest()


def model_deployed():
    from fulfillment.camunda_api import CamundaApi

    with CamundaApi(os.environ["FAKE_ENGINE_API_URL"]) as api:
        return api.latest_process_definition("order-fulfillment") is not None


if verb == "init":
    record("terraform")
    print("Terraform has been successfully initialized!")
elif verb == "plan":
    kind = "foundations" if any(a.startswith("-target=") for a in sys.argv) else "deployment"
    unchanged = state["terraform"].get(kind) == fingerprint(kind)
    record("terraform", kind=kind, changes=not unchanged)
    if unchanged:
        print("No changes. Your infrastructure matches the configuration.")
        sys.exit(0)
    Path(option("-out")).write_text(json.dumps({"kind": kind, "fingerprint": fingerprint(kind)}))
    print(f"Plan: 12 to add, 0 to change, 0 to destroy. ({kind})")
    sys.exit(2)
elif verb == "apply":
    plan = json.loads(Path(sys.argv[-1]).read_text())
    facts = {"kind": plan["kind"]}
    if plan["kind"] == "deployment":  # what the real apply needs and what exposes the webhook
        facts["secret_versions_present"] = sorted(name for name, found in state["secrets"].items() if found)
        facts["images_present"] = list(state["images"])
        facts["model_deployed"] = model_deployed()
    record("terraform", **facts)
    state["terraform"][plan["kind"]] = plan["fingerprint"]
    print("Apply complete!")
elif verb == "output":
    record("terraform")
    applied = "deployment" in state["terraform"]
    print(json.dumps({name: {"sensitive": False, "type": "string", "value": value}
                      for name, value in state["outputs"].items()} if applied else {}))
else:
    record("terraform", unexpected=True)
    fail(f"fake terraform: unexpected command {sys.argv[1:]}", 2)
save(state)
"""
)


@dataclass(frozen=True)
class FakeCloud:
    bin_dir: Path
    state_path: Path
    log_path: Path

    @classmethod
    def install(cls, directory: Path, outputs: Mapping[str, Any]) -> FakeCloud:
        bin_dir = directory / "bin"
        bin_dir.mkdir(parents=True)
        for name, text in (("gcloud", GCLOUD), ("terraform", TERRAFORM)):
            script = bin_dir / name
            script.write_text(text)
            script.chmod(script.stat().st_mode | stat.S_IXUSR)
        state = {"secrets": {}, "images": [], "buckets": [], "terraform": {}, "outputs": dict(outputs)}
        cloud = cls(bin_dir, directory / "cloud-state.json", directory / "cloud-calls.jsonl")
        cloud.state_path.write_text(json.dumps(state))
        cloud.log_path.touch()
        return cloud

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_CLOUD_STATE": str(self.state_path),
            "FAKE_CLOUD_LOG": str(self.log_path),
        }

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_path.read_text())
        return data


def command(call: Mapping[str, Any]) -> str:
    """A call as `tool word word word` (its first words without options), for order assertions."""
    words = [arg for arg in call["argv"] if not arg.startswith("-")]
    return " ".join([call["tool"], *words[:3]])
