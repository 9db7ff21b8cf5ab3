"""ictindex, the application: `Ictindex` is the Python API (everything the command line does),
`ictindex.cli` the command line over it.

    from ictindex import Ictindex
"""

from ictindex.app import Ictindex

__all__ = ["Ictindex"]
