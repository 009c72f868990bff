# A real SMTP server for tests (aiosmtpd): every accepted message becomes NNNNNN.eml (the raw
# bytes as received) plus NNNNNN.json (the envelope) in the output directory.
#
# Started by cordon-mail's `testing::SmtpSink`. It binds 127.0.0.1 on a free port, prints
# "LISTENING <port>" once it accepts connections, and exits when its standard input closes
# (the test process went away) or on SIGTERM/SIGKILL.
#
# Recipients whose local part starts with "reject" get 550, with "defer" get 451, so tests can
# exercise permanent and transient SMTP errors.
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.seq = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("defer"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        name = "%06d" % self.seq
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": _auth_user(session),
        }
        _write(os.path.join(self.outdir, name + ".json"), json.dumps(meta).encode())
        # The .eml is written last: its presence means the message is complete.
        _write(os.path.join(self.outdir, name + ".eml"), envelope.original_content)
        return "250 2.0.0 Ok: queued as %s" % name


def _auth_user(session):
    data = getattr(session, "auth_data", None)
    if isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return None


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    args = p.parse_args()

    tls_ctx = None
    if args.cert:
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(args.cert, args.key)

    authenticator = None
    if args.user is not None:
        want = (args.user.encode(), (args.password or "").encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == want
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

    handler = Handler(args.dir)

    def factory():
        return SMTP(
            handler,
            hostname="cordon-test-sink",
            decode_data=False,
            tls_context=None if args.implicit_tls else tls_ctx,
            require_starttls=args.require_starttls,
            authenticator=authenticator,
            auth_required=authenticator is not None,
            auth_require_tls=False,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=0,
            ssl=tls_ctx if args.implicit_tls else None,
        )
    )
    port = server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)

    # Stop when the parent closes our stdin (it exited or dropped the sink).
    stop = loop.create_future()

    def on_stdin():
        if not sys.stdin.buffer.read1(4096):
            loop.remove_reader(sys.stdin.fileno())
            if not stop.done():
                stop.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()
