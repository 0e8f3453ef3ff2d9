"""The command line's words for people and shells, from the one argparse grammar
(``argspec``): help texts (examples, environment variables, defaults) and the bash, zsh and
fish completion scripts."""
