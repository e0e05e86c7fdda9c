//===- TableProfiler.h - Stage costs from a JSON table ----------*- C++ -*-===//
//
// For exact tests: costs are given per op name (the op's NameLoc, e.g.
// `loc("conv1")`) and, where a stage's cost is not derived from its ops, per
// stage. File format (docs/Profilers.md):
//
//   {
//     "ops": {"conv1": 0.10, "conv2": 0.12},   // ms of each op alone
//     "join_ms": 0.01,          // added to derived multi-group stages
//     "merge_factor": 0.7,      // derived merge stage = factor * sum(ops)
//     "stages": [               // explicit entries win over derived costs
//       {"strategy": "concurrent", "groups": [["conv1"], ["conv2"]], "ms": 0.15},
//       {"strategy": "merge", "groups": [["conv1"], ["conv2"]], "ms": 0.14}
//     ]
//   }
//
// A derived concurrent stage costs max over groups of the sum of its ops,
// plus join_ms when it has more than one group. An op missing from "ops", or a
// merge stage with neither an entry nor a merge_factor, is an error.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_TABLEPROFILER_H
#define IOS_PROFILER_TABLEPROFILER_H

#include "ios/Profiler/Profiler.h"

#include "llvm/ADT/StringMap.h"

#include <map>
#include <set>

namespace ios::prof {

class TableProfiler final : public Profiler {
public:
  static llvm::Expected<std::unique_ptr<Profiler>> load(llvm::StringRef path);
  llvm::Expected<double> measure(const sched::Graph &g,
                                 const sched::Stage &stage) override;
  std::string describe() const override { return "table:" + path; }
  bool isSignatureDeterministic() const override { return false; }

private:
  /// A stage as a set of groups, each a set of op names (order-insensitive).
  using StageKey =
      std::pair<sched::Strategy, std::set<std::set<std::string>>>;
  std::string path;
  llvm::StringMap<double> ops;
  std::map<StageKey, double> stages;
  double joinMs = 0;
  std::optional<double> mergeFactor;
};

} // namespace ios::prof

#endif // IOS_PROFILER_TABLEPROFILER_H
