# fish completion for sfcred; put it in ~/.config/fish/completions/sfcred.fish
function __sfcred_profiles
    sfcred profile list --names 2>/dev/null
end
complete -c sfcred -f
complete -c sfcred -n __fish_use_subcommand -a "profile cert get store erase exec rotate doctor status authorize completion demo"
complete -c sfcred -n "__fish_seen_subcommand_from profile" -a "add list show remove default import-sf import-keyring"
complete -c sfcred -n "__fish_seen_subcommand_from cert rotate doctor status authorize show remove default" \
    -a "(__sfcred_profiles)"
complete -c sfcred -s p -l profile -x -a "(__sfcred_profiles)"
complete -c sfcred -l format -x -a "git token json env"
complete -c sfcred -n "__fish_seen_subcommand_from exec" -l keep-secrets \
    -d "leave sfcred's own secrets in the command's environment"
complete -c sfcred -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
