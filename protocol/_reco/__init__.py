"""Associated products (step 506): the catalog, the rule recommender and the learned
pairing engine."""
