"""Command line of the desk (``bin/desk``): serve, print sign-in links, rotate tokens.

    bin/desk [serve] [--host 127.0.0.1] [--port 8765] [--configfile FILE ...]
                     [--public-url URL] [--forwarded-allow-ips IPS] [--hsts-seconds N]
                     [--links | --no-links] [--no-refresh]
    bin/desk links [--public-url URL] [--configfile FILE ...]
    bin/desk rotate-tokens [PERSON ...]        (no PERSON: everyone, and a new signing key)

Exit codes: 0 done, 1 other failure, 2 bad arguments, 3 invalid config or token files.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import uvicorn

from ..errors import ReviewError
from .app import STATE_DIR, create_app
from .people import ROLES, Person
from .project import Project
from .tokens import TokenStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
log = logging.getLogger("livingreview.desk")


def base_url(host: str, port: int, public_url: str | None) -> str:
    """Where people reach the desk: ``--public-url`` behind a proxy, else host and port."""
    if public_url:
        return public_url.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def link_lines(
    people: Mapping[str, Person], tokens: Mapping[str, str], url: str, width: int = 0
) -> list[str]:
    """One line per person: id, role(s), sign-in link (ids padded to ``width``)."""
    width = max([width, *(len(p) for p in people)])
    return [
        f"{person.id:<{width}}  {', '.join(person.roles):<22}  {url}/signin?token={tokens[person.id]}"
        for person in people.values()
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bin/desk",
        description=(
            "The reviewers' desk: screening, adjudication, data extraction and duplicate "
            "verdicts in the browser."
        ),
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "links", "rotate-tokens"],
        help="serve (default), links (print sign-in links), rotate-tokens [PERSON ...]",
    )
    parser.add_argument("people", nargs="*", help="rotate-tokens: whose (default everyone)")
    parser.add_argument("--directory", default=".", help="project root (default: .)")
    parser.add_argument(
        "--configfile",
        action="append",
        default=[],
        metavar="FILE",
        help="extra config file merged over config.yaml, as snakemake --configfile",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument(
        "--public-url",
        help=(
            "address people use behind a reverse proxy (e.g. https://desk.example.org); "
            "an https address makes every cookie Secure"
        ),
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help=(
            "comma-separated addresses of the reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed (default: none; 127.0.0.1 when --public-url is "
            "given). Without a trusted proxy the desk sees the connecting address, so a "
            "client cannot pick the address the sign-in throttle counts"
        ),
    )
    parser.add_argument(
        "--hsts-seconds",
        type=int,
        default=0,
        metavar="N",
        help=(
            "send Strict-Transport-Security: max-age=N (needs an https --public-url; "
            "default 0: not sent). It binds the whole host name, whatever the port: for N "
            "seconds browsers that saw it refuse plain http to every service on that host"
        ),
    )
    parser.add_argument(
        "--no-refresh",
        dest="refresh",
        action="store_false",
        help=(
            "do not run the workflow after saves (by default the desk runs it locally once "
            "it has been quiet for desk.refresh_quiet_seconds)"
        ),
    )
    links = parser.add_mutually_exclusive_group()
    links.add_argument(
        "--links", dest="links", action="store_true", default=None, help="print links"
    )
    links.add_argument("--no-links", dest="links", action="store_false", help="do not print links")
    return parser


def _rotate(project: Project, store: TokenStore, people: Sequence[str], url: str) -> int:
    unknown = [p for p in people if p not in project.people]
    if unknown:
        print(
            f"desk: unknown person {', '.join(unknown)}; known: {', '.join(project.people)}",
            file=sys.stderr,
        )
        return 2
    everyone = not people
    chosen = list(people) or list(project.people)
    tokens = store.rotate(chosen, everyone)
    print(
        f"desk: new sign-in links for {', '.join(chosen)} (old links and their sessions no "
        "longer work" + ("; every session ended" if everyone else "") + "):"
    )
    subset = {p: project.people[p] for p in chosen}
    width = max(len(p) for p in project.people)
    print("\n".join(link_lines(subset, tokens, url, width)))
    return 0


def forwarded_allow_ips(args: argparse.Namespace) -> str:
    """The proxies trusted for forwarded headers: as given, else the local proxy that a
    ``--public-url`` implies, else none."""
    if args.forwarded_allow_ips is not None:
        return str(args.forwarded_allow_ips).strip()
    return "127.0.0.1" if args.public_url else ""


def server_options(args: argparse.Namespace) -> dict[str, object]:
    """uvicorn's settings: forwarded headers believed only from the trusted proxies."""
    trusted = forwarded_allow_ips(args)
    return {
        "host": args.host,
        "port": args.port,
        "access_log": False,  # it would print sign-in query strings; the desk logs its own
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "server_header": False,
        "log_level": "info",
    }


def _check_transport(args: argparse.Namespace) -> str:
    """Why the HTTPS settings do not fit together ('' when they do)."""
    if args.hsts_seconds < 0:
        return "--hsts-seconds must be 0 (off) or more"
    if args.hsts_seconds and not (args.public_url or "").startswith("https://"):
        return (
            "--hsts-seconds needs an https --public-url (browsers ignore HSTS over plain "
            "http, and it binds the whole host name)"
        )
    return ""


def _serve(args: argparse.Namespace, project: Project, store: TokenStore, url: str) -> int:
    app = create_app(
        project.root,
        args.configfile,
        state_dir=store.state_dir,
        refresh=args.refresh,
        public_url=args.public_url,
        hsts_seconds=args.hsts_seconds,
    )
    show = args.links if args.links is not None else sys.stdout.isatty()
    print(f"desk: serving {project.root} at {url} (roles: {', '.join(ROLES)})")
    if args.refresh and project.config.get("desk", {}).get("refresh", True):
        print(
            "desk: the review refreshes itself after saves (a local snakemake run, log in "
            "logs/desk/); --no-refresh to leave runs to the terminal or the scheduler"
        )
    if show:
        print("desk: sign-in links (each is a password: give it only to that person):")
        print("\n".join(link_lines(project.people, store.ensure(project.people), url)))
    else:
        print("desk: sign-in links not printed (output is not a terminal); run: bin/desk links")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and not args.public_url:
        print(
            "desk: WARNING: listening beyond this machine without TLS; put a reverse proxy "
            "with TLS in front and pass --public-url (README: 'The reviewers' desk')",
            file=sys.stderr,
        )
    trusted = forwarded_allow_ips(args)
    print(
        f"desk: X-Forwarded-For/-Proto believed from {trusted}"
        if trusted
        else "desk: no proxy trusted: X-Forwarded-* headers are ignored"
    )
    sys.stdout.flush()
    uvicorn.run(app, **server_options(args))  # type: ignore[arg-type]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command != "rotate-tokens" and args.people:
        print(f"desk: unexpected arguments {' '.join(args.people)}", file=sys.stderr)
        return 2
    transport = _check_transport(args)
    if transport:
        print(f"desk: {transport}", file=sys.stderr)
        return 2
    # Like snakemake --configfile: relative to where the command was typed.
    args.configfile = [str(Path(f).resolve()) for f in args.configfile]
    try:
        project = Project.load(Path(args.directory), args.configfile)
        store = TokenStore(project.root / STATE_DIR)
        url = base_url(args.host, args.port, args.public_url)
        if args.command == "rotate-tokens":
            return _rotate(project, store, args.people, url)
        if args.command == "links":
            print("\n".join(link_lines(project.people, store.ensure(project.people), url)))
            return 0
        return _serve(args, project, store, url)
    except ReviewError as error:
        print(f"desk: {error}", file=sys.stderr)
        return error.exit_code
