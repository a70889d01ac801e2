"""All SQL lives in this package, one module per record family."""
