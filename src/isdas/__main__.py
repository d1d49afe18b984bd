"""`python -m isdas` runs the command-line interface."""

from isdas.cli import main

if __name__ == "__main__":
    main()
