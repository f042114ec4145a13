"""Judging a transferability metric (docs/evaluation.md): measures per group, a hierarchical bootstrap, the
truth's reliability, target-agnostic baselines, stability under perturbed setups, and pre-registered claims.

Layer 0: imports nothing of gtransfer but :mod:`gtransfer.io`. Every name of the former ``gtransfer.evaluation``
module (``spearman``, ``bootstrap_ci``, ``majority_accuracy``, ...) is importable from here as before.
"""

from gtransfer.evaluation.baselines import (
    BaselineGain,
    attribute_scores,
    baseline_measures,
    dataset_of,
    gain_over_baselines,
    leave_one_dataset_out_truth,
    negative_label_entropy,
    per_group_measure,
    random_measure,
)
from gtransfer.evaluation.bootstrap import (
    INTERVAL_METHODS,
    Interval,
    hierarchical_bootstrap,
    percentile_interval,
    t_calibrated_interval,
)
from gtransfer.evaluation.measures import (
    CORRELATIONS,
    LOWER_IS_BETTER,
    MEASURES,
    Measure,
    bootstrap_ci,
    evaluate_metric,
    kendall,
    majority_accuracy,
    numerically_constant,
    pearson,
    regret,
    relative_accuracy,
    relative_auc,
    relative_to_majority,
    relative_to_scratch,
    spearman,
    top1_relative_accuracy,
    truth_higher_is_better,
    weighted_kendall,
)
from gtransfer.evaluation.preregistration import (
    ClaimSpec,
    ClaimVerdict,
    RegistrationCheck,
    check_registration,
    decide_claim,
    load_claim_spec,
    rule_verdict,
    spec_digest,
)
from gtransfer.evaluation.reliability import (
    Exclusion,
    ExclusionRule,
    SplitHalf,
    correlation_ceiling,
    exclude_groups,
    reliability_per_group,
    spearman_brown,
    split_half_reliability,
)
from gtransfer.evaluation.stability import (
    Decision,
    Setup,
    Stability,
    kendalls_w,
    mean_pairwise_tau,
    perturbed_setups,
    verdict_stability,
)

__all__ = [
    # measures (measures.py)
    "pearson", "spearman", "kendall", "weighted_kendall", "top1_relative_accuracy", "regret", "CORRELATIONS",
    "MEASURES", "Measure", "bootstrap_ci", "evaluate_metric", "majority_accuracy", "relative_accuracy",
    "relative_to_majority", "relative_to_scratch", "relative_auc", "numerically_constant", "truth_higher_is_better",
    "LOWER_IS_BETTER",
    # the hierarchical bootstrap (bootstrap.py)
    "Interval",
    "hierarchical_bootstrap",
    "percentile_interval",
    "t_calibrated_interval",
    "INTERVAL_METHODS",
    # truth reliability and exclusion (reliability.py)
    "SplitHalf", "split_half_reliability", "reliability_per_group", "spearman_brown", "correlation_ceiling",
    "ExclusionRule", "Exclusion",
    "exclude_groups",
    # target-agnostic baselines (baselines.py)
    "per_group_measure", "random_measure", "leave_one_dataset_out_truth", "attribute_scores", "negative_label_entropy",
    "baseline_measures", "BaselineGain", "gain_over_baselines", "dataset_of",
    # stability (stability.py)
    "Setup", "Decision", "Stability", "perturbed_setups", "verdict_stability", "kendalls_w", "mean_pairwise_tau",
    # pre-registered claims (preregistration.py)
    "ClaimSpec", "load_claim_spec", "spec_digest", "RegistrationCheck", "check_registration", "rule_verdict",
    "ClaimVerdict", "decide_claim",
]
