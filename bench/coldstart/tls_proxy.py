#!/usr/bin/env python3
"""A TLS terminator for the cold-start benchmark: each listener accepts TLS on 127.0.0.1 and relays
the plaintext to a local HTTP server (DynamoDB Local, the S3 server), so that a function pointed
at https://localhost:PORT pays for TLS what it pays in AWS.

    tls_proxy.py --cert CHAIN.pem --key KEY.pem --stats STATS.json --ready READY \
                 NAME=LISTEN_PORT:BACKEND_PORT ...

CHAIN.pem is the leaf certificate followed by the intermediate (as AWS endpoints send theirs).
After each completed handshake STATS.json is rewritten (atomically): per listener, the number of
TLS handshakes completed, how many resumed a session, and the TLS versions seen. READY is written
once every listener is bound. Stops on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl

STATS = {}
STATS_PATH = None


def write_stats():
    tmp = STATS_PATH + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATS, f)
    os.replace(tmp, STATS_PATH)


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - closing a broken transport
            pass


def handler(name, backend_port):
    async def handle(client_reader, client_writer):
        # The handshake is complete when asyncio calls this.
        ssl_object = client_writer.get_extra_info("ssl_object")
        stats = STATS[name]
        stats["handshakes"] += 1
        if ssl_object is not None:
            if ssl_object.session_reused:
                stats["resumed"] += 1
            version = ssl_object.version()
            stats["versions"][version] = stats["versions"].get(version, 0) + 1
            cipher = ssl_object.cipher()
            if cipher:
                stats["ciphers"][cipher[0]] = stats["ciphers"].get(cipher[0], 0) + 1
        write_stats()
        try:
            backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", backend_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, backend_writer), pipe(backend_reader, client_writer)
        )

    return handle


async def main():
    global STATS_PATH
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("routes", nargs="+", help="NAME=LISTEN_PORT:BACKEND_PORT")
    args = parser.parse_args()
    STATS_PATH = args.stats

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    context.minimum_version = ssl.TLSVersion.TLSv1_2

    servers = []
    for route in args.routes:
        name, ports = route.split("=", 1)
        listen, backend = (int(p) for p in ports.split(":", 1))
        STATS[name] = {"handshakes": 0, "resumed": 0, "versions": {}, "ciphers": {}}
        servers.append(
            await asyncio.start_server(
                handler(name, backend), "127.0.0.1", listen, ssl=context, backlog=128
            )
        )
    write_stats()
    with open(args.ready, "w") as f:
        f.write(str(os.getpid()))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
