"""`python -m nnfast info`: print the build configuration."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnfast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print version, compiler, ISA levels, OpenMP and threads")
    args = parser.parse_args(argv)
    import nnfast
    if args.command == "info":
        nnfast.show_config()
    return 0


if __name__ == "__main__":
    sys.exit(main())
