"""Network, endpoint and port-binding records in the state db (inside the caller's transaction)."""
from __future__ import annotations

from .db import dumps, loads
from .errors import NotFound
from .model import Endpoint, Network


def networks(tx) -> list[Network]:
    return [Network.from_doc(loads(d)) for (d,) in tx.rows("SELECT doc FROM networks ORDER BY name")]


def put_network(tx, net: Network) -> None:
    tx.execute("INSERT INTO networks (id, name, doc) VALUES (?,?,?) "
               "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
               (net.id, net.name, dumps(net.to_doc())))


def delete_network(tx, nid: str) -> None:
    tx.execute("DELETE FROM networks WHERE id = ?", (nid,))


def find_network(tx, ref: str) -> Network:
    """By full id, then exact name, then unique id prefix (Docker's order)."""
    if not isinstance(ref, str) or not ref:
        raise NotFound("network name or id is empty")
    row = tx.one("SELECT doc FROM networks WHERE id = ?", (ref,)) or \
        tx.one("SELECT doc FROM networks WHERE name = ?", (ref,))
    if row is None and all(c in "0123456789abcdef" for c in ref):
        rows = tx.rows("SELECT doc FROM networks WHERE substr(id, 1, ?) = ?", (len(ref), ref))
        if len(rows) > 1:
            raise NotFound(f"network {ref} is ambiguous ({len(rows)} matches found based on ID prefix)")
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"network {ref} not found")
    return Network.from_doc(loads(row[0]))


def endpoints(tx, network_id: str | None = None, container_id: str | None = None) -> list[Endpoint]:
    sql, args = "SELECT doc FROM endpoints", []
    conds = []
    if network_id is not None:
        conds.append("network_id = ?")
        args.append(network_id)
    if container_id is not None:
        conds.append("container_id = ?")
        args.append(container_id)
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    eps = [Endpoint.from_doc(loads(d)) for (d,) in tx.rows(sql, args)]
    return sorted(eps, key=lambda e: e.seq)


def put_endpoint(tx, ep: Endpoint) -> None:
    tx.execute("INSERT INTO endpoints (id, network_id, container_id, doc) VALUES (?,?,?,?) "
               "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
               (ep.id, ep.network_id, ep.container_id, dumps(ep.to_doc())))


def delete_endpoint(tx, eid: str) -> None:
    tx.execute("DELETE FROM endpoints WHERE id = ?", (eid,))


def next_seq(tx) -> int:
    row = tx.one("SELECT value FROM meta WHERE key = 'seq'")
    n = int(row[0]) + 1 if row else 1
    tx.execute("INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               (str(n),))
    return n


def ports(tx, container_id: str | None = None) -> list[dict]:
    if container_id is None:
        rows = tx.rows("SELECT doc FROM ports ORDER BY key")
    else:
        rows = tx.rows("SELECT doc FROM ports WHERE container_id = ? ORDER BY key", (container_id,))
    return [loads(d) for (d,) in rows]


def put_port(tx, key: str, container_id: str, doc: dict) -> None:
    tx.execute("INSERT INTO ports (key, container_id, doc) VALUES (?,?,?)", (key, container_id, dumps(doc)))


def delete_ports(tx, container_id: str, endpoint_id: str | None = None) -> list[dict]:
    gone = [p for p in ports(tx, container_id) if endpoint_id is None or p["EndpointId"] == endpoint_id]
    for p in gone:
        tx.execute("DELETE FROM ports WHERE key = ?", (p["Key"],))
    return gone
