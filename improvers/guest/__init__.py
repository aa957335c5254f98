"""Code that runs inside the sandbox next to generated programs (copied into its workspace)."""
