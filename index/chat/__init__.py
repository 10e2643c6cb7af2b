"""A conversation with the index: pages of an answer, follow-ups, readers' votes, gaps,
small talk and questions about the collection itself."""
