"""Dockyard's nftables tables (NAT, published ports, isolation), rebuilt from the network state.

Every change renders both tables again and replaces them in one atomic nftables transaction;
``remove`` deletes them. No other table is read or written.
"""
from __future__ import annotations

from . import nft as nftmod
from . import nftrules as R


class Firewall:
    def __init__(self, tables: R.Tables | None = None, backend=None):
        self.tables = tables or R.Tables()
        self.backend = backend or nftmod.default()

    def apply(self, nets, dnats) -> None:
        self.backend.run(R.render(self.tables, nets, dnats))

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
