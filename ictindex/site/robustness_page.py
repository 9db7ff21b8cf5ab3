"""The site's robustness page (``site --robustness-samples N``): for every tier, the rank
interval of each unit under ±20 % weight variation (`engine.robustness`), as the chart of
`ictindex.robustness_chart` and a table of the most and least robust ranks, with the command
that reproduces it (template: ictindex/site/templates/robustness.html)."""

from __future__ import annotations

WEIGHTS = "weights=±20%"
PAGE = "robustness.html"
