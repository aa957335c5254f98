"""Isolation backends, images, warm pools, limits and the audit."""
