"""The learned repair policy: bug data, the torch ranker, CYCLE-style fine-tuning, serving."""
