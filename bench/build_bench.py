"""Build and validation at scale: `oxigraph load` vs `kg build` vs `kg validate` (vs pyshacl).

    python bench/build_bench.py --triples 1000000 [--pyshacl] [--work var/bench]
        [--build-only] [--before OLD/src]

Generates a conforming synthetic project (bench/generate.py with the project's own ontology/
and shapes/, or the small ones of tests/fixtures/scale with --fixture-shapes), then runs each tool
as a separate process and reports wall time and peak RSS (of the process and its children, from
``wait4``), and the ratios to `oxigraph load` on the same file. Finally it times validating one
small added source document against the built store (``kg validate --against``).
``--before`` also builds with another source tree (``git archive``'s ``src``), in the same run,
and ``--build-only`` stops after the builds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "fixtures" / "scale"


def run(
    name: str, command: list[str], expect: int = 0, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Run ``command``; return (seconds, peak RSS in MiB) of it (printed at once too)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if code != expect:
        sys.exit(f"{name} exited with {code}:\n{stderr[-2000:]}")
    print(f"  {name}: {seconds:.2f} s, {usage.ru_maxrss / 1024:.0f} MiB", flush=True)
    return seconds, usage.ru_maxrss / 1024


def project(work: Path, triples: int, shapes: Path, ontology: Path) -> Path:
    """A project folder: ontology, shapes and one generated data file."""
    folder = work / f"project-{triples}"
    data = folder / "data" / "synthetic.nq"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--triples",
                str(triples),
                "--seed",
                "1",
                "--invalid-share",
                "0",
                "--out",
                str(data),
            ],
            check=True,
            stderr=subprocess.DEVNULL,
        )
    for name, source in (("ontology", ontology), ("shapes", shapes)):
        shutil.rmtree(folder / name, ignore_errors=True)
        shutil.copytree(source, folder / name)
    return folder


def added_document(work: Path, data: Path) -> Path:
    """The next source document (about 80 triples, half its nodes invalid) of the graph."""
    summary = json.loads(data.with_name(data.name + ".summary.json").read_text())
    path = work / "added" / "synthetic-added.nt"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--triples",
            "50",
            "--seed",
            "7",
            "--invalid-share",
            "0.5",
            "--first-document",
            str(summary["documents"]),
            "--out",
            str(path),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    path.with_name(path.name + ".summary.json").unlink()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--pyshacl", action="store_true", help="also time the rdflib+pyshacl path")
    parser.add_argument(
        "--fixture-shapes",
        action="store_true",
        help="validate with the small shapes of tests/fixtures/scale instead of the project's",
    )
    parser.add_argument("--build-only", action="store_true", help="stop after the builds")
    parser.add_argument(
        "--before", type=Path, help="also build with this source tree (the src of another commit)"
    )
    args = parser.parse_args()
    shapes, ontology = (
        (FIXTURE / "shapes", FIXTURE / "ontology")
        if args.fixture_shapes
        else (ROOT / "shapes", ROOT / "ontology")
    )
    folder = project(args.work, args.triples, shapes, ontology)
    data = folder / "data" / "synthetic.nq"
    kg = str(BIN / "kg")
    rows: list[tuple[str, float, float]] = []

    location = args.work / "oxigraph-load"
    shutil.rmtree(location, ignore_errors=True)
    rows.append(
        (
            "oxigraph load",
            *run(
                "oxigraph",
                [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(data)],
            ),
        )
    )
    store = args.work / "store"
    common = ["--project-dir", str(folder), "--engine", "sparql"]
    rows.append(
        ("kg build (sparql)", *run("kg build", [kg, "build", "--store", str(store), *common]))
    )
    if args.before:
        before = [sys.executable, "-c", "import sys; from graph.cli import main; sys.exit(main())"]
        env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
        rows.append(
            (
                "kg build (sparql), before",
                *run(
                    "kg build before",
                    [*before, "build", "--store", str(args.work / "store-before"), *common],
                    env=env,
                ),
            )
        )
    if args.build_only:
        return report(rows, args.triples, data)
    rows.append(("kg validate (sparql)", *run("kg validate", [kg, "validate", *common])))
    if args.pyshacl:
        rows.append(
            (
                "kg build (pyshacl)",
                *run(
                    "kg build",
                    [
                        kg,
                        "build",
                        "--store",
                        str(args.work / "store-pyshacl"),
                        "--project-dir",
                        str(folder),
                        "--engine",
                        "pyshacl",
                    ],
                ),
            )
        )
    added = added_document(args.work, data)
    rows.append(
        (
            "kg validate --against (1 doc)",
            *run(
                "kg validate one",
                [kg, "validate", "--project-dir", str(folder), "--against", str(store), str(added)],
                expect=1,
            ),
        )
    )

    return report(rows, args.triples, data)


def report(rows: list[tuple[str, float, float]], triples: int, data: Path) -> int:
    """Print ``rows`` with their ratios to the first (``oxigraph load``)."""
    base_seconds, base_rss = rows[0][1], rows[0][2]
    print(
        f"{triples} triples, {data.stat().st_size / 2**20:.0f} MiB N-Quads, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':32} {'seconds':>8} {'x load':>7} {'peak MiB':>9} {'x load':>7}")
    for name, seconds, rss in rows:
        print(
            f"{name:32} {seconds:8.2f} {seconds / base_seconds:7.2f} {rss:9.0f} "
            f"{rss / base_rss:7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
