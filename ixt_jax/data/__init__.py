"""Data: vocabulary, record validation, held-out split and the Grain pipeline (no TensorFlow)."""
