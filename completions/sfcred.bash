# bash completion for sfcred, generated from its argparse grammar: sfcred completion bash
# Source it, or put it in ~/.local/share/bash-completion/completions/sfcred

_sfcred_grammar() {  # $1: a command path
    case $1 in
        "") subs="profile cert get store erase exec rotate status doctor authorize completion demo standin"; opts="-h --help --version --verbose"; valued="";;
        "profile") subs="add list show remove set default import-sf import-keyring"; opts="-h --help --verbose"; valued="";;
        "profile add") subs=""; opts="-h --help --client-id --username --grant --client-secret-stdin --login-url --audience --token-ttl --refresh-margin --login-budget --key-file --generate-key --key-size --key-passphrase-stdin --cert-file --cert-days --cert-out --default --force --allow-host --verbose"; valued="--client-id --username --grant --login-url --audience --token-ttl --refresh-margin --login-budget --key-file --key-size --cert-file --cert-days --cert-out --allow-host";;
        "profile list") subs=""; opts="-h --help --json --names --verbose"; valued="";;
        "profile show") subs=""; opts="-h --help --json --verbose"; valued="";;
        "profile remove") subs=""; opts="-h --help --yes --verbose"; valued="";;
        "profile set") subs=""; opts="-h --help --client-id --username --login-url --audience --token-ttl --refresh-margin --allow-host --login-budget --verbose"; valued="--client-id --username --login-url --audience --token-ttl --refresh-margin --allow-host --login-budget";;
        "profile default") subs=""; opts="-h --help --verbose"; valued="";;
        "profile import-sf") subs=""; opts="-h --help --all --name --sf-dir --force --default --allow-host --verbose"; valued="--name --sf-dir --allow-host";;
        "profile import-keyring") subs=""; opts="-h --help --force --verbose"; valued="";;
        "cert") subs=""; opts="-h --help --pending --verbose"; valued="";;
        "get") subs=""; opts="-h --help -p --profile --format --retry-now --verbose"; valued="-p --profile --format";;
        "store") subs=""; opts="-h --help -p --profile --format --verbose"; valued="-p --profile --format";;
        "erase") subs=""; opts="-h --help -p --profile --format --verbose"; valued="-p --profile --format";;
        "exec") subs=""; opts="-h --help -p --profile --keep-secrets --env --verbose"; valued="-p --profile --env";;
        "rotate") subs=""; opts="-h --help --activate --abort --rollback --deploy --app --eca --wait --deploy-profile --if-older-than --key-size --cert-days --cert-out --force --secret-stdin --verbose"; valued="--app --wait --deploy-profile --if-older-than --key-size --cert-days --cert-out";;
        "status") subs=""; opts="-h --help --json --verbose"; valued="";;
        "doctor") subs=""; opts="-h --help --json --offline --verbose"; valued="";;
        "authorize") subs=""; opts="-h --help --port --no-browser --client-secret-stdin --verbose"; valued="--port";;
        "completion") subs=""; opts="-h --help --verbose"; valued="";;
        "demo") subs=""; opts="-h --help --verbose"; valued="";;
        "standin") subs="env status add-app upload-cert add-user grant browser-user delay stop"; opts="-h --help --dir --port --tls --org --propagation-delay --browser-user --reset --app --cert --external --admin-approved --user --preauthorize --tls-cert --tls-key --verbose"; valued="--dir --port --org --propagation-delay --browser-user --app --cert --user --tls-cert --tls-key";;
        "standin env") subs=""; opts="-h --help"; valued="";;
        "standin status") subs=""; opts="-h --help"; valued="";;
        "standin add-app") subs=""; opts="-h --help --cert --run-as --name --external --admin-approved --secret --callback"; valued="--cert --run-as --name --secret --callback";;
        "standin upload-cert") subs=""; opts="-h --help --cert"; valued="--cert";;
        "standin add-user") subs=""; opts="-h --help --preauthorize --inactive"; valued="--preauthorize";;
        "standin grant") subs=""; opts="-h --help"; valued="";;
        "standin browser-user") subs=""; opts="-h --help --deny"; valued="";;
        "standin delay") subs=""; opts="-h --help"; valued="";;
        "standin stop") subs=""; opts="-h --help"; valued="";;
    esac
}

_sfcred_value() {  # $1: "path|option" or "path|#slot", $2: the word so far
    case $1 in
        "profile add|--client-id"|"profile add|--username"|"profile add|--login-url"|"profile add|--audience"|"profile add|--token-ttl"|"profile add|--refresh-margin"|"profile add|--login-budget"|"profile add|--cert-days"|"profile add|--allow-host"|"profile add|#0"|"profile set|--client-id"|"profile set|--username"|"profile set|--login-url"|"profile set|--audience"|"profile set|--token-ttl"|"profile set|--refresh-margin"|"profile set|--allow-host"|"profile set|--login-budget"|"profile import-sf|--name"|"profile import-sf|--allow-host"|"profile import-sf|#0"|"exec|--env"|"rotate|--app"|"rotate|--wait"|"rotate|--if-older-than"|"rotate|--cert-days"|"authorize|--port"|"standin|--port"|"standin|--propagation-delay"|"standin|--browser-user"|"standin|--app"|"standin|--user"|"standin add-app|--run-as"|"standin add-app|--name"|"standin add-app|--secret"|"standin add-app|--callback"|"standin add-app|#0"|"standin upload-cert|#0"|"standin add-user|--preauthorize"|"standin add-user|#0"|"standin grant|#0"|"standin grant|#1"|"standin browser-user|#0"|"standin delay|#0")
            :;;
        "profile add|--grant")
            COMPREPLY=($(compgen -W "jwt-bearer client-credentials" -- "$2"));;
        "profile add|--key-file"|"profile add|--cert-file"|"profile add|--cert-out"|"rotate|--cert-out"|"standin|--cert"|"standin|--tls-cert"|"standin|--tls-key"|"standin add-app|--cert"|"standin upload-cert|--cert")
            compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2"));;
        "profile add|--key-size"|"rotate|--key-size")
            COMPREPLY=($(compgen -W "2048 3072 4096" -- "$2"));;
        "profile show|#0"|"profile remove|#0"|"profile set|#0"|"profile default|#0"|"profile import-keyring|#0"|"cert|#0"|"get|-p"|"get|--profile"|"store|-p"|"store|--profile"|"erase|-p"|"erase|--profile"|"exec|-p"|"exec|--profile"|"rotate|--deploy-profile"|"rotate|#0"|"status|#0"|"doctor|#0"|"authorize|#0")
            COMPREPLY=($(compgen -W "$(sfcred profile list --names 2>/dev/null)" -- "$2"));;
        "profile import-sf|--sf-dir"|"standin|--dir")
            compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2"));;
        "get|--format"|"store|--format"|"erase|--format")
            COMPREPLY=($(compgen -W "git token json env" -- "$2"));;
        "exec|#0")
            COMPREPLY=($(compgen -c -- "$2"));;
        "completion|#0")
            COMPREPLY=($(compgen -W "bash zsh fish" -- "$2"));;
        "standin|--org")
            COMPREPLY=($(compgen -W "production sandbox" -- "$2"));;
        "exec|#"*)
            compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2"));;
        "standin grant|#"*)
            :;;
        *) return 1;;
    esac
}

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
