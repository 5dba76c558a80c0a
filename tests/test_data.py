"""The data layer: the descriptor validates, and every kind of bad input is refused with its place named."""

from __future__ import annotations

import re
import shutil

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
    with pytest.raises(
        bookdata.DataError, match=rf"{path}, line 2, column 'value_usd_bn': 'twelve' is not a valid number"
    ):
        bookdata.load("china_russia_trade")


def test_negative_volume_names_the_line_and_column(data_copy):
    path = corrupt(data_copy, "china_russia_trade", replace_cell("value_usd_bn", "-8.0"))
    with pytest.raises(
        bookdata.DataError, match=rf"{path}, line 2, column 'value_usd_bn': value '-8.0' breaks constraint \"minimum\""
    ):
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


# ---- cross-checks on the datasets merged from the research notes ---------------------------------


def disjoint_total(shares: dict[str, float]) -> float:
    """Sum of one period's currency shares, counting overlapping categories once.

    By the descriptors' definitions usd_eur is usd plus eur, friendly_currencies includes cny,
    unfriendly_currencies includes usd, eur and usd_eur, and other is everything not listed.
    """
    dollar_euro = max(shares.get("usd", 0) + shares.get("eur", 0), shares.get("usd_eur", 0))
    unfriendly = max(dollar_euro, shares.get("unfriendly_currencies", 0))
    friendly = max(shares.get("cny", 0), shares.get("friendly_currencies", 0))
    return unfriendly + friendly + shares.get("rouble", 0) + shares.get("other", 0)


def currency_groups(name, by):
    frame = bookdata.load(name)
    for key, group in frame.groupby(by):
        yield key, dict(zip(group["currency"], group["share_pct"]))


@pytest.mark.parametrize(
    "name, by",
    [
        ("russia_settlement_currencies", ["period", "flow"]),
        ("moex_currency_shares", ["period", "segment"]),
    ],
)
def test_currency_shares_of_one_period_never_add_up_to_more_than_the_whole(name, by):
    for key, shares in currency_groups(name, by):
        assert disjoint_total(shares) <= 102, f"{name} {key}: shares add up to {disjoint_total(shares):.1f}%"


@pytest.mark.parametrize(
    "name, by",
    [
        ("russia_settlement_currencies", ["period", "flow"]),
        ("moex_currency_shares", ["period", "segment"]),
    ],
)
def test_currency_shares_sum_to_100_where_the_residual_other_is_published(name, by):
    complete = [(key, shares) for key, shares in currency_groups(name, by) if "other" in shares]
    assert complete, f"{name}: no period with a complete currency set to check"
    for key, shares in complete:
        assert 98 <= disjoint_total(shares) <= 102, (
            f"{name} {key}: a complete set adds up to {disjoint_total(shares):.1f}%"
        )


def test_swift_ranks_follow_the_shares():
    swift = bookdata.load("swift_payment_shares").dropna(subset=["rank"])
    for (period, scope), group in swift.groupby(["period", "scope"]):
        ordered = group.sort_values("share_pct", ascending=False)
        assert ordered["rank"].is_monotonic_increasing, f"{period} {scope}: ranks do not follow shares\n{ordered}"


def test_cofer_quarters_are_empty_only_for_annual_figures_before_the_quarterly_series():
    cofer = bookdata.load("cofer_reserve_shares")
    annual = cofer[cofer["quarter"].isna()]
    assert set(annual["currency"]) <= {"usd"} and (annual["year"] < 2000).all(), f"unexpected annual rows\n{annual}"


def test_partners_of_one_source_and_year_never_take_more_than_the_whole():
    partners = bookdata.load("russia_trade_partners")
    for (year, flow, source), group in partners.groupby(["year", "flow", "source"]):
        shares = dict(zip(group["partner"], group["share_pct"]))
        countries = sum(shares.get(partner, 0) for partner in ("China", "EU", "India"))
        regions = sum(shares.get(partner, 0) for partner in ("Asia", "Europe"))
        assert countries <= 100 and regions <= 100, f"{year} {flow} {source}: {shares}"


def test_crude_imports_from_named_suppliers_never_exceed_chinas_total():
    crude = bookdata.load("china_crude_imports")
    totals = crude[crude["supplier"] == "total"].set_index("year")["crude_imports_mt"]
    named = crude[crude["supplier"] != "total"].groupby("year")["crude_imports_mt"].sum()
    for year in totals.index.intersection(named.index):
        assert named[year] <= totals[year], f"{year}: suppliers {named[year]:.2f} Mt > total {totals[year]:.2f} Mt"


@pytest.mark.parametrize(
    "name", ["power_of_siberia", "china_russia_trade", "china_crude_imports", "china_lng_coal_from_russia"]
)
def test_yearly_series_have_one_value_per_year(name):
    frame = bookdata.load(name)
    series = [column for column in ("flow", "supplier", "commodity") if column in frame.columns]
    duplicated = frame[frame.duplicated(subset=["year", *series], keep=False)]
    assert duplicated.empty, f"{name}: years recorded twice\n{duplicated}"


def test_missing_power_of_siberia_year_stays_missing():
    years = set(bookdata.load("power_of_siberia")["year"])
    assert 2019 not in years, "no published figure for December 2019 deliveries; the year must stay absent"


def test_oil_destination_rows_fill_the_column_of_their_measure_only():
    oil = bookdata.load("russia_oil_export_destinations")
    is_share = oil["measure"].str.startswith("share")
    assert oil.loc[is_share, "share_pct"].notna().all() and oil.loc[is_share, "volume_mbd"].isna().all()
    assert oil.loc[~is_share, "volume_mbd"].notna().all() and oil.loc[~is_share, "share_pct"].isna().all()


def test_official_claims_carry_a_value_only_when_a_single_figure_was_stated():
    claims = bookdata.load("official_settlement_claims")
    point = claims["value_type"] == "point"
    assert claims.loc[point, "value_pct"].notna().all(), "a point claim without its value"
    assert claims.loc[~point, "value_pct"].isna().all(), "a bound, approximation or fraction recorded as a value"


@pytest.mark.parametrize(
    "name",
    [
        "timeline",
        "xi_putin_meetings",
        "us_actions_prc_entities",
        "eu_actions_prc_entities",
        "official_settlement_claims",
    ],
)
def test_imprecise_dates_are_recorded_on_the_first_of_the_month_or_year(name):
    frame = bookdata.load(name)
    by_month = frame[frame["date_precision"] == "month"]["date"]
    by_year = frame[frame["date_precision"] == "year"]["date"]
    assert (by_month.dt.day == 1).all(), f"{name}: a month-precision date not on the 1st"
    assert ((by_year.dt.day == 1) & (by_year.dt.month == 1)).all(), f"{name}: a year-precision date not on 1 January"


def test_video_meetings_have_no_place_and_meetings_in_person_have_one():
    meetings = bookdata.load("xi_putin_meetings")
    virtual = meetings["format"] == "virtual"
    assert meetings.loc[virtual, "city"].isna().all()
    assert meetings.loc[~virtual, ["city", "country"]].notna().all().all()


def test_peace_plan_points_are_numbered_from_one_without_gaps():
    plans = bookdata.load("peace_plans")
    for plan, group in plans.groupby("plan"):
        assert sorted(group["point_number"]) == list(range(1, len(group) + 1)), (
            f"{plan}: points {sorted(group['point_number'])}"
        )


@pytest.mark.parametrize("name", ["us_actions_prc_entities", "eu_actions_prc_entities"])
def test_prc_entity_counts_never_exceed_the_action_total(name):
    actions = bookdata.load(name).dropna(subset=["prc_entities", "total_entities"])
    over = actions[actions["prc_entities"] > actions["total_entities"]]
    assert over.empty, f"{name}: more PRC entities than entities in total\n{over}"


@pytest.mark.parametrize("name", ["us_actions_prc_entities", "eu_actions_prc_entities"])
def test_confidence_is_given_whenever_an_action_count_is_recorded(name):
    actions = bookdata.load(name)
    counted = actions["prc_entities"].notna() | actions["total_entities"].notna()
    assert actions.loc[counted, "confidence"].notna().all()


def test_monthly_trade_totals_equal_exports_plus_imports_within_rounding():
    trade = bookdata.load("china_russia_trade_monthly").pivot(
        index=["period", "period_type"], columns="flow", values="value_usd_bn"
    )
    complete = trade.dropna()
    assert len(complete) >= 2, "too few months with a full split to cross-check"
    gap = (complete["china_exports"] + complete["china_imports"] - complete["total"]).abs()
    assert (gap <= 0.15).all(), f"totals differ from exports + imports: {gap[gap > 0.15].to_dict()}"


def test_later_pipeline_agreements_are_rows_of_the_same_three_routes():
    contracts = bookdata.load("gas_pipeline_contracts")
    assert set(contracts["pipeline"]) == {"Power of Siberia", "Far Eastern route", "Power of Siberia 2"}, sorted(
        contracts["pipeline"]
    )


# ---- the horizon: one setting, and every series reaches it or says why ----------------------------

TIME_COLUMNS = ("date", "period", "year")
TIME_SERIES = [
    name
    for name in DATASETS
    if any(field["name"] in TIME_COLUMNS for field in bookdata.resource(name)["schema"]["fields"])
]


def last_period(name) -> tuple[int, int]:
    """(year, month) of a dataset's latest row; month 0 where only the year is known (a quarter counts as its last month)."""
    frame = bookdata.load(name)
    column = next(column for column in TIME_COLUMNS if column in frame.columns)
    latest = (0, 0)
    for value in frame[column].dropna():
        if column == "date":
            period = (value.year, value.month)
        elif column == "year":
            period = (int(value), 0)
        else:
            end = str(value).split("/")[-1]
            month = re.fullmatch(r"(\d{4})-(\d{2})", end)
            quarter = re.fullmatch(r"(\d{4})-Q([1-4])", end)
            period = (
                (int(month[1]), int(month[2]))
                if month
                else (int(quarter[1]), 3 * int(quarter[2]))
                if quarter
                else (int(end), 0)
            )
        latest = max(latest, period)
    return latest


def test_the_horizon_is_set_once_in_the_descriptor_and_read_by_the_loader():
    package = bookdata.descriptor()
    through = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", package["record_through"])
    assert through, f"record_through must be YYYY-MM, not {package['record_through']!r}"
    year, month = int(through[1]), int(through[2])
    assert package["last_full_year"] == (year if month == 12 else year - 1)
    assert (bookdata.RECORD_THROUGH, bookdata.LAST_FULL_YEAR) == (package["record_through"], package["last_full_year"])


def test_every_time_series_reaches_the_last_full_year_or_says_why():
    """The list of stale series: each must reach LAST_FULL_YEAR or explain in `ends_before_horizon` why it stops."""
    unexplained, needless = [], []
    for name in TIME_SERIES:
        year, month = last_period(name)
        reason = bookdata.resource(name).get("ends_before_horizon", "")
        if year < bookdata.LAST_FULL_YEAR and len(reason.split()) < 10:
            unexplained.append(f"{name} (last period {year}{f'-{month:02d}' if month else ''})")
        if year >= bookdata.LAST_FULL_YEAR and reason:
            needless.append(name)
    assert not unexplained, (
        f"these series end before {bookdata.LAST_FULL_YEAR} and their descriptor does not say why "
        f"(add ends_before_horizon, or extend the data): {', '.join(unexplained)}"
    )
    assert not needless, f"these series now reach {bookdata.LAST_FULL_YEAR}; drop their ends_before_horizon: {needless}"


@pytest.mark.parametrize("name", TIME_SERIES)
def test_no_row_is_dated_after_the_horizon(name):
    year, month = last_period(name)
    horizon = tuple(int(part) for part in bookdata.RECORD_THROUGH.split("-"))
    assert (year, month) <= horizon, (
        f"{name} has a row dated {year}-{month:02d}, after the horizon {bookdata.RECORD_THROUGH}: move the horizon"
    )


# ---- the bibliography behind the source keys ----------------------------------------------------


@pytest.fixture(scope="module")
def bibliography():
    import pybtex.database

    return pybtex.database.parse_file(str(ROOT / "references.bib"))


def test_bibliography_keys_are_unique_ignoring_case():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE)
    duplicated = sorted({key for key in keys if [other.lower() for other in keys].count(key.lower()) > 1})
    assert not duplicated, f"keys defined more than once: {duplicated}"


def test_every_reference_has_author_title_and_year_and_web_sources_a_url_and_access_date(bibliography):
    problems = []
    for key, entry in bibliography.entries.items():
        if not (entry.persons.get("author") or entry.persons.get("editor")):
            problems.append(f"{key}: no author or editor")
        problems += [f"{key}: no {field}" for field in ("title", "year") if field not in entry.fields]
        if entry.type == "misc":
            problems += [
                f"{key}: web source without {field}" for field in ("url", "urldate") if field not in entry.fields
            ]
    assert not problems, "\n".join(problems)


def test_every_reference_formats_in_the_books_bibliography_style_with_its_tier(bibliography):
    # render_as("text") would look up the backend among every installed package's entry points, once per entry
    from pybtex.backends.plaintext import Backend as PlainText

    from book_hooks import TieredStyle  # _ext: registered as "tiered", the bibtex_default_style in _config.yml

    formatted = list(TieredStyle().format_entries(bibliography.entries.values()))  # raises on a missing field
    assert len(formatted) == len(bibliography.entries)
    untiered = [entry.key for entry in formatted if "Source tier:" not in entry.text.render(PlainText())]
    assert not untiered, f"entries printed without their source tier: {untiered}"


def test_special_characters_in_titles_and_notes_render_as_text(bibliography):
    # pybtex prints an escaped dollar literally ("\\$"), so dollars stay bare; the others need escaping.
    unescaped = [
        f"{key}: {field}"
        for key, entry in bibliography.entries.items()
        for field in ("title", "note")
        if re.search(r"(?<!\\)[&%#_]|\\\$", entry.fields.get(field, ""))
    ]
    assert not unescaped, "unescaped & % # _ or an escaped $ in:\n" + "\n".join(unescaped)
