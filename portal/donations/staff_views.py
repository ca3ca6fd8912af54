"""Staff pages for donations (filled in below)."""
