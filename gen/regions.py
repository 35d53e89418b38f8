#!/usr/bin/env python3
"""Generate gen/regions.tsv and gen/villages.tsv from the official region table.

Usage: python3 gen/regions.py [path/to/wilayah.csv]

The CSV (columns `kode,nama`) lists provinces (`16`), regencies/cities (`16.71`),
districts (`16.71.01`) and villages (`16.71.01.1001`) as set by Kepmendagri
300.2.2-2138/2025. The default path is `../shared/data/wilayah/wilayah.csv`
relative to the repository root.

Outputs (deterministic: same input, same bytes; LF line endings, UTF-8):
  gen/regions.tsv   provinces, regencies and districts: `code<TAB>name`, code without
                    dots (2, 4 or 6 digits), sorted by code.
  gen/villages.tsv  villages: `10-digit code<TAB>name`, sorted by code.

Names are trimmed and inner runs of whitespace collapsed to one space. Stdlib only.
"""

import csv
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CSV = os.path.join(REPO_ROOT, "..", "shared", "data", "wilayah", "wilayah.csv")

CODE_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def clean_name(name):
    return " ".join(name.split())


def read_table(path):
    regions = {}
    villages = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["kode", "nama"]:
            raise SystemExit(f"{path}: expected header 'kode,nama', got {header!r}")
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 2:
                raise SystemExit(f"{path}:{lineno}: expected 2 columns, got {len(row)}")
            code, name = row[0].strip(), clean_name(row[1])
            if not CODE_RE.match(code):
                raise SystemExit(f"{path}:{lineno}: bad code {code!r}")
            if not name or "\t" in name:
                raise SystemExit(f"{path}:{lineno}: bad name for {code}")
            flat = code.replace(".", "")
            target = villages if len(flat) == 10 else regions
            if flat in target:
                raise SystemExit(f"{path}:{lineno}: duplicate code {code}")
            target[flat] = name
    return regions, villages


def check_parents(regions, villages):
    for code in regions:
        if len(code) > 2 and code[:-2] not in regions:
            raise SystemExit(f"region {code} has no parent {code[:-2]}")
    for code in villages:
        if code[:6] not in regions:
            raise SystemExit(f"village {code} has no district {code[:6]}")


def write_tsv(path, table):
    data = "".join(f"{code}\t{table[code]}\n" for code in sorted(table))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)


def main(argv):
    if len(argv) > 2:
        raise SystemExit(__doc__)
    src = argv[1] if len(argv) == 2 else DEFAULT_CSV
    regions, villages = read_table(src)
    check_parents(regions, villages)
    out_dir = os.path.join(REPO_ROOT, "gen")
    write_tsv(os.path.join(out_dir, "regions.tsv"), regions)
    write_tsv(os.path.join(out_dir, "villages.tsv"), villages)
    counts = {n: sum(1 for c in regions if len(c) == n) for n in (2, 4, 6)}
    print(
        f"regions.tsv: {counts[2]} provinces, {counts[4]} regencies, {counts[6]} districts; "
        f"villages.tsv: {len(villages)} villages",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv)
