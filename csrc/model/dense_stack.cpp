#include "model/dense_stack.h"

#include <cmath>

namespace nnfast {

template <class T>
double run_dense_stack_step(const KernelTable& kt, const DenseStackStep<T>& s, const T* x, const int64_t* labels,
                            const T* target_rows, const OptimStep& step) {
    const KernelSet<T>& k = kernels_of<T>(kt);
    const size_t n = s.layers.size();
    const T* input = x;
    for (const auto& l : s.layers) {
        k.dense_forward(l.y, input, l.w, l.b, s.batch, l.in, l.out, l.act);
        input = l.y;
    }
    const auto& last = s.layers.back();
    double loss;
    if (s.loss == StepLoss::softmax_cross_entropy)
        loss = k.softmax_cross_entropy(s.dloss, last.y, labels, target_rows, s.batch, last.out);
    else
        loss = k.pointwise_loss(s.dloss, last.y, target_rows, s.batch * last.out, static_cast<Loss>(s.loss));
    if (!std::isfinite(loss)) return loss;
    const T* dy = s.dloss;
    for (size_t i = n; i-- > 0;) {
        const auto& l = s.layers[i];
        k.dense_backward(l.dx, l.dw, l.db, i ? s.layers[i - 1].y : x, l.w, l.y, dy, s.batch, l.in, l.out, l.act);
        dy = l.dx;
    }
    const auto update = s.optimizer == OptimizerKind::sgd       ? k.sgd_update
                        : s.optimizer == OptimizerKind::adagrad ? k.adagrad_update
                        : s.optimizer == OptimizerKind::rmsprop ? k.rmsprop_update
                                                                : k.adam_update;
    update(s.tensors.data(), int64_t(s.tensors.size()), step);
    return loss;
}

template double run_dense_stack_step<float>(const KernelTable&, const DenseStackStep<float>&, const float*,
                                            const int64_t*, const float*, const OptimStep&);
template double run_dense_stack_step<double>(const KernelTable&, const DenseStackStep<double>&, const double*,
                                             const int64_t*, const double*, const OptimStep&);

}  // namespace nnfast
