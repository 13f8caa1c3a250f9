#pragma once

#include <string>

namespace inbeeld::util {

// The malloc this process runs on, for the services' "ready" log line: "jemalloc <version>" when jemalloc
// replaced the C library's malloc (CMakeLists.txt links it into every binary outside the sanitizer builds),
// otherwise "malloc of <the object defining it>" (libc.so.6; the executable under ASan). Looked up at run time,
// so it tells what the process really uses, not what it was built for.
std::string AllocatorName();

}  // namespace inbeeld::util
