"""Public pages: home, accessibility statement, privacy notice, cookies, health check."""
