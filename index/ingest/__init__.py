"""Articles in: files and web pages read, cleaned, dated and their language told."""
