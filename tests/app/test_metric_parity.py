"""Every figure a page shows is the metrics layer's: each metric query every page asks, for its
days and locations, gives what `mf query` gives for the same metrics, group-by and filters.

The pages ask only through app.data.figures (no figure is computed in the app: see
test_no_formula_outside_the_dbt_project), so the queries it records are every figure shown.
`mf query` is MetricFlow's own command line, run on the warehouse as the analytics engineer
runs it, with where filters written here from the period (not the app's parameterised ones).
"""

from __future__ import annotations

import csv
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import data
from callshrink.semantic import MetricQuery, Period
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun, mf

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")
# The pages that show no metric: data health reads the loader's report (callshrink doctor);
# staffing shows one location's rows of marts.staffing_hours and staffing_what_if as they are,
# a cell per weekday-hour, nothing summed over them; call back lists callers
# (restricted.callback_list) and the recovery curve, a mart.
WITHOUT_METRICS = {"views/data_health.py", "views/staffing.py", "views/callbacks.py"}


def app_pages() -> list[tuple[str, str]]:
    """(file, title) of every page of the app, as app/streamlit_app.py lists them."""
    text = (PROJECT_DIR / "app" / "streamlit_app.py").read_text()
    return re.findall(r'st\.Page\(\s*"([^"]+)",\s*title="([^"]+)"', text)


@pytest.fixture(scope="module")
def asked(pipeline_run: PipelineRun) -> dict[str, list[tuple[MetricQuery, Period]]]:
    """Per page: the metric queries it asked on opening (its default days, every location,
    the drill-down's first choices)."""
    by_page = {}
    for path, _ in app_pages():
        data.ASKED = []
        try:
            app = AppTest.from_file(APP, default_timeout=180).switch_page(path).run()
            assert not app.exception, (path, app.exception)
            by_page[path] = list(dict.fromkeys(data.ASKED))
        finally:
            data.ASKED = None
    return by_page


def _mf_where(period: Period) -> list[str]:
    ids = ", ".join(f"'{location_id}'" for location_id in period.location_ids)
    return [
        f"{{{{ TimeDimension('metric_time', 'day') }}}} >= '{period.first_day}'",
        f"{{{{ TimeDimension('metric_time', 'day') }}}} <= '{period.last_day}'",
        f"coalesce({{{{ Dimension('location__location_id') }}}}, '') in ({ids})",
    ]


def _mf_query(query: MetricQuery, period: Period, out: Path) -> list[dict[str, str]]:
    """`mf query` for the query and period, its CSV rows."""
    if query.saved_query:
        args = ["--saved-query", query.saved_query]
    else:
        args = ["--metrics", ",".join(query.metrics)]
        if query.group_by:
            args += ["--group-by", ",".join(query.group_by)]
    for where in [*_mf_where(period), *query.where]:
        args += ["--where", where]
    result = mf("query", *args, "--csv", str(out))
    assert result.returncode == 0, (query, result.stdout + result.stderr)
    if not out.exists():  # mf writes no file for a query with no rows
        return []
    with out.open() as handle:
        return list(csv.DictReader(handle))


def _shown_as(mf_column: str) -> str:
    """The column name the app gives an mf output column (metric_time__day is "day",
    location__location_name is "location_name", a metric keeps its name)."""
    return mf_column.split("__")[-1]


def _number(value: object) -> Decimal | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _key(value: object) -> str:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}[ T]", text) else text


def _differences(app_frame: pd.DataFrame, mf_rows: list[dict[str, str]]) -> list[str]:
    """What differs between the app's figures and mf's, cell by cell."""
    if not mf_rows:
        return [] if app_frame.empty else [f"mf has no rows, the app {len(app_frame)}"]
    columns = list(mf_rows[0])
    keys = [column for column in columns if "__" in column]  # group-by items; metrics have none
    metrics = [column for column in columns if column not in keys]
    if sorted(map(_shown_as, columns)) != sorted(app_frame.columns):
        return [f"columns: app {sorted(app_frame.columns)}, mf {columns}"]
    app_rows = {
        tuple(_key(row[_shown_as(k)]) for k in keys): row for _, row in app_frame.iterrows()
    }
    mf_by_key = {tuple(_key(row[k]) for k in keys): row for row in mf_rows}
    if set(app_rows) != set(mf_by_key):
        return [
            f"rows: only in the app {set(app_rows) - set(mf_by_key)}, "
            f"only in mf {set(mf_by_key) - set(app_rows)}"
        ]
    found = []
    for key, mf_row in mf_by_key.items():
        for metric in metrics:
            shown, expected = _number(app_rows[key][metric]), _number(mf_row[metric])
            if shown is None or expected is None:
                if shown is not expected and not (shown == 0 and expected is None):
                    found.append(f"{key} {metric}: app {shown}, mf {expected}")
            elif abs(shown - expected) > Decimal("1e-9") * max(1, abs(expected)):
                found.append(f"{key} {metric}: app {shown}, mf {expected}")
    return found


def test_every_page_shows_only_the_metric_layers_figures(asked, tmp_path):
    pages = {path for path, _ in app_pages()}
    assert pages - WITHOUT_METRICS <= {path for path, queries in asked.items() if queries}
    queries = list(dict.fromkeys(q for page in asked.values() for q in page))

    def compare(numbered: tuple[int, tuple[MetricQuery, Period]]) -> tuple[set[str], list[str]]:
        number, (query, period) = numbered
        mf_rows = _mf_query(query, period, tmp_path / f"{number}.csv")
        app_frame = data._figures(query, period)
        metrics = {c for c in (mf_rows[0] if mf_rows else {}) if "__" not in c}
        problems = [f"{query} {period}: {d}" for d in _differences(app_frame, mf_rows)]
        return metrics, problems

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(compare, enumerate(queries)))
    problems = [problem for _, found in results for problem in found]
    assert not problems, "\n".join(problems[:20])
    compared = set().union(*(metrics for metrics, _ in results))
    # the headline figures of the executive and finance pages are among them
    assert {
        "answer_rate",
        "missed_call_shrink_usd",
        "missed_call_shrink_low_usd",
        "missed_call_shrink_high_usd",
        "callback_recovery_rate",
        "service_level",
        "shrink_rate",
        "process_compliance_rate",
        "median_minutes_to_recovery",
        "revenue_tie_out_difference_usd",
        "attributed_revenue_share",
    } <= compared
    print(f"{len(queries)} metric queries, {len(compared)} metrics compared with mf query")


def test_the_comparison_fails_on_a_wrong_figure(asked):
    """The check above would see one figure off by a cent, a missing row or a renamed column."""
    query, period = next(q for q in asked["views/scorecard.py"] if q[0] == data.LOCATION_SCORECARD)
    frame = data._figures(query, period)
    mf_rows = [
        {
            (
                "location__location_id"
                if column == "location_id"
                else "location__location_name"
                if column == "location_name"
                else column
            ): value
            for column, value in row.items()
        }
        for row in frame.astype(object).to_dict("records")
    ]
    assert _differences(frame, mf_rows) == []
    off = frame.copy()
    off.loc[0, "missed_call_shrink_usd"] += Decimal("0.01")
    assert _differences(off, mf_rows)
    assert _differences(frame.iloc[1:], mf_rows)
    assert _differences(frame.rename(columns={"answer_rate": "rate"}), mf_rows)


def test_no_formula_outside_the_dbt_project():
    """No rate, ratio or shrink is computed in app/ or callshrink/: no division of figures,
    no sum of a money or count column, no SQL aggregate of the marts' flags."""
    patterns = {
        "a division": r"[\w\])] / [\w(]",  # (paths are joined with joinpath here)
        "an aggregate": r"(?<![.\w])(?<!def )(?:count|sum|avg|percentile_cont)\s*\(",
        "a pandas sum or mean": r"\.(?:sum|mean)\(\)",
    }
    found = []
    for folder in ("app", "callshrink"):
        for path in sorted((PROJECT_DIR / folder).rglob("*.py")):
            relative = path.relative_to(PROJECT_DIR).as_posix()
            if relative.startswith("callshrink/generate/") or relative.startswith(
                "callshrink/ingest/"
            ):
                continue  # the generator and the loader count rows, they define no metric
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0]
                for what, pattern in patterns.items():
                    if re.search(pattern, code, re.IGNORECASE):
                        found.append(f"{relative}:{number}: {what}: {line.strip()}")
    assert not found, "\n".join(found)
