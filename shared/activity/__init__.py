"""Shopper activity: capture (POST /api/activity -> the `activity` hub), rewards from activity,
per-batch pre-aggregation into Cosmos (`aggregates`, `profiles`), the raw archive in Blob, and the
reads the offers engine and the insights API make."""
