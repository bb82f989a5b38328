"""The recommender evaluation (``assocsim reco eval``) on real baskets."""
