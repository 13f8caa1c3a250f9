// Development driver for the replay (the real CLI is `inbeeld replay`, which
// calls the same ReplayMain).
#include <string>
#include <vector>

#include "inbeeld/signaling/replay/replay.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return inbeeld::signaling::ReplayMain(args);
}
