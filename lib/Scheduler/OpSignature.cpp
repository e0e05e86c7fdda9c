//===- OpSignature.cpp - Op signatures and their canonical text ----------===//

#include "ios/Scheduler/OpSignature.h"

#include <algorithm>

using namespace ios::sched;

bool KernelWork::operator==(const KernelWork &o) const {
  return kind == o.kind && llvm::StringRef(what) == o.what &&
         flops == o.flops && bytes == o.bytes && rows == o.rows &&
         cols == o.cols && tiles == o.tiles && elements == o.elements &&
         planes == o.planes && winograd == o.winograd &&
         libraryCall == o.libraryCall;
}

//===----------------------------------------------------------------------===//
// AttrValue / OpSignature
//===----------------------------------------------------------------------===//

bool AttrValue::operator==(const AttrValue &o) const {
  if (kind != o.kind)
    return false;
  switch (kind) {
  case Kind::Int:
    return intValue == o.intValue;
  case Kind::Str:
    return strValue == o.strValue;
  case Kind::Ints:
    return intsValue == o.intsValue;
  }
  return false;
}

static void printInts(llvm::raw_ostream &os, llvm::ArrayRef<int64_t> v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? "," : "") << v[i];
  os << ']';
}

void AttrValue::print(llvm::raw_ostream &os) const {
  switch (kind) {
  case Kind::Int:
    os << intValue;
    return;
  case Kind::Str:
    os << '"';
    for (char c : strValue) {
      if (c == '"' || c == '\\')
        os << '\\';
      os << c;
    }
    os << '"';
    return;
  case Kind::Ints:
    printInts(os, intsValue);
    return;
  }
}

OpSignature &OpSignature::set(llvm::StringRef key, AttrValue value) {
  auto it = std::lower_bound(
      attrs.begin(), attrs.end(), key,
      [](const std::pair<std::string, AttrValue> &a, llvm::StringRef k) {
        return llvm::StringRef(a.first) < k;
      });
  if (it != attrs.end() && it->first == key)
    it->second = std::move(value);
  else
    attrs.insert(it, {key.str(), std::move(value)});
  return *this;
}

const AttrValue *OpSignature::get(llvm::StringRef key) const {
  auto it = std::lower_bound(
      attrs.begin(), attrs.end(), key,
      [](const std::pair<std::string, AttrValue> &a, llvm::StringRef k) {
        return llvm::StringRef(a.first) < k;
      });
  if (it != attrs.end() && it->first == key)
    return &it->second;
  return nullptr;
}

std::optional<int64_t> OpSignature::getInt(llvm::StringRef key) const {
  if (const AttrValue *v = get(key); v && v->isInt())
    return v->getInt();
  return std::nullopt;
}
std::optional<llvm::StringRef> OpSignature::getStr(llvm::StringRef key) const {
  if (const AttrValue *v = get(key); v && v->isStr())
    return v->getStr();
  return std::nullopt;
}
std::optional<llvm::ArrayRef<int64_t>>
OpSignature::getInts(llvm::StringRef key) const {
  if (const AttrValue *v = get(key); v && v->isInts())
    return v->getInts();
  return std::nullopt;
}

void OpSignature::print(llvm::raw_ostream &os) const {
  os << kind << '{';
  for (size_t i = 0; i < attrs.size(); ++i) {
    os << (i ? "," : "") << attrs[i].first << '=';
    attrs[i].second.print(os);
  }
  os << "}(";
  for (size_t i = 0; i < inputShapes.size(); ++i) {
    if (i)
      os << ';';
    printInts(os, inputShapes[i]);
  }
  os << ")->";
  printInts(os, outputShape);
  os << 'x' << batch;
}

std::string OpSignature::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  print(os);
  return s;
}

bool OpSignature::operator==(const OpSignature &o) const {
  return kind == o.kind && attrs == o.attrs && inputShapes == o.inputShapes &&
         outputShape == o.outputShape && batch == o.batch;
}

double OpSignature::flops() const {
  double sum = 0;
  for (const KernelWork &k : work)
    sum += k.flops;
  return sum;
}

double OpSignature::bytes() const {
  double sum = 0;
  for (const KernelWork &k : work)
    sum += k.bytes;
  return sum;
}
