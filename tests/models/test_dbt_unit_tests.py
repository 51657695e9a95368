"""The dbt unit tests (`unit_tests:` beside each model), all of them, once per suite.

`callshrink run` leaves them out of its `dbt build`: they check each model's SQL against rows
made by hand, whatever the data, so a daily run gains nothing from them (dbt's own advice is to
run them in development and CI). Here they run on the suite's warehouse, whose built relations
give dbt the column types of each model's inputs.
"""

from __future__ import annotations

import re
from collections import Counter

from callshrink.dbt import stage_reference
from tests.conftest import PipelineRun, dbt_ls, run_dbt


def test_every_dbt_unit_test_passes(pipeline_run: PipelineRun) -> None:
    stage_reference()
    tests = dbt_ls("--resource-type", "unit_test")
    per_model = Counter(test["depends_on"]["nodes"][0].rsplit(".", 1)[1] for test in tests)
    print(f"\n{len(tests)} dbt unit tests on {len(per_model)} models:")
    for model, count in sorted(per_model.items()):
        print(f"  {model}: {count}")

    result = run_dbt("test", "--select", "test_type:unit")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    done = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", output)
    assert done, output[-5000:]
    passed, warned, errored, skipped = (int(n) for n in done.groups())
    # all passed, none skipped, and at least every listed test ran
    assert (warned, errored, skipped) == (0, 0, 0), output[-5000:]
    assert passed >= len(tests) > 100, (passed, len(tests))
