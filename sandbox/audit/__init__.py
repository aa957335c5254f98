"""The sandbox-escape audit: in-sandbox hook events (channel), static scan of generated code,
container signals, policy rules, the tamper-evident log, `ouro audit`, and a red-team self-test."""
