"""Reports for decision makers: KPI per period and per group, topic trends, charts drawn on the server as
SVG, CSV / XLSX export, a printable monthly report (issue 6). Formulas: docs/KPI.md."""
