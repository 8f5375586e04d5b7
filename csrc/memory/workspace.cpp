#include "memory/workspace.h"

#include <cstdlib>
#include <new>

namespace nnfast {
namespace {

struct Buffers {
    void* data[kWorkspaceSlots] = {};
    size_t size[kWorkspaceSlots] = {};
    ~Buffers() {
        for (void* p : data) std::free(p);
    }
};

thread_local Buffers t_buffers;

}  // namespace

void* workspace(WorkspaceSlot slot, size_t bytes) {
    Buffers& b = t_buffers;
    if (bytes <= b.size[slot] && b.data[slot]) return b.data[slot];
    const size_t grown = ((bytes + bytes / 4 + 63) / 64) * 64;  // 25% headroom, whole lines
    std::free(b.data[slot]);
    b.data[slot] = std::aligned_alloc(64, grown);
    b.size[slot] = b.data[slot] ? grown : 0;
    if (!b.data[slot]) throw std::bad_alloc();
    return b.data[slot];
}

}  // namespace nnfast
