#!/usr/bin/env python3
"""Checks that src/ keeps its layers: a file includes only files of its own stage or of a stage
below it, in the order of the data path (README "Where things are"). Run by ctest."""
import pathlib
import re
import sys

# Lowest first. cli/ and harness/ sit on top of everything (the harness only needs sql/).
LAYERS = ["base", "sql", "config", "source", "store", "route", "apply", "full", "link", "coord", "project", "serve",
          "harness", "cli"]
INCLUDE = re.compile(r'^#include "([a-z_]+)/[^"]+"', re.M)


def main(src: pathlib.Path) -> int:
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems = []
    stages = sorted(p.name for p in src.iterdir() if p.is_dir())
    for stage in stages:
        if stage not in rank:
            problems.append(f"src/{stage}/ is not a known stage; add it to LAYERS in {__file__}")
    for path in sorted(src.glob("*/*")):
        stage = path.parent.name
        if stage not in rank or path.suffix not in (".h", ".cc"):
            continue
        for target in INCLUDE.findall(path.read_text(encoding="utf-8")):
            if target in rank and rank[target] > rank[stage]:
                problems.append(f"{path.relative_to(src.parent)} includes {target}/, a layer above {stage}/")
    for p in problems:
        print(p)
    print(f"{len(problems)} layering problem(s) in {len(stages)} stages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent / "src"))
