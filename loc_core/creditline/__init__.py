"""The line-of-credit product: applications, lines, draws, billing, statements, payments."""
