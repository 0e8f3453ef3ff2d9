"""The zsh completion script, generated from the grammar (``grammar``).

A ``#compdef`` file for a folder on ``$fpath``: when compinit autoloads it on the first Tab it
completes at once (the last line), and when sourced it registers itself. The same shape as
the bash script: generated tables, one fixed walker; options and subcommands are offered with
their help as descriptions. (``path`` is zsh's tied $PATH: the walker says ``cmdpath``.)
"""

from __future__ import annotations

from sfcred.usage.grammar import COMMAND, DIRS, FILES, PROFILES, WORDS, Command, Value

HEAD = """\
#compdef sfcred
# zsh completion for sfcred, generated from its argparse grammar: sfcred completion zsh
# Put it in a folder on $fpath as _sfcred (before compinit runs), or source it.
"""

WALK = r"""
_sfcred() {
    local cmdpath="" w valued cur=$PREFIX
    local -i i npos=0 rest=0
    local -a subs opts
    _sfcred_grammar ""
    for (( i = 2; i < CURRENT; i++ )); do
        w=${words[i]}
        if (( !rest )) && [[ $w == -- ]]; then rest=1; continue; fi
        if (( !rest )) && [[ $w == -* ]]; then
            if [[ " $valued " == *" $w "* ]]; then
                (( i++ ))
                if (( i >= CURRENT )); then _sfcred_value "$cmdpath|$w"; return; fi
            fi
            continue
        fi
        if (( npos == 0 )) && (( ${subs[(I)${(b)w}:*]} )); then
            cmdpath=${cmdpath:+$cmdpath }$w
            _sfcred_grammar "$cmdpath"
            continue
        fi
        (( npos++ ))
    done
    if (( !rest )) && [[ $cur == --*=* && " $valued " == *" ${cur%%=*} "* ]]; then
        local opt=${cur%%=*}
        compset -P '*='
        _sfcred_value "$cmdpath|$opt"; return
    fi
    if (( !rest )) && [[ $cur == -* ]]; then
        _describe -t options option opts; return
    fi
    if (( npos == 0 && ${#subs} )); then
        _describe -t commands command subs; return
    fi
    _sfcred_value "$cmdpath|#$npos" || { (( rest )) || _describe -t options option opts; }
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _sfcred "$@"
else
    compdef _sfcred sfcred
fi
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _spec(name: str, text: str) -> str:
    """One ``_describe`` entry: NAME:DESCRIPTION, a colon in the name escaped."""
    return _quote(f"{name.replace(':', chr(92) + ':')}:{' '.join(text.split())}")


def _reply(value: Value) -> str:
    if value.kind == FILES:
        return "_files"
    if value.kind == DIRS:
        return "_directories"
    if value.kind == PROFILES:
        return ('local -a names; names=(${(f)"$(sfcred profile list --names 2>/dev/null)"}); '
                "_wanted profiles expl profile compadd -a names")
    if value.kind == WORDS:
        return f"_wanted values expl value compadd -- {' '.join(map(_quote, value.words))}"
    if value.kind == COMMAND:
        return "_command_names -e"
    return "_message value"  # free text: nothing to offer, and no options either


def _table(commands: list[Command]) -> str:
    rows = []
    for c in commands:
        subs = " ".join(_spec(name, text) for name, text in c.subcommands)
        opts = " ".join(_spec(f, o.help) for o in c.options for f in o.flags)
        rows.append(f"        ({_quote(c.key)})\n            subs=({subs})\n"
                    f"            opts=({opts})\n            valued={_quote(' '.join(c.valued))};;")
    return ("_sfcred_grammar() {  # $1: a command path\n    case $1 in\n"
            + "\n".join(rows) + "\n    esac\n}\n")


def _values(commands: list[Command]) -> str:
    exact: dict[str, list[str]] = {}
    more: dict[str, list[str]] = {}  # after every exact pattern: "exec|#0" before "exec|#"*
    for c in commands:
        for o in c.options:
            if o.value is not None:
                exact.setdefault(_reply(o.value), []).extend(_quote(f"{c.key}|{f}")
                                                             for f in o.flags)
        for n, slot in enumerate(c.slots):
            exact.setdefault(_reply(slot), []).append(_quote(f"{c.key}|#{n}"))
        if c.more is not None:
            more.setdefault(_reply(c.more), []).append(_quote(f"{c.key}|#") + "*")
    rows = [f"        ({'|'.join(patterns)})\n            {reply};;"
            for table in (exact, more) for reply, patterns in table.items()]
    return ("_sfcred_value() {  # $1: \"path|option\" or \"path|#slot\"\n    local expl\n"
            "    case $1 in\n" + "\n".join(rows) + "\n        (*) return 1;;\n    esac\n}\n")


def script(commands: list[Command]) -> str:
    return HEAD + "\n" + _table(commands) + "\n" + _values(commands) + WALK
