"""ouro's repair agent: CLI, workspace, test running, localization, policies, search."""
