// Reusable scratch memory for kernels (packed GEMM panels, dZ buffers, partial sums). Each calling
// thread has its own, so concurrent Python threads never share a buffer; it only grows, so the
// steady state of a training loop allocates nothing (fresh pages would cost a fault each).
#pragma once
#include <cstddef>

namespace nnfast {

enum WorkspaceSlot {
    kPackA = 0, kPackB, kGradZ, kPartials, kRunSums,
    kSparseTerms, kSparseCounts, kSparsePanels, kSparseOrder, kSparseHistogram, kSparseRows,  // gemm/sparse_a.cpp
    kWorkspaceSlots
};

// At least `bytes` of 64-byte-aligned memory for `slot`, valid until the next call for that slot
// on this thread. Aborts with std::bad_alloc when the system has no memory left.
void* workspace(WorkspaceSlot slot, size_t bytes);

}  // namespace nnfast
