#!/usr/bin/env python3
"""Print N distinct free TCP ports on 127.0.0.1, outside the ephemeral range.

Usage: free_ports.py N

A port in the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
once free, can be taken as the local port of anyone's outgoing connection (a
load generator's, a proxy's, another job's) before a server binds or re-binds
it; so the ports come from 20000 up to that range and from above it. Each one
is checked free by binding it (no SO_REUSEADDR: a port in TIME_WAIT is skipped
too). Prints them on one line, separated by spaces; exits 1 if fewer were free.
"""
import random
import socket
import sys


def candidate_ports():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = (int(x) for x in f.read().split())
    pool = [p for p in range(20000, 65536) if p < low or p > high]
    random.shuffle(pool)
    return pool


def bindable(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    wanted = int(sys.argv[1])
    picked = []
    for port in candidate_ports():
        if len(picked) == wanted:
            break
        if bindable(port):
            picked.append(port)
    if len(picked) < wanted:
        sys.exit("free_ports.py: only %d of %d ports free" % (len(picked), wanted))
    print(" ".join(map(str, picked)))


if __name__ == "__main__":
    main()
