#!/usr/bin/env python3
"""Hold N idle keep-alive HTTP/1.1 connections open to HOST:PORT.

Used by scripts/bench.sh. Opens N TCP connections (at most --parallel being set
up at once, so the listen backlog is never the bottleneck), sends one GET on
each and reads its whole response, so every connection is established, served
and left in keep-alive. Then prints one line

    READY established=E failed=F seconds=S errors=<reason:count,...>

to stdout and holds the connections idle until SIGTERM or SIGINT (or
--hold-max seconds). Then it checks which connections the server closed while
they were idle, prints

    DONE open=O closed_by_peer=C

closes everything and exits 0. Standard library only.
"""
import argparse
import collections
import errno
import select
import signal
import socket
import sys
import time


def response_complete(buf):
    """(complete, status) for one HTTP/1.x response in buf (None if unknown yet)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False, None
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        return True, -1
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body = buf[end + 4:]
    if chunked:
        return body.endswith(b"0\r\n\r\n"), status
    if length is None:
        return status in (204, 304), status
    return len(body) >= length, status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--path", default="/")
    ap.add_argument("--parallel", type=int, default=200, help="connections being set up at once")
    ap.add_argument("--timeout", type=float, default=90, help="seconds allowed for the set-up phase")
    ap.add_argument("--hold-max", type=float, default=600, help="never hold longer than this")
    args = ap.parse_args()

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: bench-idle-conns\r\n\r\n"
               % (args.path, args.host, args.port)).encode()
    ep = select.epoll()
    pending = {}  # fd -> [sock, state, buffer, started]
    idle = []
    errors = collections.Counter()
    started = 0
    failed = 0
    t0 = time.monotonic()

    def fail(fd, reason):
        nonlocal failed
        sock = pending.pop(fd)[0]
        try:
            ep.unregister(fd)
        except OSError:
            pass
        sock.close()
        failed += 1
        errors[reason] += 1

    while len(idle) + failed < args.count:
        while len(pending) < args.parallel and started < args.count:
            started += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.connect((args.host, args.port))
            except BlockingIOError:
                pass
            except OSError as e:
                sock.close()
                failed += 1
                errors["connect:" + errno.errorcode.get(e.errno, str(e.errno))] += 1
                continue
            pending[sock.fileno()] = [sock, "connecting", b"", time.monotonic()]
            ep.register(sock.fileno(), select.EPOLLOUT)
        if time.monotonic() - t0 > args.timeout:
            for fd in list(pending):
                fail(fd, "timeout:" + pending[fd][1])
            failed += args.count - started
            errors["not-started"] += args.count - started
            break
        for fd, _ in ep.poll(0.5):
            entry = pending.get(fd)
            if entry is None:
                continue
            sock = entry[0]
            if entry[1] == "connecting":
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(fd, "connect:" + errno.errorcode.get(err, str(err)))
                    continue
                try:
                    sock.send(request)  # small: goes out whole on a fresh socket
                except OSError as e:
                    fail(fd, "send:" + errno.errorcode.get(e.errno, str(e.errno)))
                    continue
                entry[1] = "reading"
                ep.modify(fd, select.EPOLLIN)
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                fail(fd, "recv:" + errno.errorcode.get(e.errno, str(e.errno)))
                continue
            if not data:
                fail(fd, "closed-before-response")
                continue
            entry[2] += data
            complete, status = response_complete(entry[2])
            if not complete:
                continue
            if status is None or not 200 <= status < 300:
                fail(fd, "status:%s" % status)
                continue
            ep.unregister(fd)
            pending.pop(fd)
            idle.append(sock)

    seconds = time.monotonic() - t0
    err_text = ",".join("%s:%d" % kv for kv in sorted(errors.items())) or "none"
    print("READY established=%d failed=%d seconds=%.2f errors=%s"
          % (len(idle), failed, seconds, err_text), flush=True)

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.sigtimedwait({signal.SIGTERM, signal.SIGINT}, args.hold_max)

    still_open = 0
    closed = 0
    for sock in idle:
        try:
            data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            if data:
                still_open += 1  # unexpected bytes, but the connection is up
            else:
                closed += 1
        except BlockingIOError:
            still_open += 1
        except OSError:
            closed += 1
    print("DONE open=%d closed_by_peer=%d" % (still_open, closed), flush=True)
    for sock in idle:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
