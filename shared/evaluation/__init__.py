"""Offline (counterfactual) evaluation over the joined DSJSON archive: estimators with intervals
and weight diagnostics, policies replayed over the logs, and the Personalizer evaluation jobs."""
