//===- EnumOptionParser.h - Pass options over the dialect's enums -*- C++ -*-===//
//
// The command-line parser of an enum-valued pass option whose error names
// every valid value ("'fastest' is not one of: both, concurrent, ..."), where
// llvm::cl's stock parser only says it cannot find the value. It keeps the
// stock parser's interface (MLIR's pass options rely on `Values`).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOS_TRANSFORMS_ENUMOPTIONPARSER_H
#define IOS_DIALECT_IOS_TRANSFORMS_ENUMOPTIONPARSER_H

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "llvm/Support/CommandLine.h"

namespace ios {

template <typename EnumT>
class EnumOptionParser : public llvm::cl::generic_parser_base {
protected:
  struct OptionInfo : public GenericOptionInfo {
    OptionInfo(llvm::StringRef name, EnumT v, llvm::StringRef help)
        : GenericOptionInfo(name, help), V(v) {}
    llvm::cl::OptionValue<EnumT> V;
  };
  llvm::SmallVector<OptionInfo, 8> Values;

public:
  using parser_data_type = EnumT;
  explicit EnumOptionParser(llvm::cl::Option &o) : generic_parser_base(o) {}

  unsigned getNumOptions() const override { return unsigned(Values.size()); }
  llvm::StringRef getOption(unsigned n) const override {
    return Values[n].Name;
  }
  llvm::StringRef getDescription(unsigned n) const override {
    return Values[n].HelpStr;
  }
  const llvm::cl::GenericOptionValue &getOptionValue(unsigned n) const override {
    return Values[n].V;
  }

  /// True on error.
  bool parse(llvm::cl::Option &o, llvm::StringRef argName,
             llvm::StringRef arg, EnumT &v) {
    llvm::StringRef value = Owner.hasArgStr() ? arg : argName;
    for (const OptionInfo &info : Values)
      if (info.Name == value) {
        v = info.V.getValue();
        return false;
      }
    std::string valid;
    for (const OptionInfo &info : Values)
      valid += (valid.empty() ? "" : ", ") + info.Name.str();
    return o.error("'" + value + "' is not one of: " + valid);
  }

  template <typename DT>
  void addLiteralOption(llvm::StringRef name, const DT &v,
                        llvm::StringRef help) {
    Values.push_back(OptionInfo(name, static_cast<EnumT>(v), help));
    AddLiteralOption(Owner, name);
  }

  void removeLiteralOption(llvm::StringRef name) {
    Values.erase(Values.begin() + findOption(name));
  }
};

} // namespace ios

namespace llvm::cl {
template <>
class parser<ios::ScheduleStrategy>
    : public ios::EnumOptionParser<ios::ScheduleStrategy> {
public:
  using EnumOptionParser::EnumOptionParser;
};
template <>
class parser<ios::Enumeration> : public ios::EnumOptionParser<ios::Enumeration> {
public:
  using EnumOptionParser::EnumOptionParser;
};
template <>
class parser<ios::UnitMode> : public ios::EnumOptionParser<ios::UnitMode> {
public:
  using EnumOptionParser::EnumOptionParser;
};
} // namespace llvm::cl

#endif // IOS_DIALECT_IOS_TRANSFORMS_ENUMOPTIONPARSER_H
