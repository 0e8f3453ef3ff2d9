# fish completion for sfcred, generated from its argparse grammar: sfcred completion fish
# Put it in ~/.config/fish/completions/sfcred.fish

function __sfcred_grammar --description 'sfcred: subcommands; options with a value'
    switch $argv[1]
        case ''
            printf '%s\n' 'profile cert get store erase exec rotate doctor authorize completion demo' ''
        case 'profile'
            printf '%s\n' 'add list show remove default import-sf import-keyring' ''
        case 'profile add'
            printf '%s\n' '' '--client-id --username --grant --login-url --audience --token-ttl --refresh-margin --key-file --key-size --cert-file --cert-days --cert-out --allow-host'
        case 'profile list'
            printf '%s\n' '' ''
        case 'profile show'
            printf '%s\n' '' ''
        case 'profile remove'
            printf '%s\n' '' ''
        case 'profile default'
            printf '%s\n' '' ''
        case 'profile import-sf'
            printf '%s\n' '' '--name --sf-dir --allow-host'
        case 'profile import-keyring'
            printf '%s\n' '' ''
        case 'cert'
            printf '%s\n' '' ''
        case 'get'
            printf '%s\n' '' '-p --profile --format'
        case 'store'
            printf '%s\n' '' '-p --profile --format'
        case 'erase'
            printf '%s\n' '' '-p --profile --format'
        case 'exec'
            printf '%s\n' '' '-p --profile'
        case 'rotate'
            printf '%s\n' '' '--app --wait --deploy-profile --if-older-than --key-size --cert-days --cert-out'
        case 'doctor'
            printf '%s\n' '' ''
        case 'authorize'
            printf '%s\n' '' '--port'
        case 'completion'
            printf '%s\n' '' ''
        case 'demo'
            printf '%s\n' '' ''
    end
end

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
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'profile' -d 'add, list, show, remove profiles; set the default'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'cert' -d 'print the certificate to upload to the connected app'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'get' -d 'print a token (git-credential protocol on stdin)'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'store' -d 'accepted; does nothing'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'erase' -d 'forget the cached token of the profile'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'exec' -d 'run a command with SF_ACCESS_TOKEN / SF_INSTANCE_URL set'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'rotate' -d 'rotate a profile\'s key without an outage'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'doctor' -d 'check a profile\'s set-up and say how to fix it'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'authorize' -d 'approve the app once for the user (browser)'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'completion' -d 'print a shell completion script'
complete -c sfcred -n '__sfcred_slot \'\' 0' -a 'demo' -d 'the main job end to end against the embedded stand-in'
complete -c sfcred -n '__sfcred_at \'\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'\'' -l version -d 'show program\'s version number and exit'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'add' -d 'add an org profile with its key (or consumer secret)'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'list' -d 'list profiles'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'show' -d 'settings and key fingerprints, never secrets'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'remove' -d 'remove a profile, its keys and cached tokens'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'default' -d 'set the default profile'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'import-sf' -d 'import the Salesforce CLI\'s JWT orgs'
complete -c sfcred -n '__sfcred_slot \'profile\' 0' -a 'import-keyring' -d 'fleet mode: copy a profile and its keys from the OS...'
complete -c sfcred -n '__sfcred_at \'profile\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile add\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l client-id -r -x -d 'the connected app\'s consumer key'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l username -r -x -d 'the Salesforce username to act as (JWT bearer; client...'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l grant -r -x -a 'jwt-bearer client-credentials' -d 'how tokens are minted (default jwt-bearer)'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l client-secret-stdin -d 'client credentials: read the consumer secret from stdin...'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l login-url -r -x -d 'https URL, or production / sandbox (default: production)'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l audience -r -x -d 'the JWT aud (default: derived from --login-url)'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l token-ttl -r -x -d 'how long a minted token is reused'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l refresh-margin -r -x -d 'refresh this long before the TTL ends'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l key-file -r -F -d 'import an RSA key (PEM or DER)'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l generate-key -d 'make a new RSA key'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l key-size -r -x -a '2048 3072 4096' -d '--generate-key: the RSA key\'s bits'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l key-passphrase-stdin -d 'read the key\'s passphrase from stdin'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l cert-file -r -F -d 'the certificate of an imported key'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l cert-days -r -x -d 'the generated certificate\'s validity'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l cert-out -r -F -d 'write the certificate here'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l default -d 'make it the default profile'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l force -d 'replace an existing profile'
complete -c sfcred -n '__sfcred_at \'profile add\'' -l allow-host -r -x -d 'a host outside Salesforce\'s domains that this profile...'
complete -c sfcred -n '__sfcred_at \'profile list\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile list\'' -l json -d 'print JSON: a list of objects'
complete -c sfcred -n '__sfcred_at \'profile list\'' -l names -d 'names only (for completion)'
complete -c sfcred -n '__sfcred_at \'profile show\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile show\'' -l json -d 'print one JSON object'
complete -c sfcred -n '__sfcred_slot \'profile show\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'profile remove\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_slot \'profile remove\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'profile default\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_slot \'profile default\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l all -d 'every JWT org sf knows'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l name -r -x -d 'the profile\'s name (default: the alias)'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l sf-dir -r -x -a '(__fish_complete_directories)' -d 'sf\'s auth folder (default: ~/.sfdx)'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l force -d 'replace an existing profile'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l default -d 'make it the default profile'
complete -c sfcred -n '__sfcred_at \'profile import-sf\'' -l allow-host -r -x -d 'a host outside Salesforce\'s domains that sf\'s loginUrl...'
complete -c sfcred -n '__sfcred_at \'profile import-keyring\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'profile import-keyring\'' -l force -d 'replace the store\'s profile'
complete -c sfcred -n '__sfcred_slot \'profile import-keyring\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'cert\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'cert\'' -l pending -d 'the pending key\'s certificate'
complete -c sfcred -n '__sfcred_slot \'cert\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'get\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'get\'' -s p -l profile -r -x -a '(__sfcred_profiles)' -d 'the profile (default: the request\'s profile=, then...'
complete -c sfcred -n '__sfcred_at \'get\'' -l format -r -x -a 'git token json env' -d 'git: key=value lines; token: the token alone; json; env:...'
complete -c sfcred -n '__sfcred_at \'store\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'store\'' -s p -l profile -r -x -a '(__sfcred_profiles)' -d 'the profile (default: the request\'s profile=, then...'
complete -c sfcred -n '__sfcred_at \'store\'' -l format -r -x -a 'git token json env' -d 'git: key=value lines; token: the token alone; json; env:...'
complete -c sfcred -n '__sfcred_at \'erase\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'erase\'' -s p -l profile -r -x -a '(__sfcred_profiles)' -d 'the profile (default: the request\'s profile=, then...'
complete -c sfcred -n '__sfcred_at \'erase\'' -l format -r -x -a 'git token json env' -d 'git: key=value lines; token: the token alone; json; env:...'
complete -c sfcred -n '__sfcred_at \'exec\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'exec\'' -s p -l profile -r -x -a '(__sfcred_profiles)' -d 'the profile (default: the request\'s profile=, then...'
complete -c sfcred -n '__sfcred_at \'exec\'' -l keep-secrets -d 'leave SFCRED_PRIVATE_KEY, SFCRED_CLIENT_SECRET and, in...'
complete -c sfcred -n '__sfcred_slot \'exec\' 0' -x -a '(__fish_complete_command)'
complete -c sfcred -n '__sfcred_slot \'exec\' more 1' -F
complete -c sfcred -n '__sfcred_at \'rotate\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l activate -d 'promote the pending key now'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l abort -d 'discard the pending key'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l rollback -d 'swap the previous key back'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l deploy -d 'the whole rotation: upload the certificate through the...'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l app -r -x -d '--deploy: the app\'s API name'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l eca -d '--deploy: an External Client App'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l wait -r -x -d '--deploy: how long to wait for Salesforce'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l deploy-profile -r -x -a '(__sfcred_profiles)' -d '--deploy: take the Metadata API session from this profile'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l if-older-than -r -x -d '--deploy: do nothing while the active key is younger...'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l key-size -r -x -a '2048 3072 4096' -d 'the new key\'s bits (default: the current key\'s)'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l cert-days -r -x -d 'the new certificate\'s validity'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l cert-out -r -F -d 'write the new certificate here'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l force -d 'replace a pending key'
complete -c sfcred -n '__sfcred_at \'rotate\'' -l secret-stdin -d 'client credentials: the app\'s new consumer secret, from...'
complete -c sfcred -n '__sfcred_slot \'rotate\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'doctor\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'doctor\'' -l json -d 'print the checks as JSON'
complete -c sfcred -n '__sfcred_at \'doctor\'' -l offline -d 'no network checks'
complete -c sfcred -n '__sfcred_slot \'doctor\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'authorize\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_at \'authorize\'' -l port -r -x -d 'the loopback port of the app\'s callback URL'
complete -c sfcred -n '__sfcred_at \'authorize\'' -l no-browser -d 'print the URL instead'
complete -c sfcred -n '__sfcred_at \'authorize\'' -l client-secret-stdin -d 'read the consumer secret from stdin (apps that require one)'
complete -c sfcred -n '__sfcred_slot \'authorize\' 0' -x -a '(__sfcred_profiles)'
complete -c sfcred -n '__sfcred_at \'completion\'' -s h -l help -d 'show this help message and exit'
complete -c sfcred -n '__sfcred_slot \'completion\' 0' -x -a 'bash zsh fish'
complete -c sfcred -n '__sfcred_at \'demo\'' -s h -l help -d 'show this help message and exit'
