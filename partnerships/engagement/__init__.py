"""Engagement plans (what a partnership commits to each year) and the engagement record
(whether it did it), computed from the real records of meetings, requests, placements
and MoUs."""
