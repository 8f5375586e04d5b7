// What a call through the C API costs over calling the kernel table from C++: the same float32
// kernel on the same data, `iters` calls each way, alternated over rounds; ns per call. The
// middle way - the kernel table with the floating-point mode set and restored around each call, as
// the bindings and the C API do - splits the C API's cost into the mode switch and its checks.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "capi/capi.h"
#include "capi/kernel_call.h"

namespace nnfast {
namespace capi {
namespace {

// ns per call of f() over iters calls.
template <class F>
double per_call(int64_t iters, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; ++i) f();
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(iters);
}

}  // namespace

bool probe_call_cost(const char* which, int64_t iters, int rounds, std::vector<double>* direct,
                     std::vector<double>* moded, std::vector<double>* through) {
    const bool dense = std::strcmp(which, "dense_forward") == 0;
    if (!dense && std::strcmp(which, "adam") != 0) return false;
    const nnfast_capi* api = table();
    const KernelSet<float>& k = kernels<float>();
    // dense_forward 32 x 128 x 10 with bias; adam: 1000 parameters, one tensor, keras convention.
    const int64_t m = 32, kk = 128, n = 10, size = 1000;
    std::vector<float> x(m * kk, 0.01f), w(kk * n, 0.02f), b(n, 0.1f), y(m * n);
    // Adam's four arrays a quarter page apart (64-byte aligned, 1 KiB apart in the low 12 address
    // bits): arrays whose starts lie a few cache lines apart in those bits make the kernel's loads
    // wait on its stores to another array (4K aliasing), which is where they landed, not the C API
    // (the Python bench section places its arrays the same way).
    constexpr int64_t kStride = (4096 + 1024) / sizeof(float);
    std::vector<float> slab(4 * kStride + 64 / sizeof(float));
    float* const base = slab.data() + (64 - reinterpret_cast<uintptr_t>(slab.data()) % 64) % 64 / sizeof(float);
    float *p = base, *g = base + kStride, *mom = base + 2 * kStride, *vel = base + 3 * kStride;
    std::fill(p, p + size, 0.5f), std::fill(g, g + size, 1e-3f), std::fill(mom, mom + size, 0.0f);
    std::fill(vel, vel + size, 0.0f);
    nnfast_optim_step s;
    nnfast_optim_step_init(&s, NNFAST_KERAS);
    s.learning_rate = 1e-3, s.beta_1 = 0.9, s.beta_2 = 0.999, s.epsilon = 1e-7;
    const nnfast_tensor_f32 t{p, g, {mom, vel, nullptr}, size};
    OptimStep os{};
    os.convention = Convention::keras, os.learning_rate = 1e-3, os.beta_1 = 0.9, os.beta_2 = 0.999, os.epsilon = 1e-7;
    const OptimTensor<float> ot{p, g, {mom, vel, nullptr}, size, 0};
    auto kernel = [&] {
        if (dense) k.dense_forward(y.data(), x.data(), w.data(), b.data(), m, kk, n, Activation::linear);
        else os.step += 1, k.adam_update(&ot, 1, os);
    };
    // Each round runs the three ways in a rotated order, so that none of them always comes first
    // or last (after another way's loop the caches and the clock are not the same).
    for (int r = 0; r < rounds; ++r) {
        for (int j = 0; j < 3; ++j) {
            switch ((r + j) % 3) {
            case 0: {  // a C++ caller sets the kernels' floating-point mode once, around its whole loop
                FpModeScope fp(kernel_fp_mode(flush_denormal()));
                direct->push_back(per_call(iters, kernel));
                break;
            }
            case 1:  // as nnfast's bindings call it: the mode set and given back around each call
                moded->push_back(per_call(iters, [&] {
                    FpModeScope fp(kernel_fp_mode(flush_denormal()));
                    kernel();
                }));
                break;
            default:
                through->push_back(dense ? per_call(iters, [&] {
                    api->dense_forward_f32(y.data(), x.data(), w.data(), b.data(), m, kk, n, NNFAST_LINEAR);
                }) : per_call(iters, [&] { s.step += 1, api->adam_update_f32(&t, 1, &s); }));
            }
        }
    }
    return true;
}

}  // namespace capi
}  // namespace nnfast
