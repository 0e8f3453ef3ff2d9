"""Shell completion scripts. Profile names come from `sfcred profile list --names`, which
reads only the non-secret index (no keyring prompt while you press Tab)."""

from __future__ import annotations

COMMANDS = "profile cert get store erase exec rotate doctor authorize completion demo"
PROFILE_ACTIONS = "add list show remove default import-sf import-keyring"
NEEDS_NAME = "cert rotate doctor authorize"

BASH = f"""# bash completion for sfcred; source it, or put it in
# ~/.local/share/bash-completion/completions/sfcred
_sfcred() {{
    local cur prev words cword
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "{COMMANDS} --help --version" -- "$cur")); return
    fi
    case "$prev" in
        -p|--profile|{NEEDS_NAME.replace(" ", "|")}|show|remove|default)
            COMPREPLY=($(compgen -W "$(sfcred profile list --names 2>/dev/null)" -- "$cur"))
            return;;
        --format) COMPREPLY=($(compgen -W "git token json env" -- "$cur")); return;;
        --login-url) COMPREPLY=($(compgen -W "production sandbox https://" -- "$cur")); return;;
        --key-size) COMPREPLY=($(compgen -W "2048 3072 4096" -- "$cur")); return;;
        --key-file|--cert-out|--cert-file) COMPREPLY=($(compgen -f -- "$cur")); return;;
        profile) COMPREPLY=($(compgen -W "{PROFILE_ACTIONS}" -- "$cur")); return;;
        completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return;;
    esac
    case "${{COMP_WORDS[1]}}" in
        get|store|erase) COMPREPLY=($(compgen -W "-p --profile --format" -- "$cur"));;
        exec) COMPREPLY=($(compgen -W "-p --profile --keep-secrets" -- "$cur"));;
        rotate) COMPREPLY=($(compgen -W "--activate --abort --rollback --key-size --cert-out \
--force" -- "$cur"));;
        doctor) COMPREPLY=($(compgen -W "--json --offline" -- "$cur"));;
        authorize) COMPREPLY=($(compgen -W "--port --no-browser --client-secret-stdin" \
-- "$cur"));;
        cert) COMPREPLY=($(compgen -W "--pending" -- "$cur"));;
    esac
}}
complete -F _sfcred sfcred
"""

ZSH = """#compdef sfcred
# zsh completion for sfcred; put it on $fpath as _sfcred
_sfcred() {
    local -a profiles
    profiles=(${(f)"$(sfcred profile list --names 2>/dev/null)"})
    if (( CURRENT == 2 )); then
        compadd -- %s; return
    fi
    case ${words[CURRENT-1]} in
        -p|--profile|cert|rotate|doctor|authorize|show|remove|default)
            compadd -a profiles; return;;
        --format) compadd git token json env; return;;
        --login-url) compadd production sandbox; return;;
        --key-size) compadd 2048 3072 4096; return;;
        profile) compadd %s; return;;
        completion) compadd bash zsh fish; return;;
        --key-file|--cert-out|--cert-file) _files; return;;
    esac
}
compdef _sfcred sfcred
""".replace("%s", COMMANDS, 1).replace("%s", PROFILE_ACTIONS, 1)

FISH = f"""# fish completion for sfcred; put it in ~/.config/fish/completions/sfcred.fish
function __sfcred_profiles
    sfcred profile list --names 2>/dev/null
end
complete -c sfcred -f
complete -c sfcred -n __fish_use_subcommand -a "{COMMANDS}"
complete -c sfcred -n "__fish_seen_subcommand_from profile" -a "{PROFILE_ACTIONS}"
complete -c sfcred -n "__fish_seen_subcommand_from {NEEDS_NAME} show remove default" \\
    -a "(__sfcred_profiles)"
complete -c sfcred -s p -l profile -x -a "(__sfcred_profiles)"
complete -c sfcred -l format -x -a "git token json env"
complete -c sfcred -n "__fish_seen_subcommand_from exec" -l keep-secrets \\
    -d "leave sfcred's own secrets in the command's environment"
complete -c sfcred -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def script(shell: str) -> str:
    return SCRIPTS[shell]
