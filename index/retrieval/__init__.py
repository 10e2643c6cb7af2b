"""From text to vectors and back: chunks, embeddings, the lexical leg, search, confidence."""
