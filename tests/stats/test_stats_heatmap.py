"""Issue 14, point 6: the heatmap's language labels stay apart ("avgzh" was "avg" running into "zh")."""

from __future__ import annotations

import itertools

from matplotlib.backends.backend_agg import FigureCanvasAgg

from xlt_lib.stats import compare_conditions
from xlt_lib.stats.plots import difference_heatmap
from xlt_lib.stats.simulate import simulate_results


def test_fifteen_languages_and_the_average_have_separate_horizontal_labels() -> None:
    table = compare_conditions(simulate_results(rng=0), n_resamples=99)
    fig = difference_heatmap(table)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    assert [label.get_text() for label in labels][-2:] == ["zh", "avg"] and len(labels) == 16
    assert all(label.get_rotation() == 0 for label in labels)
    boxes = [label.get_window_extent(renderer) for label in labels]
    assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes))
    title = ax.title.get_window_extent(renderer)
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width  # the title is not cut off
