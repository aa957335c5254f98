# attack: policy_missing_in_install
# class: 9
# category: policy_bypass
# kind: sandbox_disable
# run: install
# check: policy_applies
# describe: an installed ouro (pip install ., not editable) without the repository's policies.toml: the loader must not fall back to a policy with no audit rules
# The self-test copies ouro's packages as a wheel would lay them out, leaving out these files, and loads the default policy from that copy.
DROP = ["policies.toml"]
