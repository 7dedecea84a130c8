"""Container networking: bridge networks, persistent IPAM, veth endpoints, nftables NAT and
isolation, published ports, the embedded DNS server, and ``NetworkService`` that ties them together.

Nothing here imports the daemon; the daemon drives ``service.NetworkService`` from a worker thread
(its methods block on netlink and nftables). Third-party imports (pyroute2) happen lazily.
"""
