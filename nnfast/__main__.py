"""`python -m nnfast demo | info | bench`: train the lecture notes' examples on both backends, print
the build configuration, or measure nnfast beside its peers."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnfast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train the lecture notes' examples on the native and reference backends")
    demo.add_argument("--plot", metavar="FILE.png", help="also write the loss curves (needs matplotlib)")
    sub.add_parser("info", help="print version, compiler, ISA levels, OpenMP and threads")
    bench = sub.add_parser("bench", help="measure nnfast beside NumPy and installed peers (Markdown report)")
    bench.add_argument("--sections", default="all", help="comma-separated sections, or 'all' (default)")
    bench.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats: under a minute")
    bench.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(argv)
    import nnfast
    if args.command == "info":
        nnfast.show_config()
        return 0
    if args.command == "demo":
        from nnfast import demo
        demo.run(plot=args.plot)
        return 0
    from nnfast.bench import report
    sections = tuple(report.SECTIONS) if args.sections == "all" else tuple(args.sections.split(","))
    unknown = [s for s in sections if s not in report.SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; valid: {', '.join(report.SECTIONS)}")
    thread_counts = tuple(int(t) for t in args.threads.split(","))
    text = report.build(sections, thread_counts, quick=args.quick)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
