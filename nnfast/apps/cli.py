"""`python -m nnfast demo | info | bench | compare-optimizers`: train the lecture notes' examples on
both backends, print the build configuration, measure nnfast beside its peers, or compare the
optimizers as the notes do (figures and a table)."""
import argparse
import sys


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnfast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train the lecture notes' examples on the native and reference backends")
    demo.add_argument("--plot", metavar="FILE.png", help="also write the loss curves (needs matplotlib)")
    sub.add_parser("info", help="print version, compiler, ISA levels, OpenMP and threads")
    bench = sub.add_parser("bench", help="measure nnfast beside NumPy and installed peers (Markdown report)")
    bench.add_argument("--sections", default="all", help="comma-separated sections (optimizers, dense, layers, training, "
                       "keras_models, subnormal, torch_optim, sklearn, capi), or 'all' (default)")
    bench.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats: under a minute")
    bench.add_argument("--repeats", type=_positive_int, metavar="N",
                       help="timed repeats per measurement (micro-benchmarks and keras_models epochs: at least 3; "
                       "training runs: N)")
    bench.add_argument("--charts", metavar="DIR", help="also write one PNG bar chart of the ratios per section "
                       "(needs matplotlib)")
    bench.add_argument("--output", help="also write the report to this file")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr while it runs")
    compare = sub.add_parser("compare-optimizers", help="the notes' optimizer comparison: paths on "
                             "x^2/20 + y^2 and training-loss curves (PNG, needs matplotlib) with a table")
    compare.add_argument("--output-dir", default=".", metavar="DIR", help="where the PNG files go (default .)")
    compare.add_argument("--fashion-mnist", metavar="DIR",
                         help="folder with the four Fashion-MNIST IDX files: also train on them")
    compare.add_argument("--epochs", type=_positive_int, metavar="N",
                         help="epochs per training run (default: 20 on digits, 5 on Fashion-MNIST)")
    args = parser.parse_args(argv)
    import nnfast
    if args.command == "info":
        nnfast.show_config()
        return 0
    if args.command == "demo":
        from nnfast.apps import demo
        demo.run(plot=args.plot)
        return 0
    if args.command == "compare-optimizers":
        from nnfast.apps import compare_optimizers
        try:
            compare_optimizers.run(args.output_dir, fashion_mnist=args.fashion_mnist, epochs=args.epochs)
        except (ImportError, FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    from nnfast.apps.bench import report
    sections = tuple(report.SECTIONS) if args.sections == "all" else tuple(args.sections.split(","))
    unknown = [s for s in sections if s not in report.SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; valid: {', '.join(report.SECTIONS)}")
    try:
        thread_counts = tuple(_positive_int(t) for t in args.threads.split(","))
    except argparse.ArgumentTypeError as err:
        parser.error(f"--threads: {err}")
    if args.charts:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--charts needs matplotlib: pip install 'nnfast[plot]'")
    text = report.build(sections, thread_counts, quick=args.quick, repeats=args.repeats, charts=args.charts,
                        progress_stream=None if args.quiet else sys.stderr)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    return 0
