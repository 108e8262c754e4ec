"""Every benchmark behind one command, one table, and the README's table regenerated from it.

    .venv/bin/python -m bench                       # all of them, one after another (~15 min)
    .venv/bin/python -m bench --only reader,similar # some of them
    .venv/bin/python -m bench --write-readme        # and replace the README's table
    .venv/bin/python -m bench --json                # the gathered rows as JSON
    .venv/bin/python -m bench --tiny                # every one at its smallest size (CI, ~3 min)

Each benchmark runs as its own `python -m bench.<name> --json` subprocess (its
progress goes to stderr as it comes) and hands back the rows of its own table
under "rows": figure, value, target, anchor, ratio (and for the API, whether
the target was met). Nothing is measured here; a benchmark that fails is
reported, the others still run, and the README is then left alone.

The README's table lies between `<!-- bench:begin -->` and `<!-- bench:end -->`.
It keeps the headline rows (those a benchmark does not indent, and indented
ones with a target of their own). With --only, the other benchmarks' rows
stay as they were.

--tiny runs each benchmark at its smallest sensible size (TINY), every check
it makes included, on scratch databases of its own (suffix _tiny) and with a
temporary directory of its own (TMPDIR), so that it never meets a full run or
another engineer's; it never writes the README. CI runs it so that no
benchmark rots between the runs whose figures are kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BENCHMARKS = ("reader", "agreement", "similar", "exports", "api", "imports", "web", "discussion")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
HEADER = ("benchmark", "figure", "target", "anchor (same run)", "ratio")
# --tiny: each benchmark's smallest sensible arguments, split on spaces. Its checks
# all still run (the reader's in Chromium, the API's and the exports' cProfile
# passes too), each on a database named apart from a full run's.
TINY: dict[str, str] = {
    "reader": "--words 2000 --claims 100 --renders 3 --navigations 1 --saves 3",
    "agreement": "--articles 300 --runs 1 --refreshes 1 --alpha-repeats 1"
    " --database workbench_bench_agreement_tiny",
    "similar": "--claims 2000 --queries 20 --database workbench_bench_similar_tiny",
    "exports": "--claims 400 --repeats 1 --profile --database workbench_bench_exports_tiny",
    "api": "--claims 400 --duration 1 --warmup 1 --rounds 1 --profile --profile-requests 20"
    " --database workbench_bench_api_tiny",
    "imports": "--claims 600 --database workbench_bench_imports_tiny",
    "web": "--pages 20 --watches 300 --database workbench_bench_web_tiny",
    "discussion": "--comments 50 --renders 5",
}


@dataclass
class Row:
    benchmark: str
    figure: str
    value: str
    target: str = ""
    anchor: str = ""
    ratio: str = ""

    @property
    def headline(self) -> bool:
        return not self.figure.startswith(" ") or bool(self.target)


@dataclass
class Result:
    benchmark: str
    rows: list[Row] = field(default_factory=list)
    returncode: int = 0
    seconds: float = 0.0
    error: str = ""


def rows_from_payload(benchmark: str, payload: dict[str, Any]) -> list[Row]:
    """A benchmark's --json "rows"; a sixth column (the API's) says if the target was met."""
    rows = []
    for raw in payload["rows"]:
        cells = [str(c) for c in raw] + [""] * (5 - len(raw))
        figure, value, target, anchor, ratio = cells[:5]
        if len(cells) > 5 and cells[5] and ratio:
            ratio = f"{ratio} (target {cells[5].lower()})"
        rows.append(Row(benchmark, figure, value, target, anchor, ratio))
    return rows


def parse_output(stdout: str) -> dict[str, Any]:
    """The JSON document a benchmark printed, even if something printed a line before it."""
    try:
        return dict(json.loads(stdout))
    except json.JSONDecodeError:
        start = stdout.find("\n{")
        if start < 0:
            raise
        return dict(json.loads(stdout[start + 1 :]))


def run(benchmark: str, arguments: Sequence[str] = (), env: dict[str, str] | None = None) -> Result:
    started = time.perf_counter()
    shown = " ".join(["--json", *arguments])
    print(f"==> python -m bench.{benchmark} {shown}", file=sys.stderr, flush=True)
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", f"bench.{benchmark}", "--json", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env=env,
    )
    result = Result(benchmark, returncode=done.returncode)
    result.seconds = time.perf_counter() - started
    if done.returncode != 0:
        result.error = f"exited with status {done.returncode} (its output is above)"
        return result
    try:
        result.rows = rows_from_payload(benchmark, parse_output(done.stdout))
    except (ValueError, KeyError, TypeError) as exc:
        result.returncode = 1
        result.error = f"printed no rows we could read: {exc}"
    return result


def text_table(results: Sequence[Result]) -> str:
    body = [
        (f"{r.benchmark}: {row.figure}", row.value, row.target, row.anchor, row.ratio)
        for r in results
        for row in r.rows
    ]
    body += [(f"{r.benchmark}: FAILED", r.error, "", "", "") for r in results if r.error]
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(5)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def _cell(text: str) -> str:
    return text.strip().replace("|", "\\|")


def markdown_row(row: Row) -> str:
    cells = [f"{row.benchmark}: {row.figure.strip()}", row.value, row.target, row.anchor, row.ratio]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def machine_line(ran: Sequence[str], today: datetime.date, kept: bool) -> str:
    cpus = os.cpu_count() or 0
    kind = platform.machine() or "unknown"
    which = ", ".join(ran)
    rest = "; the other rows are from an earlier run" if kept else ""
    return (
        f"Latest figures, {today.isoformat()}, from `python -m bench` ({which}{rest}), each "
        f"benchmark in turn on a {cpus}-core {kind} machine shared with other work. Timings "
        "vary from run to run, more under load: compare the ratios and query counts more "
        "than absolute times."
    )


def readme_block(results: Sequence[Result], old_block: str, today: datetime.date) -> str:
    """The text between the markers: the date and machine line, then the table."""
    ran = [r.benchmark for r in results]
    # Rows of benchmarks not run this time are kept as they were, in their place.
    kept: dict[str, list[str]] = {}
    for line in old_block.splitlines():
        if line.startswith("| ") and not line.startswith(("| benchmark |", "|---")):
            # "| similar claims: …" belongs to bench.similar.
            name = (line[2:].split(":", 1)[0].split() or [""])[0]
            if name in BENCHMARKS and name not in ran:
                kept.setdefault(name, []).append(line)
    new = {r.benchmark: [markdown_row(row) for row in r.rows if row.headline] for r in results}
    lines = [
        machine_line(ran, today, kept=bool(kept)),
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---|---|---|",
    ]
    for name in BENCHMARKS:
        lines += new.get(name) or kept.get(name, [])
    return "\n".join(lines)


def write_readme(path: Path, results: Sequence[Result], today: datetime.date) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: no {BEGIN} … {END} markers around the benchmark table")
    old = text[start + len(BEGIN) : end]
    block = readme_block(results, old, today)
    path.write_text(f"{text[:start]}{BEGIN}\n{block}\n{text[end:]}", encoding="utf-8")


def run_tiny(names: Sequence[str]) -> list[Result]:
    """Each benchmark with TINY's arguments and a temporary directory of its own.

    Files some benchmarks keep under the temporary directory by a fixed name
    (an SQLite database) are then apart from a full run's.
    """
    results = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"bench-tiny-{name}-") as scratch:
            results.append(run(name, TINY[name].split(), env=os.environ | {"TMPDIR": scratch}))
    took = ", ".join(f"{r.benchmark} {r.seconds:.0f} s" for r in results)
    total = sum(r.seconds for r in results)
    print(f"--tiny: {took}; {total:.0f} s in all.", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=list(BENCHMARKS),
        help=f"comma-separated, of: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--write-readme", action="store_true", help="replace the README's table")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the gathered rows as JSON")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="each benchmark at its smallest size, on databases of its own; never the README",
    )
    args = parser.parse_args(argv)
    if args.tiny and args.write_readme:
        parser.error("--tiny figures never go into the README: leave out --write-readme")
    unknown = [n for n in args.only if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"--only: no benchmark {', '.join(unknown)} (there are {', '.join(BENCHMARKS)})"
        )

    if args.tiny:
        results = run_tiny([name for name in BENCHMARKS if name in args.only])
    else:
        results = [run(name) for name in BENCHMARKS if name in args.only]
    failed = [r for r in results if r.error]
    if args.json:
        payload = {
            "date": datetime.date.today().isoformat(),
            "cpus": os.cpu_count(),
            "results": [
                {
                    "benchmark": r.benchmark,
                    "returncode": r.returncode,
                    "seconds": round(r.seconds, 1),
                    "error": r.error,
                    "rows": [row.__dict__ for row in r.rows],
                }
                for r in results
            ],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(text_table(results))
    if failed:
        names = ", ".join(r.benchmark for r in failed)
        print(f"Failed: {names}; the README was not changed.", file=sys.stderr)
        return 1
    if args.write_readme:
        write_readme(args.readme, results, datetime.date.today())
        print(f"{args.readme}: benchmark table regenerated.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
