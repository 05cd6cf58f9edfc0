"""Personalized offers: POST /api/offers. Each step is a small replaceable function:
eligibility -> candidates -> features -> rank (the one engine, shared/ranker.py) -> answer,
with a stable control group served the non-personalized choice under the same rules."""
