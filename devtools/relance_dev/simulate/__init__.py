"""Season simulation: replay days through the real handlers on the embedded AWS."""
