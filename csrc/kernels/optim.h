// Fused optimizer kernels of one ISA level (see kernel_table.h for the state slots).
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T> void sgd_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void adagrad_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void rmsprop_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void adam_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void adamax_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void nadam_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void radam_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void adadelta_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void lion_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
template <class T> void ftrl_update(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
