"""Learning a community's own words: imported history, workers' corrections, its own model."""
