//===- TableProfiler.cpp - Stage costs from a JSON table ------------------===//

#include "ios/Profiler/TableProfiler.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace ios;
using namespace ios::prof;
using llvm::Expected;

static llvm::Error tableError(llvm::StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError("cost table '" + path.str() +
                                 "': " + msg.str());
}

Expected<std::unique_ptr<Profiler>>
TableProfiler::load(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return tableError(path, "cannot read: " + buffer.getError().message());
  Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return tableError(path, llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return tableError(path, "expected a JSON object");
  auto table = std::unique_ptr<TableProfiler>(new TableProfiler());
  table->path = path.str();
  for (const auto &[key, value] : *root)
    if (key != "ops" && key != "stages" && key != "join_ms" &&
        key != "merge_factor")
      return tableError(path, "unknown field '" + key.str() + "'");
  if (const llvm::json::Object *ops = root->getObject("ops"))
    for (const auto &[name, value] : *ops) {
      std::optional<double> ms = value.getAsNumber();
      if (!ms || *ms < 0)
        return tableError(path, "ops." + name.str() +
                                    " must be a non-negative number");
      table->ops[name.str()] = *ms;
    }
  if (auto join = root->getNumber("join_ms"))
    table->joinMs = *join;
  if (auto factor = root->getNumber("merge_factor"))
    table->mergeFactor = *factor;
  if (const llvm::json::Array *stages = root->getArray("stages")) {
    for (auto [i, entry] : llvm::enumerate(*stages)) {
      std::string where = llvm::formatv("stages[{0}]", i).str();
      const llvm::json::Object *o = entry.getAsObject();
      if (!o)
        return tableError(path, where + " must be an object");
      std::optional<sched::Strategy> strategy =
          sched::parseStrategy(o->getString("strategy").value_or(""));
      std::optional<double> ms = o->getNumber("ms");
      const llvm::json::Array *groups = o->getArray("groups");
      if (!strategy)
        return tableError(path, where + ".strategy must be \"concurrent\" or "
                                        "\"merge\"");
      if (!ms || *ms < 0 || !groups)
        return tableError(path, where + " needs \"groups\" and a "
                                        "non-negative \"ms\"");
      StageKey key;
      key.first = *strategy;
      for (const llvm::json::Value &group : *groups) {
        const llvm::json::Array *names = group.getAsArray();
        if (!names)
          return tableError(path, where + ".groups must be lists of names");
        std::set<std::string> set;
        for (const llvm::json::Value &name : *names) {
          std::optional<llvm::StringRef> s = name.getAsString();
          if (!s)
            return tableError(path, where + ".groups must be lists of names");
          set.insert(s->str());
        }
        key.second.insert(std::move(set));
      }
      table->stages[std::move(key)] = *ms;
    }
  }
  return std::unique_ptr<Profiler>(std::move(table));
}

Expected<double> TableProfiler::measure(const sched::Graph &g,
                                        const sched::Stage &stage) {
  StageKey key;
  // A one-group merge stage is just its op: the table has no separate entry.
  key.first = stage.groups.size() > 1 ? stage.strategy
                                      : sched::Strategy::Concurrent;
  for (const auto &group : stage.groups) {
    std::set<std::string> names;
    for (sched::NodeId id : group)
      names.insert(g.nodeById(id).name);
    key.second.insert(std::move(names));
  }
  if (auto it = stages.find(key); it != stages.end())
    return it->second;

  std::string listing;
  llvm::raw_string_ostream os(listing);
  os << "[";
  llvm::interleave(
      stage.groups, os,
      [&](const std::vector<sched::NodeId> &group) {
        os << "[";
        llvm::interleave(
            group, os, [&](sched::NodeId id) { os << g.nodeById(id).name; },
            ", ");
        os << "]";
      },
      ", ");
  os << "]";

  double sumAll = 0, slowest = 0;
  for (const auto &group : stage.groups) {
    double sum = 0;
    for (sched::NodeId id : group) {
      const std::string &name = g.nodeById(id).name;
      auto it = ops.find(name);
      if (it == ops.end())
        return tableError(path, "no cost for op '" + name + "' (stage " +
                                    listing + ")");
      sum += it->second;
    }
    sumAll += sum;
    slowest = std::max(slowest, sum);
  }
  if (key.first == sched::Strategy::Merge) {
    if (!mergeFactor)
      return tableError(path, "no entry for merge stage " + listing +
                                  " and no merge_factor");
    return *mergeFactor * sumAll;
  }
  return slowest + (stage.groups.size() > 1 ? joinMs : 0.0);
}
