"""Verdicts withheld from the student edition (issue 19): the claims students judge themselves stay open there.

data/claims.csv names, in its column ``assessed_in``, where students give their own verdict on a claim (assignment 1
part B or C, or class). The student edition shows such a claim as "open — your verdict":
- in the claims ledger, the case reading page, the chapters' lists of claims and the predictions scorecard, through
  the ``{claims}`` directive (_ext/book_hooks.py), which renders the ledger through :func:`student_view`;
- in the chapters' "Verdict on Cnn" boxes: the box is a notebook cell tagged ``solution`` (which the student edition
  and the handed-out notebooks drop), after an untagged box that says where the claim is assessed;
- in the copies of data/claims.csv it offers for download and hands out (:func:`write_student_downloads`,
  :func:`copy_data`), which leave the verdict and the evidence of those claims empty, with a datapackage.json that
  accepts that and whose checksum matches (:func:`student_package`); the Data page gives that checksum.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

OPEN = "open — your verdict"
WITHHELD = ("verdict", "evidence")  # the columns left empty for an assessed claim in a student's copy of the ledger


def student_view(claims, edition: str):
    """The ledger as ``edition`` shows it: in the student edition an assessed claim's verdict reads OPEN and its
    evidence says where the claim is assessed (the source keys and the date of the record stay)."""
    if edition != "student":
        return claims
    assessed = claims["assessed_in"].notna()
    claims = claims.copy()
    claims.loc[assessed, "verdict"] = OPEN
    claims.loc[assessed, "evidence"] = (
        "Left open: you judge this claim yourself, in " + claims.loc[assessed, "assessed_in"] + "."
    )
    return claims


def student_csv(path: Path) -> bytes:
    """data/claims.csv with the verdict and evidence of every assessed claim left empty (the other rows unchanged)."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    for row in rows:
        if row["assessed_in"]:
            row.update(dict.fromkeys(WITHHELD, ""))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def student_package(package: dict, data: Path, edition: str = "student") -> dict:
    """The data package descriptor as ``edition`` offers it: for students, the ledger's verdict and evidence are no
    longer required, and its checksum is that of :func:`student_csv`."""
    if edition != "student":
        return package
    entry = next(entry for entry in package["resources"] if entry["name"] == "claims")
    entry["hash"] = "sha256:" + hashlib.sha256(student_csv(data / "claims.csv")).hexdigest()
    for field in entry["schema"]["fields"]:
        if field["name"] in WITHHELD:
            field["constraints"]["required"] = False
            field["description"] += f"; empty where `assessed_in` is set ({OPEN})"
    return package


def copy_data(source: Path, data: Path) -> None:
    """Copy data/ for students: the assessed claims' verdict and evidence left empty in claims.csv, with a
    datapackage.json that accepts that and records the file's new checksum, so the loader validates it."""
    shutil.copytree(source, data)
    descriptor = data / "datapackage.json"
    package = student_package(json.loads(descriptor.read_text(encoding="utf-8")), data)
    (data / "claims.csv").write_bytes(student_csv(data / "claims.csv"))
    descriptor.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_student_downloads(html: Path) -> None:
    """The student edition's HTML offers data/claims.csv for download (from the ledger and Data pages): blank it."""
    for path in html.glob("_downloads/*/claims.csv"):
        path.write_bytes(student_csv(path))
