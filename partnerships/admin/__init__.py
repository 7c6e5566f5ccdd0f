"""Site administration: create partnerships, appoint officers, see accounts."""
