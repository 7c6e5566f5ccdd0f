"""Raising a concern about how a partnership engages (issue 17's "real-time issue
reporting"): anyone raises one, officers acknowledge, respond and close it, and with
the raiser's consent the concern and its response are shown publicly."""
