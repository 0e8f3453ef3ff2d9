from sfcred.cli import run

run()
