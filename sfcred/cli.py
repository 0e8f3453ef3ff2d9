"""The only module that touches the process: argv, stdin/stdout/stderr, exit codes.

``main(argv) -> int`` parses, dispatches to a command function, prints what it returns, and
turns the one exception tree (``errors``) into exit codes in one place.
"""

from __future__ import annotations

import os
import sys

from sfcred.errors import InputError, SalesforceRefused, SfcredError
from sfcred.helper.warm import ACTIONS as HELPER_ACTIONS

TYPE_CHECKING = False  # typing and argparse stay out of the warm path of `get`
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import NoReturn, TextIO

    from sfcred.commands import Console

PROG = "sfcred"


def _read_request(stream: TextIO | None) -> str:
    """Lines up to a blank line or EOF; a terminal is never waited on."""
    if stream is None or stream.isatty():
        return ""
    buf = getattr(stream, "buffer", None)
    lines: list[str] = []
    while True:
        raw = buf.readline() if buf is not None else stream.readline().encode()
        if not raw or raw in (b"\n", b"\r\n"):
            break
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"input line {len(lines) + 1}: not UTF-8") from None
        if len(lines) > 1000:
            raise InputError("input has over 1,000 lines; refusing it")
    return "".join(lines)


_OPEN_LINE: list[bool] = []  # a progress line is on the terminal, to end before the next


def _err(msg: str) -> None:
    _end_progress()
    print(f"{PROG}: {msg}", file=sys.stderr)


def _end_progress() -> None:
    if _OPEN_LINE:
        _OPEN_LINE.clear()
        sys.stderr.write("\n")


def _trace(line: str) -> None:
    _err(f"trace: {line}")


_TRACING: list[bool] = []


def _tracing(argv: list[str]) -> None:
    """``SFCRED_TRACE=1`` or ``--verbose`` among sfcred's own words (not after ``--``): then
    the trace module is loaded and started. Off, nothing is imported for it."""
    own = argv[:argv.index("--")] if "--" in argv else argv
    wanted = os.environ.get("SFCRED_TRACE", "") not in ("", "0") or "--verbose" in own
    _TRACING[:] = [True] if wanted else []
    if wanted:
        from sfcred.salesforce import trace

        trace.start(_trace)
    elif "sfcred.salesforce.trace" in sys.modules:  # started by an earlier main() (tests)
        sys.modules["sfcred.salesforce.trace"].stop()


def cmd_helper(action: str, profile: str | None, fmt: str, stdin: TextIO | None,
               git: bool = False) -> int:
    """get / store / erase: the warm path (``warm.answer``) when a FRESH token is cached,
    else the full core (``helper.handle``). Read, call, write."""
    from sfcred.helper import warm

    try:
        request: str | SfcredError = _read_request(stdin)
    except SfcredError as e:  # store ignores a bad request; get and erase report it
        request = e
    done = None
    say: Callable[[str], None] | None = None
    if _TRACING:  # only then: a get without trace imports nothing for it
        from sfcred.salesforce import trace

        say = trace.say
    if isinstance(request, str):
        text, done = warm.answer(action, profile, fmt, request, os.environ, say=say)
        if text is not None:
            sys.stdout.write(text)
            return 0
    from sfcred import app
    from sfcred.helper.serve import Options, handle

    # What the warm path did (parsed, chose, read, the lock it holds) is handed on, not redone.
    answer = handle(action, request, Options(profile, fmt, git), os.environ,
                    app.provider(note=_err, warm=done), done)
    for note in answer.notes:
        _err(note)
    sys.stdout.write(answer.stdout)
    return answer.exit_code


def _console(stdin: TextIO | None) -> Console:
    from sfcred.commands import Console

    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()  # a long-running command (standin) is read line by line

    def info(line: str) -> None:
        _end_progress()
        print(line, file=sys.stderr)

    def ask(question: str) -> bool | None:
        if stdin is None or not stdin.isatty():
            return None  # nobody to ask: never wait on a pipe or /dev/null
        _end_progress()
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
        return stdin.readline().strip().lower() in ("y", "yes")

    def progress(line: str) -> None:
        if not sys.stderr.isatty():
            info(line)
            return
        # One line, rewritten: back to its start, the new text, the rest of the old cleared.
        sys.stderr.write(f"\r{PROG}: {line}\x1b[K")
        sys.stderr.flush()
        _OPEN_LINE[:] = [True]

    return Console(out=out, err=_err, info=info, stdin=stdin, ask=ask, progress=progress)


def cmd_exec(args: argparse.Namespace, con: Console) -> int:
    from sfcred.commands import execute

    cmd, env = execute.prepare(args, con, os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(cmd[0], cmd, env)  # noqa: S606  # the user's own command, in its own argv
    except OSError as e:
        _err(f"exec: cannot run {cmd[0]!r}: {e.strerror}")
        return 127


# The command modules, imported only when their command runs.
COMMANDS = {
    "profile": "profile", "cert": "cert", "rotate": "rotate", "doctor": "doctor",
    "authorize": "authorize", "completion": "completion", "demo": "demo", "standin": "standin",
}


def dispatch(args: argparse.Namespace, stdin: TextIO | None, git: bool = False) -> int:
    if args.command in HELPER_ACTIONS:
        return cmd_helper(args.command, args.profile, args.format, stdin, git)
    con = _console(stdin)
    if args.command == "exec":
        return cmd_exec(args, con)
    if args.command in COMMANDS:
        import importlib

        module = importlib.import_module(f"sfcred.commands.{COMMANDS[args.command]}")
        code: int = module.run(args, con)
        return code
    from sfcred.argspec import parser

    parser().print_help(sys.stderr)
    return 2


def report(e: SfcredError) -> None:
    _err(e.message)
    if isinstance(e, SalesforceRefused):
        _err(f"cause: {e.cause}")
        _err(f"fix: {e.fix}")
    elif e.hint:
        _err(f"hint: {e.hint}")


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None,
         git: bool = False) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = sys.stdin if stdin is None else stdin
    try:
        if sys.stdout is None:  # started with stdout closed (`>&-`): no answer could be given
            raise InputError("stdout is closed; nothing can be printed")
        code = _run(argv, stdin, git)
        _end_progress()
        sys.stdout.flush()  # a full disk or a closed pipe is an error here, not at exit
        return code
    except SfcredError as e:
        report(e)
        return e.exit_code
    except KeyboardInterrupt:
        _end_progress()  # the shell's prompt on a line of its own
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except OSError as e:
        _quiet_stdout()
        _err(f"cannot write the answer ({e.strerror or type(e).__name__})")
        return 1
    except Exception as e:  # a bug: never dump locals or values, only the type
        if os.environ.get("SFCRED_DEBUG"):
            raise
        _err(f"internal error ({type(e).__name__}); rerun with SFCRED_DEBUG=1 for a traceback")
        return 1


def _run(argv: list[str], stdin: TextIO | None, git: bool) -> int:
    from sfcred.helper.warm import helper_args

    _tracing(argv)
    simple = helper_args(argv)
    if simple is not None:
        return cmd_helper(*simple, stdin, git)
    from sfcred.argspec import parser

    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # --help and --version
        return int(e.code or 0)
    return dispatch(args, stdin, git)


def _quiet_stdout() -> None:
    """Drop what stdout still buffers, so the interpreter's own flush at exit does not fail
    again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def run() -> NoReturn:
    # httpx imports its own command line (click, rich, pygments) whenever those happen to be
    # installed: 45 ms of every cold get (measured in a venv with mkdocs and twine). The
    # program never uses it, so it is marked absent; the Python API leaves httpx alone.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    _exit(main())


def _exit(code: int) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, but without freeing every module and object.

    That teardown took 3 ms of a 25 ms warm ``get`` here, and 85 ms of a cold one (httpx,
    cryptography, jeepney: measured with ``python -c "import ...; os._exit(0)"`` both ways).
    What a user could see of an exit is kept: the atexit callbacks run (logging's shutdown,
    certifi's clean-up), stdout and stderr are flushed, and a process with a thread other
    than the main one exits the usual way. Python never promised ``__del__`` at exit."""
    import atexit

    threads = sys.modules.get("threading")
    run_callbacks = getattr(atexit, "_run_exitfuncs", None)  # CPython's own exit step
    if run_callbacks is None or (threads is not None and threads.active_count() > 1):
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        sys.exit(code)  # the usual exit reports it
    run_callbacks()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def git_argv(argv: list[str]) -> list[str] | None:
    """``git-credential-sfcred [OPTIONS] ACTION``: git appends the action after the configured
    words, so the action is the last word (a profile named ``get`` stays a profile name).
    None for an action this helper does not know: git may add actions, helpers ignore them
    (gitcredentials(7))."""
    if not argv or argv[-1] not in HELPER_ACTIONS:
        return None
    return [argv[-1], *argv[:-1]]


def run_git() -> NoReturn:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # see run()
    argv = sys.argv[1:]
    if not argv or argv[-1].startswith("-"):
        sys.exit(main(argv))  # no action at all: --help, --version, or a usage error
    routed = git_argv(argv)
    _exit(0 if routed is None else main(routed, git=True))
