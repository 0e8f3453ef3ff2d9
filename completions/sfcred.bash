# bash completion for sfcred; source it, or put it in
# ~/.local/share/bash-completion/completions/sfcred
_sfcred() {
    local cur prev words cword
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "profile cert get store erase exec rotate doctor status authorize completion demo --help --version" -- "$cur")); return
    fi
    case "$prev" in
        -p|--profile|cert|rotate|doctor|status|authorize|show|remove|default)
            COMPREPLY=($(compgen -W "$(sfcred profile list --names 2>/dev/null)" -- "$cur"))
            return;;
        --format) COMPREPLY=($(compgen -W "git token json env" -- "$cur")); return;;
        --login-url) COMPREPLY=($(compgen -W "production sandbox https://" -- "$cur")); return;;
        --key-size) COMPREPLY=($(compgen -W "2048 3072 4096" -- "$cur")); return;;
        --key-file|--cert-out|--cert-file) COMPREPLY=($(compgen -f -- "$cur")); return;;
        profile) COMPREPLY=($(compgen -W "add list show remove default import-sf import-keyring" -- "$cur")); return;;
        completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return;;
    esac
    case "${COMP_WORDS[1]}" in
        get) COMPREPLY=($(compgen -W "-p --profile --format --retry-now" -- "$cur"));;
        store|erase) COMPREPLY=($(compgen -W "-p --profile --format" -- "$cur"));;
        exec) COMPREPLY=($(compgen -W "-p --profile --keep-secrets" -- "$cur"));;
        rotate) COMPREPLY=($(compgen -W "--activate --abort --rollback --key-size --cert-out --force" -- "$cur"));;
        doctor) COMPREPLY=($(compgen -W "--json --offline" -- "$cur"));;
        status) COMPREPLY=($(compgen -W "--json" -- "$cur"));;
        authorize) COMPREPLY=($(compgen -W "--port --no-browser --client-secret-stdin" -- "$cur"));;
        cert) COMPREPLY=($(compgen -W "--pending" -- "$cur"));;
    esac
}
complete -F _sfcred sfcred
