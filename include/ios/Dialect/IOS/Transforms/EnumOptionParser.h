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

/// An EnumOptionParser whose --help is one line, `--name=<a|b>`, for options
/// whose values need no description (--help stays short).
template <typename EnumT>
class CompactEnumOptionParser : public EnumOptionParser<EnumT> {
public:
  using EnumOptionParser<EnumT>::EnumOptionParser;

  /// llvm::cl's widths count the " - " before the help. As wide as
  /// `--name=<value>`: a long value list does not push every other
  /// option's help to the right.
  size_t getOptionWidth(const llvm::cl::Option &o) const override {
    return std::string("  --" + o.ArgStr.str() + "=<value>").size() + 3;
  }
  void printOptionInfo(const llvm::cl::Option &o,
                       size_t globalWidth) const override {
    std::string h = head(o);
    llvm::outs() << h;
    llvm::outs().indent(globalWidth > h.size() + 3 ? globalWidth - h.size() - 3
                                                   : 0)
        << " - " << o.HelpStr << "\n";
  }

private:
  std::string head(const llvm::cl::Option &o) const {
    std::string h = "  --" + o.ArgStr.str() + "=<";
    for (unsigned i = 0; i < this->getNumOptions(); ++i)
      h += (i ? "|" : "") + this->getOption(i).str();
    return h + ">";
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
class parser<ios::UnitMode>
    : public ios::CompactEnumOptionParser<ios::UnitMode> {
public:
  using CompactEnumOptionParser::CompactEnumOptionParser;
};
} // namespace llvm::cl

#endif // IOS_DIALECT_IOS_TRANSFORMS_ENUMOPTIONPARSER_H
