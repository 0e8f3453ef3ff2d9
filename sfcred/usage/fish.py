"""The fish completion script, generated from the grammar (``grammar``).

fish decides with conditions: ``__sfcred_state`` walks the command line once per line (the
answer is kept for the line) and says the command path, the positional slot under the cursor
and whether an option's value is being completed; one ``complete`` line per subcommand,
option and positional slot tests it. Files are offered only where a path is expected
(``complete -f`` turns them off everywhere else).
"""

from __future__ import annotations

from sfcred.usage.grammar import COMMAND, DIRS, FILES, PROFILES, WORDS, Command, Value

HEAD = """\
# fish completion for sfcred, generated from its argparse grammar: sfcred completion fish
# Put it in ~/.config/fish/completions/sfcred.fish
"""

WALK = r"""
function __sfcred_state --description 'sfcred: command path, positional slot, value pending'
    set -l line (commandline -pc)
    if test "$line" = "$__sfcred_line"
        printf '%s\n' $__sfcred_answer
        return
    end
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmdpath ''
    set -l npos 0
    set -l rest 0
    set -l pending 0
    set -l grammar (__sfcred_grammar '')
    for w in $words
        if test $pending = 1
            set pending 0
            continue
        end
        if test $rest = 0; and test "$w" = '--'
            set rest 1
            continue
        end
        if test $rest = 0; and string match -q -- '-*' $w
            contains -- $w (string split ' ' -- $grammar[2]); and set pending 1
            continue
        end
        if test $npos = 0; and contains -- $w (string split ' ' -- $grammar[1])
            set cmdpath (string trim -- "$cmdpath $w")
            set grammar (__sfcred_grammar $cmdpath)
            continue
        end
        set npos (math $npos + 1)
    end
    set -g __sfcred_line $line
    set -g __sfcred_answer $cmdpath $npos $pending $rest
    printf '%s\n' $__sfcred_answer
end

function __sfcred_at --description 'sfcred: the command path is $argv[1]'
    set -l state (__sfcred_state)
    test "$state[1]" = "$argv[1]"; and test $state[4] = 0
end

function __sfcred_slot --description 'sfcred: at path $argv[1], positional slot $argv[2]'
    set -l state (__sfcred_state)
    test "$state[1]" = "$argv[1]"; and test $state[3] = 0
    or return 1
    test $argv[2] = more; and test $state[2] -ge $argv[3]; and return 0
    test $state[2] = $argv[2]
end

function __sfcred_profiles
    sfcred profile list --names 2>/dev/null
end

complete -c sfcred -f
"""


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _value(value: Value) -> str:
    if value.kind == FILES:
        return "-F"
    if value.kind == DIRS:
        return "-x -a '(__fish_complete_directories)'"
    if value.kind == PROFILES:
        return "-x -a '(__sfcred_profiles)'"
    if value.kind == WORDS:
        return f"-x -a {_quote(' '.join(value.words))}"
    if value.kind == COMMAND:
        return "-x -a '(__fish_complete_command)'"
    return "-x"  # free text: nothing to offer


def _grammar(commands: list[Command]) -> str:
    rows = [f"        case {_quote(c.key)}\n"
            f"            printf '%s\\n' {_quote(' '.join(n for n, _ in c.subcommands))} "
            f"{_quote(' '.join(c.valued))}" for c in commands]
    return ("function __sfcred_grammar --description 'sfcred: subcommands; options with a value'\n"
            "    switch $argv[1]\n" + "\n".join(rows) + "\n    end\nend\n")


def _lines(c: Command) -> list[str]:
    at = f"-n {_quote('__sfcred_at ' + _quote(c.key))}"
    out = []
    for name, text in c.subcommands:
        cond = _quote(f"__sfcred_slot {_quote(c.key)} 0")
        out.append(f"complete -c sfcred -n {cond} -a {_quote(name)} -d {_quote(_short(text))}")
    for o in c.options:
        flags = " ".join(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}"
                         for f in o.flags)
        value = "" if o.value is None else " -r " + _value(o.value)
        out.append(f"complete -c sfcred {at} {flags}{value} -d {_quote(_short(o.help))}")
    for n, slot in enumerate(c.slots):
        if slot.kind == FILES or _value(slot) != "-x":
            cond = _quote(f"__sfcred_slot {_quote(c.key)} {n}")
            out.append(f"complete -c sfcred -n {cond} {_value(slot)}")
    if c.more is not None:
        cond = _quote(f"__sfcred_slot {_quote(c.key)} more {len(c.slots)}")
        out.append(f"complete -c sfcred -n {cond} {_value(c.more)}")
    return out


def _short(text: str) -> str:
    """fish shows one line per candidate: the help's first clause."""
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57].rsplit(" ", 1)[0] + "..."


def script(commands: list[Command]) -> str:
    lines = [line for c in commands for line in _lines(c)]
    return HEAD + "\n" + _grammar(commands) + WALK + "\n".join(lines) + "\n"
