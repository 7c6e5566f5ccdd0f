"""MoUs: drafting, commenting on, signing, publishing and amending Memoranda of
Understanding on each partnership's register (/partnerships/<slug>/mous/...)."""
