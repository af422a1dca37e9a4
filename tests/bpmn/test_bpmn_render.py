"""tools/bpmn/render.mjs draws the process model to a PNG with bpmn-js in headless Chromium."""

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_render_draws_the_whole_diagram(tmp_path: Path) -> None:
    out = tmp_path / "process.png"

    result = subprocess.run(
        ["node", "tools/bpmn/render.mjs", "bpmn/order-fulfillment.bpmn", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    width, height = png_size(out)
    # Scale factor 2 over the diagram's extent: wider than tall (main path left to right).
    assert width > 1200
    assert 600 < height < width
    # A failed import would leave an almost blank page; a drawn diagram takes real bytes.
    assert out.stat().st_size > 30_000


def test_committed_picture_is_a_png() -> None:
    width, height = png_size(REPO / "docs" / "order-fulfillment.png")
    assert width > height > 0
