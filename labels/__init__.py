"""Pure label and document rendering, and the GS1 helpers they need."""
