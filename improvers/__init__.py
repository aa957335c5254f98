"""Everything that makes ouro better at its job: STOP improvers, the learned policy, serving."""
