"""The built-in methodology editions, one package each (TOML data + a hookimpl).

They are listed in `plugins.manager.DEFAULT_PLUGINS` and register through the same
`register_methodologies` hook as any third-party edition package.
"""
