"""Time the two kinds of ``kg backup`` and their restores on a generated store.

    python bench/backup_bench.py --triples 1000000

Loads bench/generate.py's data into a fresh store, then times a checkpoint backup (a directory,
RocksDB hard links), an N-Quads dump, and restoring each as a new generation. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from graph.store import load_dataset_file, new_generation, publish_generation
from graph.store.backup import backup, restore


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return round(time.perf_counter() - start, 3)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "data.nq"
        generate = Path(__file__).with_name("generate.py")
        subprocess.run(
            [sys.executable, str(generate), "--triples", str(args.triples), "--out", str(data)],
            check=True,
            capture_output=True,
        )
        store = folder / "store"
        generation = new_generation(store)
        quads = load_dataset_file(generation, data)
        publish_generation(store, generation)
        checkpoint, dump = folder / "checkpoint", folder / "dump.nq"
        figures = {
            "quads": quads,
            "backup_checkpoint_seconds": _timed(lambda: backup(store, checkpoint)),
            "backup_nquads_seconds": _timed(lambda: backup(store, dump)),
            "restore_checkpoint_seconds": _timed(lambda: restore(checkpoint, store)),
            "restore_nquads_seconds": _timed(lambda: restore(dump, store)),
            "checkpoint_bytes": _size(checkpoint),
            "nquads_bytes": _size(dump),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
