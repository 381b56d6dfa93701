"""Figures of the comparison results (seaborn), for the significance notebook and the report.

Each function returns its figure and draws nothing else, so that a notebook
shows it once and a test can check what was drawn.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from xlt_lib.conditions import CONDITION_KINDS
from xlt_lib.stats.design import AVERAGE, COMPARISON_KINDS
from xlt_lib.stats.summary import CORRECTION_NAMES

#: Largest figure size (inches) of the heatmap; at the notebook's 100 dpi about 1,400 x 650 pixels.
MAX_WIDTH, MAX_HEIGHT = 14.0, 6.5


def _column_label(row: pd.Series) -> str:
    return f"{row['target']} · {row['intermediate']}\n{row['treatment']} vs {row['reference']}"


def difference_heatmap(comparisons: pd.DataFrame, *, kinds: tuple[str, ...] | None = None) -> Figure:
    """Language x comparison heatmap of differences in points; ``*`` marks significant cells.

    Rows are languages (``avg`` last), columns are comparisons (target, intermediate
    task, treatment vs reference), grouped by comparison kind in report order.
    Colour is centred on 0 (red: treatment worse, blue: treatment better).
    """
    kinds = tuple(COMPARISON_KINDS) if kinds is None else kinds
    made = comparisons["compared"].astype(bool) if "compared" in comparisons else True
    table = comparisons[made & comparisons["comparison"].isin(kinds)].copy()
    table["column"] = table.apply(_column_label, axis=1)
    table["kind_order"] = table["comparison"].map(list(COMPARISON_KINDS).index)
    columns = list(dict.fromkeys(table.sort_values(["kind_order", "target", "intermediate"])["column"]))
    languages = [*sorted(set(table["language"]) - {AVERAGE}), AVERAGE]
    diff = 100 * table.pivot(index="language", columns="column", values="diff").reindex(
        index=languages, columns=columns
    )
    significant = (
        table.pivot(index="language", columns="column", values="significant")
        .reindex(index=languages, columns=columns)
        .fillna(False)
        .astype(bool)
    )
    labels = np.where(
        diff.isna(),
        "",
        diff.map(lambda v: f"{v:+.1f}" if pd.notna(v) else "") + np.where(significant, "*", ""),
    )
    limit = float(np.nanmax(np.abs(diff.to_numpy()))) if diff.notna().any().any() else 1.0
    # Capped, so that 15 languages x many comparisons stay one screen tall in a report.
    width = min(MAX_WIDTH, max(4.0, 1.9 * len(columns) + 1.5))
    height = min(MAX_HEIGHT, max(3.0, 0.32 * len(languages) + 1.5))
    fig, ax = plt.subplots(figsize=(width, height))
    sns.heatmap(
        diff,
        annot=labels,
        fmt="",
        cmap="RdBu",
        center=0,
        vmin=-limit,
        vmax=limit,
        linewidths=0.5,
        cbar_kws={"label": "difference (points)"},
        ax=ax,
    )
    correction = CORRECTION_NAMES.get(str(table["correction"].iloc[0]), "") if not table.empty else ""
    ax.set_title(
        f"Treatment minus reference ({table['metric'].iloc[0]}, points)\n* significant after {correction}",
        fontsize="medium",
    )
    ax.set_xlabel("")
    ax.set_ylabel("language")
    # Language codes read horizontally: seaborn turns them vertical when rows are short, and then a
    # three-letter code runs into its neighbour ("avg" into "zh").
    ax.tick_params(axis="y", labelrotation=0)
    fig.tight_layout()
    plt.close(fig)
    return fig


def language_scores(results: pd.DataFrame, *, metric: str = "accuracy", seed: int = 0) -> sns.FacetGrid:
    """Per-language mean score of each condition with a 95% bootstrap CI over seeds, one panel per target.

    Conditions are labelled ``intermediate / condition`` and ordered by kind
    (none, monolingual, code-switched), as in the report's tables; the interval is
    seaborn's percentile bootstrap of the mean over seeds (seeded), which with
    few seeds is narrow and descriptive, not a test.
    """
    data = results.copy()
    data["score"] = 100 * data[metric]
    data["condition"] = np.where(
        data["intermediate"] == "none", data["condition"], data["intermediate"] + " / " + data["condition"]
    )
    kind_order = {kind: i for i, kind in enumerate(CONDITION_KINDS)}
    hue_order = list(
        data.assign(order=data["condition_kind"].map(kind_order))
        .sort_values(["order", "condition"])["condition"]
        .drop_duplicates()
    )
    grid = sns.catplot(
        data=data,
        x="language",
        y="score",
        hue="condition",
        hue_order=hue_order,
        col="target",
        col_wrap=2 if data["target"].nunique() > 2 else None,
        kind="point",
        errorbar=("ci", 95),
        seed=seed,
        dodge=0.5,
        linestyle="none",
        sharex=False,
        sharey=False,
        height=3.6,
        aspect=1.8,
    )
    grid.set_axis_labels("language", f"{metric} (points)")
    grid.set_titles("{col_name}")
    plt.close(grid.figure)
    return grid
