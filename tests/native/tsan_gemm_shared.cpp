// ThreadSanitizer check of gemm_shared (gemm/gemm.h), which .ci/tsan builds and runs: the lead
// packs B's panels and publishes them, the other thread takes tiles from the shared counter. The
// Python build of that run has OpenMP off (libgomp is not instrumented), so no Dense backward
// pairs there; this drives the two roles from two std::threads instead, at the generic level
// (any x86-64 or AArch64 CPU runs it), and checks the product's bits against gemm on one thread.
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "gemm/gemm.h"

namespace {
long long g_taken = 0;  // tiles the second thread took (only it counts them)
}

namespace nnfast {
void note_shared_tiles(long long tiles) { g_taken += tiles; }  // dispatch.h's counter, here
}  // namespace nnfast

int main() {
    using namespace nnfast;
    // dx (m, k) = dz (m, n) w^T, as dense_backward calls it: 8 panels of the generic level's 8
    // columns wide, one pass over n, dz read in place: a plan that shares its tiles
    const int64_t m = 256, k = 64, n = 64;
    std::mt19937 gen(1);
    std::normal_distribution<float> normal;
    std::vector<float> dz(m * n), w(k * n), one(m * k), two(m * k);
    for (float& v : dz) v = normal(gen);
    for (float& v : w) v = normal(gen);
    NNFAST_ISA_NS::NNFAST_TILE_NS(NNFAST_GEMM_MR)::gemm<float>(one.data(), k, 1, dz.data(), n, 1, w.data(), 1, n,
                                                              nullptr, m, k, n, Activation::linear);
    long long differ = 0;
    for (int round = 0; round < 20; ++round) {
        NNFAST_ISA_NS::TileShare share;
        share.lead_waits_for_other = true;  // the second thread takes tiles, however the threads run
        auto run = [&](bool lead) {
            NNFAST_ISA_NS::NNFAST_TILE_NS(NNFAST_GEMM_MR)::gemm_shared<float>(
                share, lead, two.data(), k, 1, dz.data(), n, 1, w.data(), 1, n, m, k, n);
        };
        std::thread other(run, false);
        run(true);
        other.join();
        for (int64_t i = 0; i < m * k; ++i) differ += one[i] != two[i];
    }
    std::printf("gemm_shared: %lld elements differ from gemm's; the second thread took %lld tiles\n", differ,
                g_taken);
    return differ == 0 && g_taken > 0 ? 0 : 1;
}
