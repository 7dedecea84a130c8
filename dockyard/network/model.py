"""The records the service keeps: networks and endpoints (JSON documents in the state db)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_MTU = "com.docker.network.driver.mtu"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
OPT_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"
OPT_DEFAULT_BRIDGE = "com.docker.network.bridge.default_bridge"

PREDEFINED = ("bridge", "host", "none")


@dataclass
class Network:
    id: str
    name: str
    created: str
    driver: str = "bridge"            # bridge | host | null
    bridge: str = ""
    internal: bool = False
    attachable: bool = False
    mtu: int | None = None
    icc: bool = True
    masquerade: bool = True
    host_binding: str = ""            # default host address of published ports
    user_subnet: bool = False         # --subnet given (then --ip is allowed)
    default: bool = False             # the default bridge network
    options: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    @property
    def is_bridge(self) -> bool:
        return self.driver == "bridge"

    @property
    def user_defined(self) -> bool:
        """User-defined bridge networks get the embedded DNS server."""
        return self.is_bridge and not self.default

    def to_doc(self) -> dict:
        return asdict(self)

    @classmethod
    def from_doc(cls, d: dict) -> "Network":
        return cls(**d)


@dataclass
class Endpoint:
    id: str
    network_id: str
    container_id: str
    name: str                         # the container's name (resolvable on user networks)
    address: str
    prefixlen: int
    gateway: str                      # the network's gateway ("" on internal networks' routes)
    mac: str
    host_ifname: str
    ifname: str = ""                  # inside the container
    netns_path: str = ""
    aliases: list = field(default_factory=list)
    dns: list = field(default_factory=list)   # the container's --dns servers (upstreams for it)
    user_ip: bool = False
    seq: int = 0

    def to_doc(self) -> dict:
        return asdict(self)

    @classmethod
    def from_doc(cls, d: dict) -> "Endpoint":
        return cls(**d)

    def dns_names(self) -> list[str]:
        names = [self.name] if self.name else []
        names += [a for a in self.aliases if a not in names]
        short = self.container_id[:12]
        if short and short not in names:
            names.append(short)
        return names
