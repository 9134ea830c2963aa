#include "demo.h"

#include <iostream>

namespace duosync {

int RunDemo(int seconds, const std::atomic<bool>* stop) {
  std::cerr << "demo: not built yet\n";
  return 1;
}

}  // namespace duosync
