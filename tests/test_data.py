"""The data layer: the descriptor validates, and every kind of bad input is refused with its place named."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from frictionless import Package

import bookdata
from conftest import ROOT

DATASETS = [entry["name"] for entry in bookdata.descriptor()["resources"]]


def test_data_package_is_valid_by_frictionless():
    report = Package(str(ROOT / "data" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "note"])


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_loads_with_a_source_on_every_row(name):
    frame = bookdata.load(name)
    assert len(frame) > 0
    assert frame["source"].notna().all()


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_has_units_licence_and_hash(name):
    entry = bookdata.resource(name)
    assert entry["hash"].startswith("sha256:")
    assert entry.get("licenses"), f"{name}: no licence"
    numeric = [field for field in entry["schema"]["fields"] if field["type"] == "number"]
    assert all(field.get("unit") for field in numeric), f"{name}: a numeric column without a unit"


# ---- corrupted copies ---------------------------------------------------------------------------


@pytest.fixture()
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ and references.bib that the loader reads instead of the real ones."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    monkeypatch.setattr(bookdata, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(bookdata, "DESCRIPTOR", tmp_path / "data" / "datapackage.json")
    monkeypatch.setattr(bookdata, "BIBLIOGRAPHY", tmp_path / "references.bib")
    return tmp_path / "data"


def corrupt(data_dir, name, edit, rehash=True):
    """Apply edit(text) -> text to a dataset's CSV; record the new checksum unless told not to."""
    path = data_dir / bookdata.resource(name)["path"]
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    if rehash:
        bookdata.refresh_hashes()
    return path


def replace_cell(column, new_value):
    def edit(text):
        lines = text.splitlines(keepends=True)
        position = lines[0].rstrip("\n").split(",").index(column)
        cells = lines[1].rstrip("\n").split(",")
        cells[position] = new_value
        lines[1] = ",".join(cells) + "\n"
        return "".join(lines)
    return edit


def test_missing_column_names_the_file_and_column(data_copy):
    path = corrupt(data_copy, "china_russia_trade", lambda text: text.replace(",note\n", "\n", 1))
    with pytest.raises(bookdata.DataError, match=rf"{path}: missing column 'note'"):
        bookdata.load("china_russia_trade")


def test_non_numeric_value_names_the_line_and_column(data_copy):
    path = corrupt(data_copy, "china_russia_trade", replace_cell("value_usd_bn", "twelve"))
    with pytest.raises(bookdata.DataError, match=rf"{path}, line 2, column 'value_usd_bn': 'twelve' is not a valid number"):
        bookdata.load("china_russia_trade")


def test_negative_volume_names_the_line_and_column(data_copy):
    path = corrupt(data_copy, "china_russia_trade", replace_cell("value_usd_bn", "-8.0"))
    with pytest.raises(bookdata.DataError, match=rf"{path}, line 2, column 'value_usd_bn': value '-8.0' breaks constraint \"minimum\""):
        bookdata.load("china_russia_trade")


def test_unknown_source_key_names_the_row(data_copy):
    path = corrupt(data_copy, "china_russia_trade", replace_cell("source", "nobody2099"))
    with pytest.raises(bookdata.DataError, match=rf"{path}, line 2, column 'source': unknown source key 'nobody2099'"):
        bookdata.load("china_russia_trade")


def test_edited_file_without_new_checksum_is_refused(data_copy):
    path = corrupt(data_copy, "china_russia_trade", replace_cell("value_usd_bn", "9.0"), rehash=False)
    with pytest.raises(bookdata.DataError, match=rf"{path}: checksum mismatch"):
        bookdata.load("china_russia_trade")


def test_unknown_dataset_name_lists_the_known_ones(data_copy):
    with pytest.raises(bookdata.DataError, match=r"unknown dataset 'china_russia_tarde'.*china_russia_trade"):
        bookdata.load("china_russia_tarde")


def test_missing_values_stay_missing():
    trade = bookdata.load("china_russia_trade")
    recorded_years = set(trade["year"])
    assert 2001 not in recorded_years, "2001 has no published customs figure and must not be filled in"


# ---- cross-checks -------------------------------------------------------------------------------


def test_trade_totals_equal_exports_plus_imports_within_rounding():
    trade = bookdata.load("china_russia_trade").pivot(index="year", columns="flow", values="value_usd_bn")
    complete = trade.dropna()
    assert len(complete) >= 5, "too few years with a full split to cross-check"
    gap = (complete["china_exports"] + complete["china_imports"] - complete["total"]).abs()
    assert (gap <= 0.15).all(), f"totals differ from exports + imports: {gap[gap > 0.15].to_dict()}"


@pytest.mark.parametrize("name", DATASETS)
def test_primary_keys_have_no_duplicates(name):
    frame = bookdata.load(name)
    key = bookdata.resource(name)["schema"].get("primaryKey")
    assert key, f"{name}: no primary key in the descriptor"
    duplicated = frame[frame.duplicated(subset=key, keep=False)]
    assert duplicated.empty, f"{name}: duplicate keys\n{duplicated[key]}"
