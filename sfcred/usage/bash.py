"""The bash completion script, generated from the grammar (``grammar``).

Two generated tables (``_sfcred_grammar``: a command path's subcommands, options and the
options that take a value; ``_sfcred_value``: what one value completes to) and one fixed
walker that finds the command path and the positional slot under the cursor.
"""

from __future__ import annotations

from sfcred.usage.grammar import COMMAND, DIRS, FILES, PROFILES, WORDS, Command, Value

HEAD = """\
# bash completion for sfcred, generated from its argparse grammar: sfcred completion bash
# Source it, or put it in ~/.local/share/bash-completion/completions/sfcred
"""

WALK = r"""
_sfcred() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmdpath="" npos=0 rest=0 i w subs opts valued
    COMPREPLY=()
    _sfcred_grammar ""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((!rest)) && [[ $w == -- ]]; then rest=1; continue; fi
        if ((!rest)) && [[ $w == -* ]]; then
            if [[ " $valued " == *" $w "* ]]; then
                ((i++))
                [[ ${COMP_WORDS[i]} == = ]] && ((i++))  # --opt=value, split at COMP_WORDBREAKS
                if ((i >= COMP_CWORD)); then _sfcred_value "$cmdpath|$w" "$cur"; return; fi
            fi
            continue
        fi
        if ((npos == 0)) && [[ " $subs " == *" $w "* ]]; then
            cmdpath=${cmdpath:+$cmdpath }$w
            _sfcred_grammar "$cmdpath"
            continue
        fi
        ((npos++))
    done
    if ((!rest)) && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return
    fi
    if ((npos == 0)) && [[ -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
    fi
    _sfcred_value "$cmdpath|#$npos" "$cur" && return
    ((rest)) || COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _sfcred sfcred
"""


def _reply(value: Value) -> str:
    if value.kind == FILES:
        return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2"))'
    if value.kind == DIRS:
        return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2"))'
    if value.kind == PROFILES:
        return ('COMPREPLY=($(compgen -W "$(sfcred profile list --names 2>/dev/null)" '
                '-- "$2"))')
    if value.kind == WORDS:
        return f'COMPREPLY=($(compgen -W "{" ".join(value.words)}" -- "$2"))'
    if value.kind == COMMAND:
        return 'COMPREPLY=($(compgen -c -- "$2"))'
    return ":"  # free text: nothing to offer, and no options either


def _table(commands: list[Command]) -> str:
    rows = []
    for c in commands:
        opts = " ".join(f for o in c.options for f in o.flags)
        subs = " ".join(name for name, _ in c.subcommands)
        rows.append(f'        "{c.key}") subs="{subs}"; opts="{opts}"; '
                    f'valued="{" ".join(c.valued)}";;')
    return ("_sfcred_grammar() {  # $1: a command path\n    case $1 in\n"
            + "\n".join(rows) + "\n    esac\n}\n")


def _values(commands: list[Command]) -> str:
    cases: dict[str, list[str]] = {}  # reply -> patterns
    for c in commands:
        for o in c.options:
            if o.value is not None:
                cases.setdefault(_reply(o.value), []).extend(f'"{c.key}|{f}"' for f in o.flags)
        for n, slot in enumerate(c.slots):
            cases.setdefault(_reply(slot), []).append(f'"{c.key}|#{n}"')
    more: dict[str, list[str]] = {}  # after every exact pattern: "exec|#0" before "exec|#"*
    for c in commands:
        if c.more is not None:
            more.setdefault(_reply(c.more), []).append(f'"{c.key}|#"*')
    rows = [f"        {'|'.join(patterns)})\n            {reply};;"
            for table in (cases, more) for reply, patterns in table.items()]
    return ("_sfcred_value() {  # $1: \"path|option\" or \"path|#slot\", $2: the word so far\n"
            "    case $1 in\n" + "\n".join(rows) + "\n        *) return 1;;\n    esac\n}\n")


def script(commands: list[Command]) -> str:
    return HEAD + "\n" + _table(commands) + "\n" + _values(commands) + WALK
