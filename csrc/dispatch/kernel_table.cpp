// This ISA level's kernel table (compiled once per level, see CMakeLists.txt).
#include "dispatch/kernel_table.h"

#include "gemm/gemm.h"
#include "kernels/activations.h"
#include "kernels/columns.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/finite.h"
#include "kernels/limits.h"
#include "kernels/losses.h"
#include "kernels/normalization.h"
#include "kernels/optim.h"

#define NNFAST_STR2(x) #x
#define NNFAST_STR(x) NNFAST_STR2(x)

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

// The SIMD features the compiler was told it may use for this copy: proves the copy is real.
constexpr const char* kFeatures = ""
#if defined(__AVX512F__)
                                  "avx512f "
#endif
#if defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512CD__)
                                  "avx512dq avx512bw avx512vl avx512cd "
#endif
#if defined(__AVX2__)
                                  "avx2 "
#endif
#if defined(__FMA__)
                                  "fma "
#endif
#if defined(__SSE2__)
                                  "sse2 "
#endif
#if defined(__ARM_NEON)
                                  "neon "
#endif
    ;

template <class T>
constexpr KernelSet<T> kernel_set() {
    return KernelSet<T>{&activation_forward<T>, &activation_backward<T>, &gemm<T>, &gemm_blocking<T>,
                        &dense_forward<T>, &dense_backward<T>, &pointwise_loss<T>, &row_loss<T>, &weighted_loss<T>,
                        &dropout_forward<T>, &dropout_backward<T>, &embedding_backward<T>, &batch_norm_forward<T>,
                        &batch_norm_backward<T>, &batch_norm_tail_forward<T>, &batch_norm_tail_backward<T>,
                        &layer_norm_forward<T>, &layer_norm_backward<T>,
                        &normalization_forward<T>, &normalization_backward<T>, &all_finite<T>,
                        &sgd_update<T>, &adagrad_update<T>, &rmsprop_update<T>, &adam_update<T>,
                        &adamax_update<T>, &nadam_update<T>, &radam_update<T>, &adadelta_update<T>,
                        &lion_update<T>, &ftrl_update<T>, &column_changes<T>, &gather_columns<T>};
}

}  // namespace

const KernelTable& kernel_table() {
    static const KernelTable table{NNFAST_STR(NNFAST_ISA_NS), kFeatures, kernel_set<float>(),
                                   kernel_set<double>(), &gemm_tiles, &use_gemm_tile,
                                   &stream_inplace, &fma_loop};
    return table;
}

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
