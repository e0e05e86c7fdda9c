"""Prints the "programs" requests of stage-server.test, one per line, from
two module files (a scheduled function each): both timed together; then
programs the server must refuse, each with an error."""

import json
import sys

first, second = (open(path).read() for path in sys.argv[1:3])
two_functions = first + "\n" + first.replace("@sample", "@other")
unscheduled = """func.func @f(%x: tensor<1x4xf32> {ios.input}) -> tensor<1x4xf32> {
  %0 = arith.addf %x, %x : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}"""
requests = [
    [first, second],
    ["module {"],
    [two_functions],
    [unscheduled],
    "not a list",
    [first, 7],
    [first] * 9,
    [],
]
for i, programs in enumerate(requests):
    print(json.dumps({"id": i, "device": "cpu", "programs": programs}))
