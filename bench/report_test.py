#!/usr/bin/env python3
"""What bench/report.py must do with results the real binaries do not give on a good day:
each case writes a small Google Benchmark JSON, runs report.py on it and checks its exit
status and report.md. The real results of every binary are the smoke's other half
(LF_BENCH_SMOKE=1 bench/run.sh).

    bench/report_test.py      (needs python3-matplotlib, as report.py does)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

REPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report.py")


def row(name, **fields):
    """One repetition, as Google Benchmark 1.7 writes it, with `fields` (counters) added."""
    return {"name": name + "/iterations:1/manual_time", "run_name": name + "/iterations:1/manual_time",
            "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 1,
            "real_time": 1.0, "cpu_time": 0.1, "time_unit": "ms", **fields}


def failed(name, message):
    return row(name, error_occurred=True, error_message=message)


class ReportTest(unittest.TestCase):
    def report(self, *files):
        """(exit status, report.md, stderr) of report.py over one JSON file per list of rows."""
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, rows in enumerate(files):
                paths.append(os.path.join(d, f"{i}.json"))
                with open(paths[-1], "w") as f:
                    if rows is not None:  # None: the empty file of a binary that registered nothing
                        json.dump({"context": {"workload size": "full"}, "benchmarks": rows}, f)
            run = subprocess.run([sys.executable, REPORT, "--out", d, *paths], capture_output=True, text=True)
            with open(os.path.join(d, "report.md")) as f:
                return run.returncode, f.read(), run.stderr

    def test_a_failed_check_shows_as_failed_and_fails_the_report(self):
        status, md, _ = self.report([row("w/lf::a", items_per_second=2e6),
                                     failed("w/peer", "checksum differs: pushed 3, popped 2")])
        self.assertEqual(status, 2)
        self.assertIn("| peer | FAILED: checksum differs: pushed 3, popped 2 |", md)

    def test_a_counter_of_neither_form_fails_and_is_named(self):
        status, md, _ = self.report([row("w/lf::a", widgets=3.0)])
        self.assertEqual(status, 2)
        self.assertIn("FAILED: counter widgets is not named", md)

    def test_a_row_without_a_counter_fails(self):
        status, md, _ = self.report([row("w/lf::a")])
        self.assertEqual(status, 2)
        self.assertIn("FAILED: no counter in the result", md)

    def test_a_figure_of_zero_fails_and_does_not_stop_the_report(self):
        status, md, _ = self.report([row("w/lf::a", bytes_per_coroutine=0.0), row("w/peer", bytes_per_coroutine=900.0)])
        self.assertEqual(status, 2)
        self.assertIn("FAILED: bytes_per_coroutine = 0.0 (not a positive figure)", md)

    def test_a_row_with_two_figures_fails(self):
        status, md, _ = self.report([row("w/lf::a", ns_per_pair=2.0, items_per_second=1e6)])
        self.assertEqual(status, 2)
        self.assertIn("FAILED: 2 figures (items_per_second, ns_per_pair)", md)

    def test_rows_of_one_workload_with_different_figures_fail(self):
        status, md, _ = self.report([row("w/lf::a", ns_per_round_trip=300.0), row("w/peer", ns_per_round_trip=400.0)],
                                    [row("w/go::chan", items_per_second=1e6)])
        self.assertEqual(status, 2)
        self.assertIn("| go::chan | FAILED: reports items_per_second where the workload's other rows report "
                      "ns_per_round_trip |", md)

    def test_a_file_without_a_result_fails(self):
        status, md, err = self.report([row("w/lf::a", items_per_second=1e6)], None)
        self.assertEqual(status, 2)
        self.assertIn("1.json holds no benchmark result", md)
        self.assertIn("1 file(s) without a result", err)

    def test_any_well_named_counter_reaches_the_table_with_its_unit_and_direction(self):
        status, md, _ = self.report([row("rate/lf::a", tasks_per_second=4e6), row("rate/peer", tasks_per_second=2e6),
                                     row("time/lf::a", us_per_synchronize=1.0, cpu_us_per_synchronize=0.5),
                                     row("time/peer", us_per_synchronize=4.0, cpu_us_per_synchronize=1.0)])
        self.assertEqual(status, 0)
        self.assertIn("M tasks/s, higher is better.", md)
        self.assertIn("**lf / best peer (peer): 2.00** (higher is better)", md)
        self.assertIn("µs per synchronize, lower is better.", md)
        self.assertIn("| median (µs per synchronize) | min | max | median (CPU µs per synchronize) | lf / this |", md)
        self.assertIn("**lf / best peer (peer): 0.25** (lf time / peer time, <= 1.0 is better); "
                      "the same rows by CPU µs per synchronize: 0.50", md)

    def test_a_size_reaches_the_table_lower_is_better(self):
        status, md, _ = self.report([row("mem/lf::a", bytes_per_coroutine=800.0),
                                     row("mem/threads", bytes_per_coroutine=8000.0)],
                                    [row("mem/go::goroutine", bytes_per_coroutine=2700.0)])
        self.assertEqual(status, 0)
        self.assertIn("bytes per coroutine, lower is better.", md)
        self.assertIn("| implementation | median (bytes per coroutine) | min | max | lf / this |", md)
        self.assertIn("**lf / best peer (go::goroutine): 0.30** (lf bytes / peer bytes, <= 1.0 is better)", md)
        self.assertIn("| threads | 8000 | 8000 | 8000 | 0.10 |", md)

    def test_a_baseline_is_never_the_best_peer(self):
        status, md, _ = self.report([row("w/lf::a", ns_per_section=2.0), row("w/peer", ns_per_section=4.0),
                                     row("w/baseline::floor", ns_per_section=0.5)])
        self.assertEqual(status, 0)
        self.assertIn("**lf / best peer (peer): 0.50**", md)

    def test_a_smoke_run_says_so_and_judges_no_target(self):
        # Either told (--smoke) or read from a file's context: bench/go -smoke and the C++
        # binaries under LF_BENCH_SMOKE (workloads.hpp's count()) write their workload size.
        for flag, size in ((["--smoke"], "full"), ([], "smoke (-smoke): 1/1000 of every count"),
                           ([], "smoke (LF_BENCH_SMOKE): 1/1000 of every count")):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "smoke.json")
                with open(path, "w") as f:
                    json.dump({"context": {"workload size": size},
                               "benchmarks": [row("spsc_pingpong/lf::a", ns_per_round_trip=1.0),
                                              row("spsc_pingpong/peer", ns_per_round_trip=2.0)]}, f)
                run = subprocess.run([sys.executable, REPORT, "--out", d, *flag, path], capture_output=True, text=True)
                self.assertEqual(run.returncode, 0)
                self.assertIn("**Smoke run**", run.stdout)
                self.assertIn("Not judged: a smoke run measures nothing.", run.stdout)
                self.assertIn(f"(workload size, {size}: smoke.json)", run.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
