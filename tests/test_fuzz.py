"""Runs the fuzz tests of tests/fuzz (issue #17, item 2) in a child process, so that a crash in a
kernel - a segfault, an abort - is a failure of this test that shows the call being made, instead
of the end of the test session. The child runs the Hypothesis profile this process selected
(HYPOTHESIS_PROFILE, default "ci"); a child that runs longer than the timeout is a hang.

Run the fuzz tests in this process instead (tracebacks, one test at a time) with
`pytest tests/fuzz`; the longer profile with `HYPOTHESIS_PROFILE=long pytest tests/fuzz`
(docs/testing.md)."""
import os
import signal
import subprocess
import sys

from conftest import TESTS_DIR

FUZZ_DIR = TESTS_DIR / "fuzz"
TIMEOUT = {"ci": 1800, "long": 6 * 3600}  # seconds for the whole child run
STUCK_TEST = 300  # seconds: no test of the ci profile comes near it on a busy 2-core machine


def test_fuzz_suite_in_child_process(tmp_path):
    profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    crash_log = tmp_path / "last_call.txt"
    env = dict(os.environ, NNFAST_FUZZ_CRASH_LOG=str(crash_log), HYPOTHESIS_PROFILE=profile)
    args = [sys.executable, "-X", "faulthandler", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
            str(TESTS_DIR.parent), str(FUZZ_DIR)]
    # the ci profile draws the same examples every run (CI must not pass or fail by the draw);
    # NNFAST_FUZZ_SEED picks other ones, "random" a fresh draw
    seed = os.environ.get("NNFAST_FUZZ_SEED", "0" if profile == "ci" else "random")
    if seed != "random":
        args.append(f"--hypothesis-seed={seed}")
    if profile == "ci":  # a test stuck this long prints every thread's stack: where a hang hangs
        args += ["-o", f"faulthandler_timeout={STUCK_TEST}"]
    try:
        child = subprocess.run(args, env=env, cwd=TESTS_DIR.parent, capture_output=True, text=True,
                               timeout=TIMEOUT.get(profile, TIMEOUT["long"]))
    except subprocess.TimeoutExpired as err:
        last = crash_log.read_text() if crash_log.exists() else "(none)"
        output = "\n".join(text_of(part) for part in (err.stdout, err.stderr))
        tail = "\n".join(output.splitlines()[-80:])
        raise AssertionError(f"the fuzz run hung (over {err.timeout} s); the last call started: {last}\n{tail}") \
            from None
    tail = "\n".join((child.stdout + child.stderr).splitlines()[-60:])
    if child.returncode < 0 or child.returncode in (134, 139):
        name = signal.Signals(-child.returncode).name if child.returncode < 0 else str(child.returncode)
        last = crash_log.read_text() if crash_log.exists() else "(none)"
        raise AssertionError(f"the fuzz run crashed ({name}) in the call: {last}\n{tail}")
    assert child.returncode == 0, f"fuzz tests failed (pytest exit {child.returncode}):\n{tail}"


def text_of(output):
    """A child's captured output so far, as text (a timeout leaves bytes, or None)."""
    if output is None:
        return ""
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output
