"""The benchmark report: markdown, PNG figures, GIF animations, unreadable run directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image

from autocurriculum.bench import report
from autocurriculum.bench.runner import RunDirError, run_benchmark

TEACHERS = ["random", "adr", "spdl"]


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    run_benchmark(
        TEACHERS,
        ["grid-2d", "arms-chain"],
        2,
        out=out,
        episodes=1000,
        workers=2,
        progress=False,
    )
    report.write_report(out)
    return out


def _image(path: Path) -> Image.Image:
    assert path.stat().st_size > 0, path
    with Image.open(path) as im:
        im.verify()  # raises on a truncated or corrupt file
    return Image.open(path)


def test_report_files(reported: Path):
    figures = reported / "figures"
    expected_png = ["curves_grid-2d.png", "curves_arms-chain.png", "arms_arms-chain.png"]
    expected_png += [f"sampling_{t}__grid-2d.png" for t in TEACHERS]
    for name in expected_png:
        im = _image(figures / name)
        assert im.format == "PNG"
        assert min(im.size) > 100
    for t in TEACHERS:
        gif = _image(figures / f"anim_{t}__grid-2d.gif")
        assert gif.format == "GIF"
        # 1,000 episodes evaluated every 100: one frame per snapshot, episode 0 included.
        assert gif.n_frames == 11
    # Box-only teachers are not pictured on the arms scenario.
    assert not (figures / "sampling_adr__arms-chain.png").exists()


def test_markdown_mentions_every_teacher_and_links_figures(reported: Path):
    text = (reported / "report.md").read_text()
    for t in TEACHERS:
        assert f"| {t} " in text or f"| **{t}** " in text, t
    for link in (
        "figures/curves_grid-2d.png",
        "figures/arms_arms-chain.png",
        "figures/anim_adr__grid-2d.gif",
        "figures/sampling_spdl__grid-2d.png",
    ):
        assert f"({link})" in text
        assert (reported / link).is_file()
    assert "2 seeds" in text
    assert "bootstrap" in text
    # adr and spdl cannot serve the discrete arms scenario: the report says so.
    assert "## Not run" in text
    assert "- adr: not on arms-chain" in text


def test_unreadable_run_names_the_file(reported: Path, tmp_path: Path):
    with pytest.raises(RunDirError, match=r"config\.json is missing"):
        report.write_report(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(reported, copy)
    raw = copy / "raw" / "spdl__grid-2d__seed1.json"
    raw.write_text(raw.read_text()[:50])
    with pytest.raises(RunDirError, match=r"raw/spdl__grid-2d__seed1\.json .* is corrupt"):
        report.write_report(copy)
    meta = json.loads((reported / "raw" / "spdl__grid-2d__seed1.json").read_text())
    meta["job"]["seed"] = 7  # a file from another job
    raw.write_text(json.dumps(meta))
    with pytest.raises(RunDirError, match=r"spdl__grid-2d__seed1\.json .* does not describe"):
        report.write_report(copy)


def test_model_drawing_geometry():
    mpl = report._matplotlib()
    fig = report._new_figure(mpl, 3, 3)
    ax = fig.add_subplot()
    model = {
        "gaussians": [
            {"mean": [0.5, 0.4], "cov": [[0.04, 0.0], [0.0, 0.01]], "weight": 1.0, "value": 1.0}
        ],
        "boxes": [{"low": [0.1, 0.2], "high": [0.3, 0.6], "value": 0.0}],
    }
    norm = mpl.colors.Normalize(0.0, 1.0)
    ellipse, box = report._draw_model(mpl, ax, model, norm, mpl.colormaps["plasma"])
    # 2-sigma ellipse: sds 0.2 and 0.1 give axes 0.8 and 0.4, the long one along x.
    assert ellipse.center == pytest.approx((0.5, 0.4))
    assert ellipse.width == pytest.approx(0.8)
    assert ellipse.height == pytest.approx(0.4)
    assert ellipse.angle % 180 == pytest.approx(0.0)
    assert box.get_xy() == pytest.approx((0.1, 0.2))
    assert box.get_width() == pytest.approx(0.2)
    assert box.get_height() == pytest.approx(0.4)
    # Colour encodes the value: the ellipse at the top of the scale, the box at the bottom.
    np.testing.assert_allclose(ellipse.get_edgecolor(), mpl.colormaps["plasma"](1.0))
    np.testing.assert_allclose(box.get_edgecolor(), mpl.colormaps["plasma"](0.0))
