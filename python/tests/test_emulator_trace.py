"""Tests of ios.bench.emulator, the device emulator's trace reader, on
traces written by hand."""

import io
import json
import os
import tempfile
import unittest
from contextlib import redirect_stdout

from ios.bench import emulator


def call(seq, name, op, stream=None):
    return {"seq": seq, "call": name, "stream": stream, "op": op,
            "bytes": 0, "flops": 0, "status": 0}


def inference(seq):
    """One emitted run(): 12 calls, 3 of them launches."""
    names = [("cudaMemcpyAsync", "upload"),
             ("cudaStreamSynchronize", "upload"),
             ("cudaEventRecord", "record"),
             ("cudaStreamWaitEvent", "wait"),
             ("cudnnConvolutionBiasActivationForward", "a: conv2d"),
             ("cudnnCreateTensorDescriptor", "b: activation"),
             ("cudnnActivationForward", "b: activation"),
             ("cudaLaunchKernel sumKernel", "c: add"),
             ("cudaGetLastError", "c: add"),
             ("cudaMemcpyAsync", "finishRun"),
             ("cudaStreamSynchronize", "finishRun"),
             ("cudaStreamSynchronize", "finishRun")]
    return [call(seq + i, n, op) for i, (n, op) in enumerate(names)]


class TraceTest(unittest.TestCase):
    def write(self, calls, program="model"):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "trace.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"program": program}) + "\n")
            # Calls end out of order (a nested call ends first): the reader
            # sorts by sequence number.
            for c in reversed(calls):
                f.write(json.dumps(c) + "\n")
        return path

    def test_inferences_are_upload_to_finish_run(self):
        create = [call(1, "cudaGetDeviceCount", "createContext"),
                  call(2, "cudaMalloc", "createContext"),
                  call(3, "cudnnGetConvolutionForwardAlgorithm_v7",
                       "a: prepareConv2d")]
        destroy = [call(28, "cudaFree", "destroyContext")]
        path = self.write(create + inference(4) + inference(16) + destroy)
        row, firsts = emulator.summarize(path)
        self.assertEqual(row["program"], "model")
        self.assertEqual(row["inferences"], 2)
        self.assertEqual(row["create"], 3)
        self.assertEqual(row["calls"], 12)
        self.assertTrue(row["same"])
        self.assertEqual([row[k] for k in emulator.KINDS],
                         [3, 2, 2, 3, 1, 1])
        self.assertEqual(firsts, [("a: conv2d", 4), ("b: activation", 6),
                                  ("c: add", 7)])

    def test_inferences_of_different_lengths_are_flagged(self):
        # The first inference makes a descriptor the others reuse.
        runs = [inference(1), inference(13), inference(25)]
        del runs[1][5]
        del runs[2][5]
        path = self.write(runs[0] + runs[1] + runs[2])
        row, _ = emulator.summarize(path)
        self.assertEqual(row["inferences"], 3)
        self.assertFalse(row["same"])
        out = io.StringIO()
        with redirect_stdout(out):
            emulator.main([path])
        self.assertIn("| model   | 3          | 11 (first 12)", out.getvalue())
        # Any other difference: a middle inference.
        path = self.write(inference(1) + runs[1] + inference(25))
        self.assertIn("| 12 (varies)",
                      emulator.table([emulator.summarize(path)[0]]))

    def test_stage_marks_give_when_each_stream_starts(self):
        # A stage of three groups enqueued group by group: stream 2's first
        # op comes after 3 ops and 5 calls; then a one-group stage.
        names = [("cudaMemcpyAsync", "upload", 0),
                 ("cudaEventRecord", "record", 1),
                 ("cudaStreamWaitEvent", "wait", 2),
                 ("cudaStreamWaitEvent", "wait", 3),
                 ("cudnnConvolutionForward", "a1: conv2d", 1),
                 ("cudaLaunchKernel biasKernel", "a1: conv2d", 1),
                 ("cudnnActivationForward", "a2: activation", 1),
                 ("cudnnPoolingForward", "b1: pool2d", 2),
                 ("cudnnActivationForward", "c1: activation", 3),
                 ("cudaEventRecord", "record", 2),
                 ("cudaStreamWaitEvent", "wait", 1),
                 ("cudaLaunchKernel sumKernel", "d: add", 1),
                 ("cudaMemcpyAsync", "finishRun", 1),
                 ("cudaStreamSynchronize", "finishRun", None)]
        calls = [call(1 + i, n, op, stream)
                 for i, (n, op, stream) in enumerate(names)]
        path = self.write(calls)
        with open(path, "a") as f:
            # Marks fall before call 2 (the fork) and call 12.
            f.write('{"mark": "stage 1", "before": 12}\n')
            f.write('{"mark": "stage 0", "before": 2}\n')
        row, _ = emulator.summarize(path)
        self.assertEqual(row["calls"], 14)  # marks are not calls
        self.assertEqual(row["stages"], [
            {"stage": "stage 0", "groups": 3, "delay_calls": 4,
             "delay_ops": 3},
            {"stage": "stage 1", "groups": 1, "delay_calls": 0,
             "delay_ops": 0}])
        out = io.StringIO()
        with redirect_stdout(out):
            emulator.main([path, "--stages"])
        self.assertIn("stage 0: 3 stream(s); the last starts after 3 op(s), "
                      "4 call(s)", out.getvalue())

    def test_no_inference(self):
        path = self.write([call(1, "cudaGetDeviceCount", "createContext")],
                          program="broken")
        row, firsts = emulator.summarize(path)
        self.assertEqual((row["inferences"], row["create"]), (0, 1))
        self.assertEqual(firsts, [])
        self.assertIn("| broken  | 0          | -",
                      emulator.table([row]))


if __name__ == "__main__":
    unittest.main()
