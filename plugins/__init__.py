"""The plugin host: hookspecs (the public extension API), the plugin manager and registry.

A plugin package writes ``from plugins import hookimpl`` (or builds its own
``pluggy.HookimplMarker("ictindex")``, which is the same marker).
"""

from plugins.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
