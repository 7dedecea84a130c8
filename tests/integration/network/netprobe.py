"""Tiny network probes run inside the test namespaces (standard library only, run with -I -S).

    netprobe.py serve-tcp PORT       answer each connection with "<tag> <peer ip>" ("ready" on stdout first)
    netprobe.py serve-udp PORT       answer each datagram the same way
    netprobe.py tcp HOST PORT [TIMEOUT]   print what the server sent (exit 1 on failure)
    netprobe.py udp HOST PORT [TIMEOUT]   the same over UDP
    netprobe.py resolve NAME         print the IPv4 addresses of NAME (via /etc/resolv.conf)
"""
import socket
import sys

TIMEOUT = 3.0


def serve(proto: str, port: int, tag: str) -> None:
    fam = socket.AF_INET
    if proto == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(16)
        print("ready", flush=True)
        while True:
            c, peer = s.accept()
            c.sendall(f"{tag} {peer[0]}".encode())
            c.close()
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"{tag} {peer[0]} {data.decode()}".encode(), peer)


def get(proto: str, host: str, port: int, timeout: float) -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if proto == "udp":
            s.send(b"hi")
            data = s.recv(2048)
        else:
            data = b""
            while True:
                chunk = s.recv(2048)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        print(f"error {e}", file=sys.stderr)
        return 1
    print(data.decode())
    return 0


def main(argv) -> int:
    cmd = argv[1]
    if cmd in ("serve-tcp", "serve-udp"):
        serve(cmd[-3:], int(argv[2]), argv[3] if len(argv) > 3 else "hello")
        return 0
    if cmd in ("tcp", "udp"):
        return get(cmd, argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else TIMEOUT)
    if cmd == "resolve":
        try:
            infos = socket.getaddrinfo(argv[2], None, socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            print(f"error {e}", file=sys.stderr)
            return 1
        print(" ".join(sorted({i[4][0] for i in infos})))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
