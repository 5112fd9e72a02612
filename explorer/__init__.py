"""What the user sees: one module per view (analyze -> plain result -> figures -> tab)."""
