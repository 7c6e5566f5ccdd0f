"""Forums: standing groups inside a partnership, their membership and discussions."""
