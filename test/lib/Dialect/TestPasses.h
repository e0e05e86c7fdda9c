//===- TestPasses.h - Test-only passes of ios-opt ---------------*- C++ -*-===//

#ifndef IOS_TEST_LIB_DIALECT_TESTPASSES_H
#define IOS_TEST_LIB_DIALECT_TESTPASSES_H

namespace ios::test {

void registerTestSignaturesPass();
void registerTestBuildFromSignaturePass();

/// Every test pass (what ios-opt registers besides the real ones).
inline void registerTestPasses() {
  registerTestSignaturesPass();
  registerTestBuildFromSignaturePass();
}

} // namespace ios::test

#endif // IOS_TEST_LIB_DIALECT_TESTPASSES_H
