"""Shell completion scripts generated from the one argparse grammar (``argspec``)."""
