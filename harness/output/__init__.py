"""Output: what a run leaves on disk and shows: results folder and summary.json,
JUnit, markdown summary, the static HTML page (its CSS/JS are package data)."""
