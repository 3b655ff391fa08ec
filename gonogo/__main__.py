"""`python -m gonogo` runs the same CLI as the `gonogo` command."""

from gonogo.cli import run

if __name__ == "__main__":
    run()
