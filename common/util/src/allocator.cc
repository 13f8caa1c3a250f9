#include "inbeeld/util/allocator.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstring>

namespace inbeeld::util {

std::string AllocatorName() {
  // The object that defines the malloc every call resolves to: jemalloc only when it comes first in the
  // search order (linked before the C library), not merely when it is loaded.
  Dl_info info{};
  void* malloc_symbol = dlsym(RTLD_DEFAULT, "malloc");
  if (malloc_symbol == nullptr || dladdr(malloc_symbol, &info) == 0 || info.dli_fname == nullptr) return "unknown";
  if (std::strstr(info.dli_fname, "jemalloc") == nullptr) {
    // "libc.so.6" normally; the executable itself under ASan (its interceptors define malloc).
    const char* slash = std::strrchr(info.dli_fname, '/');
    return std::string("malloc of ") + (slash != nullptr ? slash + 1 : info.dli_fname);
  }
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl == nullptr || mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace inbeeld::util
