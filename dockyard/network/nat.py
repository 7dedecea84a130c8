"""Dockyard's nftables tables (NAT, published ports, isolation), rebuilt from the network state.

Every change refills both tables in one atomic nftables transaction (a new published port is only
appended); ``remove`` deletes them. No other table is read or written.
"""
from __future__ import annotations

from . import nft as nftmod
from . import nftrules as R
from .errors import NetworkError


class Firewall:
    def __init__(self, tables: R.Tables | None = None, backend=None):
        self.tables = tables or R.Tables()
        self.backend = backend or nftmod.default()

    def apply(self, nets, dnats) -> None:
        try:
            self.backend.run(R.render(self.tables, nets, dnats))
        except NetworkError:
            # chains of another shape (an older version's) cannot be refilled: start afresh
            self.backend.run(R.render(self.tables, nets, dnats, recreate=True))

    def add_dnats(self, dnats) -> None:
        if dnats:
            self.backend.run(R.render_add_dnats(self.tables, dnats))

    def remove(self) -> None:
        self.backend.run(R.render_delete(self.tables))

    def ruleset(self) -> str:
        """The current text of Dockyard's two tables ("" if absent)."""
        out = []
        for t in (self.tables.filter, self.tables.nat):
            try:
                out.append(self.backend.run(f"list table ip {t}"))
            except Exception:
                pass
        return "".join(out)
