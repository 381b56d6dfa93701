"""Significance testing for the study: over test examples, over seeds, across languages.

- `xlt_lib.stats.examples`: paired bootstrap, approximate randomisation, exact McNemar
  (unit: the test example; runs paired by `xlt_lib.stats.pairing`);
- `xlt_lib.stats.seeds`: Welch's t-test, permutation test, bootstrap CI, minimal attainable p
  (unit: the training run);
- `xlt_lib.stats.aso`: Almost Stochastic Order (eps_min);
- `xlt_lib.stats.multiple`: Holm / Benjamini-Hochberg corrections, replicability counts;
- `xlt_lib.stats.power`: detectable effects and seeds needed;
- `xlt_lib.stats.design`: which comparisons the completed runs allow;
  `xlt_lib.stats.seed_table` / `xlt_lib.stats.example_table`: the comparison tables over
  seeds and over test examples; `xlt_lib.stats.replicability`: in how many languages an
  effect holds; `xlt_lib.stats.decidability`: whether a test can decide with this design;
- `xlt_lib.stats.conclusions`: one conclusion per comparison; `xlt_lib.stats.summary`:
  the words; `xlt_lib.stats.plots`: the figures (import it explicitly: it loads seaborn);
- `xlt_lib.stats.settings`: the settings and the values they accept (light: no numpy);
- `xlt_lib.stats.simulate`: synthetic run records with a known truth, for calibration.

Every test states its null hypothesis and sidedness; results are dataclasses or
tidy tables; resampling seeds are parameters.
"""

from xlt_lib.stats.aso import ASO_THRESHOLD, ASOResult, almost_stochastic_order
from xlt_lib.stats.conclusions import Conclusion, conclusions
from xlt_lib.stats.design import (
    AVERAGE,
    COMPARISON_KINDS,
    MAIN_COMPARISON,
    Comparison,
    ComparisonPlan,
    SkippedComparison,
    comparison_plan,
    plan_comparisons,
)
from xlt_lib.stats.errors import MissingRunsError, PairingError, StatsError
from xlt_lib.stats.example_table import compare_examples
from xlt_lib.stats.examples import (
    McNemarResult,
    PairedBootstrapResult,
    RandomizationResult,
    approximate_randomization,
    mcnemar_exact,
    paired_bootstrap,
)
from xlt_lib.stats.multiple import (
    CORRECTIONS,
    ReplicabilityResult,
    adjust_pvalues,
    partial_conjunction_pvalues,
    replicability_count,
)
from xlt_lib.stats.pairing import pair_predictions
from xlt_lib.stats.power import minimum_detectable_effect, pooled_sd, seeds_needed, seeds_to_reach
from xlt_lib.stats.replicability import replicability_table
from xlt_lib.stats.seed_table import compare_conditions
from xlt_lib.stats.seeds import (
    SeedTestResult,
    bootstrap_mean_difference,
    min_attainable_p,
    permutation_test,
    welch_test,
)
from xlt_lib.stats.settings import SIGNIFICANCE_CONSTRAINTS, check_significance_settings
from xlt_lib.stats.summary import (
    comparison_state,
    describe_findings,
    describe_methods,
    format_comparisons,
    format_examples,
    runs_table,
    summarize_examples,
)

__all__ = [
    "ASO_THRESHOLD",
    "AVERAGE",
    "COMPARISON_KINDS",
    "CORRECTIONS",
    "MAIN_COMPARISON",
    "SIGNIFICANCE_CONSTRAINTS",
    "ASOResult",
    "Comparison",
    "ComparisonPlan",
    "Conclusion",
    "McNemarResult",
    "MissingRunsError",
    "PairedBootstrapResult",
    "PairingError",
    "RandomizationResult",
    "ReplicabilityResult",
    "SeedTestResult",
    "SkippedComparison",
    "StatsError",
    "adjust_pvalues",
    "almost_stochastic_order",
    "approximate_randomization",
    "bootstrap_mean_difference",
    "check_significance_settings",
    "compare_conditions",
    "compare_examples",
    "comparison_plan",
    "comparison_state",
    "conclusions",
    "describe_findings",
    "describe_methods",
    "format_comparisons",
    "format_examples",
    "mcnemar_exact",
    "min_attainable_p",
    "minimum_detectable_effect",
    "pair_predictions",
    "paired_bootstrap",
    "partial_conjunction_pvalues",
    "permutation_test",
    "plan_comparisons",
    "pooled_sd",
    "replicability_count",
    "replicability_table",
    "runs_table",
    "seeds_needed",
    "seeds_to_reach",
    "summarize_examples",
    "welch_test",
]
