"""`python -m bench` gathers the benchmarks' rows and rewrites the README's table.

Nothing is measured here: the benchmarks' output is canned, in the shape
their --json prints (a "rows" list, as their own tables show them).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

import bench.__main__ as runner

TODAY = datetime.date(2026, 11, 28)

SIMILAR = {
    "benchmark": "similar",
    "claims": 100000,
    "reworded_ms": 34.4,
    "rows": [
        [
            "suggestions for a reworded claim, median of 50",
            "34.4 ms",
            "< 50 ms",
            "no index (every row scored): 946.0 ms",
            "1/27",
        ],
        ["  95th percentile / given up (no suggestions)", "122.0 ms / 0", "", "timeout: 250", ""],
    ],
    "caveat": "Machine: 2 cores",
}
API = {
    "benchmark": "api",
    "rows": [
        ["round 1: anchor", "2,000 req/s", "", "", "", ""],
        [
            "round 1: claims list",
            "450 req/s",
            "≥ 500/s, p99 < 250 ms",
            "2,000 req/s",
            "0.23×",
            "MISSED",
        ],
        ["  CPU per request", "1.00 / 0.20 ms", "", "", "", ""],
    ],
}
README = """# Project

## Benchmarks

Intro stays.

<!-- bench:begin -->
Latest figures, 2026-11-25, on the CI machine:

| benchmark | figure | target | anchor (same run) | ratio |
|---|---|---|---|---|
| reader: server render | 38.8 ms | ≤ 150 ms | 0 claims: 13.7 ms | 2.8× |
| similar claims: old wording of the row | 40.0 ms | < 50 ms | no index | 1/20 |
| agreement: full run | 9.53 s | < 10 s | exact-match run: 8.01 s | 1.19× |
| exports: JSONL | 18,798 claims/s | ≥ 20,000/s | psql | 2.1× |
<!-- bench:end -->

Anchors from other tools stay too.
"""


def result(payload: dict) -> runner.Result:
    name = payload["benchmark"]
    return runner.Result(name, rows=runner.rows_from_payload(name, payload))


def test_a_benchmarks_rows_keep_figure_value_target_anchor_and_ratio():
    first, sub = runner.rows_from_payload("similar", SIMILAR)
    assert (first.figure, first.value, first.target, first.anchor, first.ratio) == (
        "suggestions for a reworded claim, median of 50",
        "34.4 ms",
        "< 50 ms",
        "no index (every row scored): 946.0 ms",
        "1/27",
    )
    assert first.headline
    assert not sub.headline


def test_the_apis_sixth_column_says_whether_the_target_was_met():
    anchor, listing, cpu = runner.rows_from_payload("api", API)
    assert listing.ratio == "0.23× (target missed)"
    assert anchor.ratio == ""
    assert not cpu.headline


def test_output_is_read_even_after_a_stray_line():
    stdout = "a stray line\n" + json.dumps(SIMILAR, indent=2)
    assert runner.parse_output(stdout)["benchmark"] == "similar"


def test_the_printed_table_has_every_row_with_its_benchmark():
    failed = runner.Result("agreement", returncode=2, error="exited with status 2")
    text = runner.text_table([result(SIMILAR), result(API), failed])
    lines = text.splitlines()
    assert lines[0].split() == ["figure", "value", "target", "anchor", "(same", "run)", "ratio"]
    assert any(line.startswith("similar: suggestions for a reworded claim") for line in lines)
    assert any("similar:   95th percentile" in line for line in lines)
    assert any(line.startswith("api: round 1: claims list") for line in lines)
    assert lines[-1].startswith("agreement: FAILED")


def test_the_readme_table_is_replaced_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    runner.write_readme(readme, [result(SIMILAR), result(API)], TODAY)
    text = readme.read_text()
    assert text.startswith("# Project\n\n## Benchmarks\n\nIntro stays.\n\n<!-- bench:begin -->\n")
    assert text.endswith("<!-- bench:end -->\n\nAnchors from other tools stay too.\n")
    block = text.split("<!-- bench:begin -->\n")[1].split("<!-- bench:end -->")[0]
    date_line, blank, header, rule, *rows = block.strip("\n").splitlines()
    assert blank == ""
    assert date_line.startswith("Latest figures, 2026-11-28, from `python -m bench` (similar, api")
    assert "-core" in date_line
    assert "earlier run" in date_line  # reader's and exports' rows were kept
    assert header == "| benchmark | figure | target | anchor (same run) | ratio |"
    assert rule == "|---|---|---|---|---|"
    assert rows == [
        "| reader: server render | 38.8 ms | ≤ 150 ms | 0 claims: 13.7 ms | 2.8× |",
        "| agreement: full run | 9.53 s | < 10 s | exact-match run: 8.01 s | 1.19× |",
        "| similar: suggestions for a reworded claim, median of 50 | 34.4 ms | < 50 ms "
        "| no index (every row scored): 946.0 ms | 1/27 |",
        "| exports: JSONL | 18,798 claims/s | ≥ 20,000/s | psql | 2.1× |",
        "| api: round 1: anchor | 2,000 req/s |  |  |  |",
        "| api: round 1: claims list | 450 req/s | ≥ 500/s, p99 < 250 ms | 2,000 req/s "
        "| 0.23× (target missed) |",
    ]


def test_rows_named_after_a_benchmarks_subject_are_kept_as_its_own(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    runner.write_readme(readme, [result(API)], TODAY)
    assert "| similar claims: old wording of the row |" in readme.read_text()


def test_a_full_run_replaces_every_row_and_says_nothing_was_kept(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    payloads = [SIMILAR, API] + [
        {"benchmark": name, "rows": [[f"{name} figure", "1 s", "< 2 s", "x: 2 s", "0.5×"]]}
        for name in ("reader", "agreement", "exports")
    ]
    runner.write_readme(readme, [result(p) for p in payloads], TODAY)
    text = readme.read_text()
    assert "38.8 ms" not in text
    assert "earlier run" not in text
    assert "| reader: reader figure | 1 s | < 2 s | x: 2 s | 0.5× |" in text
    # Written twice, the same: the markers stay, once each.
    runner.write_readme(readme, [result(p) for p in payloads], TODAY)
    assert readme.read_text() == text
    assert text.count("<!-- bench:begin -->") == text.count("<!-- bench:end -->") == 1


def test_a_pipe_in_a_cell_does_not_break_the_table():
    row = runner.Row("exports", "CSV | zip", "1 s")
    assert runner.markdown_row(row) == "| exports: CSV \\| zip | 1 s |  |  |  |"


def test_a_readme_without_markers_is_left_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# No table here\n")
    with pytest.raises(SystemExit, match="markers"):
        runner.write_readme(readme, [result(SIMILAR)], TODAY)
    assert readme.read_text() == "# No table here\n"


def test_the_command_runs_the_chosen_benchmarks_and_writes_the_readme(
    tmp_path, monkeypatch, capsys
):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    ran = []

    def fake_run(name: str) -> runner.Result:
        ran.append(name)
        return result({"similar": SIMILAR, "api": API}[name])

    monkeypatch.setattr(runner, "run", fake_run)
    code = runner.main(["--only", "api,similar", "--write-readme", "--readme", str(readme)])
    assert code == 0
    assert ran == ["similar", "api"]  # in the README's order, not the option's
    assert "similar: suggestions for a reworded claim" in capsys.readouterr().out
    assert "| api: round 1: claims list |" in readme.read_text()


def test_a_failed_benchmark_leaves_the_readme_alone(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    monkeypatch.setattr(
        runner, "run", lambda name: runner.Result(name, returncode=1, error="exited with 1")
    )
    assert runner.main(["--only", "reader", "--write-readme", "--readme", str(readme)]) == 1
    assert readme.read_text() == README
    assert "Failed: reader" in capsys.readouterr().err


def test_an_unknown_benchmark_is_refused(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--only", "readr"])
    assert "no benchmark readr" in capsys.readouterr().err


def test_the_json_output_holds_every_row(monkeypatch, capsys):
    monkeypatch.setattr(runner, "run", lambda name: result(SIMILAR))
    assert runner.main(["--only", "similar", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    (similar,) = payload["results"]
    assert similar["rows"][0]["value"] == "34.4 ms"


def test_the_real_readme_has_the_markers():
    text = (Path(runner.ROOT) / "README.md").read_text()
    assert text.count(runner.BEGIN) == text.count(runner.END) == 1
    assert text.index(runner.BEGIN) < text.index(runner.END)


@pytest.mark.parametrize("name", runner.BENCHMARKS)
def test_every_benchmark_puts_its_rows_in_its_json(name):
    source = (Path(runner.ROOT) / "bench" / f"{name}.py").read_text()
    assert '"rows": table_rows(' in source
