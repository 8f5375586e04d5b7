#include "parallel/float_env.h"

#include <atomic>

namespace nnfast {
namespace {
std::atomic<bool> g_flush{kFlushDenormalSupported};
}

bool flush_denormal() { return g_flush.load(std::memory_order_relaxed); }

void set_flush_denormal(bool on) { g_flush.store(on && kFlushDenormalSupported, std::memory_order_relaxed); }

}  // namespace nnfast
