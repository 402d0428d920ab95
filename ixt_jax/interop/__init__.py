"""Interoperability with the field's tools (Hugging Face `transformers`); numpy and JSON only here."""
