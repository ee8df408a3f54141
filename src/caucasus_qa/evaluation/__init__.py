"""Gold evaluation data: schema, loading and validation of ``eval/*.jsonl``."""
