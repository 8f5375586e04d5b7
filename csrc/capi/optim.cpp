// The C API's optimizer entries: the fused multi-tensor updates of the kernel table, each behind
// the checks of nnfast.ops's update function of the same name (bindings/optim.cpp): the
// hyperparameters' ranges and conventions, the state slots the options use, sizes, NULLs and
// aliasing between the arrays written in place and everything else.
#include <cstdint>
#include <limits>
#include <vector>

#include "capi/capi.h"
#include "capi/kernel_call.h"

namespace nnfast {
namespace capi {
namespace {

template <class T> struct CTensor;
template <> struct CTensor<float> { using type = nnfast_tensor_f32; };
template <> struct CTensor<double> { using type = nnfast_tensor_f64; };

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr unsigned kKeras = 1u << NNFAST_KERAS, kTorch = 1u << NNFAST_TORCH, kDlfs = 1u << NNFAST_DLFS;

struct Rule {
    const char* name;
    unsigned conventions;  // the ones this optimizer has
    bool uses_step;        // reads the step count (the others run with step 1, as nnfast.ops does)
};

const Rule& rule(OptimizerKind kind) {
    static const Rule rules[] = {
        {"sgd_update", kKeras | kTorch | kDlfs, true}, {"adagrad_update", kKeras | kTorch, true},
        {"rmsprop_update", kKeras | kTorch, false},    {"adam_update", kKeras | kTorch, true},
        {"adamax_update", kKeras | kTorch, true},      {"nadam_update", kKeras | kTorch, true},
        {"radam_update", kTorch, true},                {"adadelta_update", kKeras | kTorch, false},
        {"lion_update", kKeras, false},                {"ftrl_update", kKeras, false}};
    return rules[static_cast<int>(kind)];
}

// The kernel's OptimStep from the caller's, checked as bindings/optim.cpp checks nnfast.ops's
// arguments; needed[k]: whether the options use state slot k.
int step_of(const Ctx& c, OptimizerKind kind, const nnfast_optim_step* in, OptimStep* s, bool needed[3]) {
    NNFAST_CHECK(present(c, in, true, "s"));
    if (in->size < sizeof(nnfast_optim_step))
        return fail(c, NNFAST_ERR_VERSION, "s->size must be >= %u (use nnfast_optim_step_init), got %u",
                    unsigned(sizeof(nnfast_optim_step)), unsigned(in->size));
    const Rule& r = rule(kind);
    if (in->convention < NNFAST_KERAS || in->convention > NNFAST_DLFS || !(r.conventions >> in->convention & 1u))
        return fail(c, NNFAST_ERR_VALUE, "s->convention must be one of %s%s%s, got %d",
                    r.conventions & kKeras ? "NNFAST_KERAS (0) " : "", r.conventions & kTorch ? "NNFAST_TORCH (1) " : "",
                    r.conventions & kDlfs ? "NNFAST_DLFS (2) " : "", int(in->convention));
    if (in->step < 1) return fail(c, NNFAST_ERR_VALUE, "s->step must be >= 1, got %lld", (long long)in->step);
    const bool torch = in->convention == NNFAST_TORCH;
    if (in->maximize && !torch) return fail(c, NNFAST_ERR_VALUE, "s->maximize is only defined for NNFAST_TORCH");
    NNFAST_CHECK(in_range(c, in->learning_rate, "s->learning_rate", 0.0, kInf));
    NNFAST_CHECK(in_range(c, in->weight_decay, "s->weight_decay", 0.0, kInf));
    *s = OptimStep{};
    s->convention = static_cast<Convention>(in->convention);
    s->step = r.uses_step ? in->step : 1;
    s->learning_rate = in->learning_rate;
    s->weight_decay = in->weight_decay;
    s->maximize = in->maximize != 0;
    needed[0] = needed[1] = needed[2] = false;
    switch (kind) {
        case OptimizerKind::sgd:
            NNFAST_CHECK(in_range(c, in->momentum, "s->momentum", 0.0, 1.0));
            NNFAST_CHECK(in_range(c, in->dampening, "s->dampening", 0.0, 1.0));
            if (!torch && in->dampening != 0)
                return fail(c, NNFAST_ERR_VALUE, "s->dampening is only defined for NNFAST_TORCH, got %g", in->dampening);
            if (torch && in->nesterov && (in->momentum == 0 || in->dampening != 0))
                return fail(c, NNFAST_ERR_VALUE, "s->nesterov (NNFAST_TORCH) requires momentum > 0 and dampening == 0");
            s->momentum = in->momentum, s->dampening = in->dampening, s->nesterov = in->nesterov != 0;
            needed[0] = in->momentum != 0;
            break;
        case OptimizerKind::adagrad:
            NNFAST_CHECK(in_range(c, in->epsilon, "s->epsilon", 0.0, kInf));
            NNFAST_CHECK(in_range(c, in->lr_decay, "s->lr_decay", 0.0, kInf));
            if (!torch && in->lr_decay != 0)
                return fail(c, NNFAST_ERR_VALUE, "s->lr_decay is only defined for NNFAST_TORCH, got %g", in->lr_decay);
            s->epsilon = in->epsilon, s->lr_decay = in->lr_decay;
            needed[0] = true;
            break;
        case OptimizerKind::rmsprop:
            NNFAST_CHECK(in_range(c, in->rho, "s->rho", 0.0, 1.0, true));
            NNFAST_CHECK(in_range(c, in->epsilon, "s->epsilon", 0.0, kInf));
            NNFAST_CHECK(in_range(c, in->momentum, "s->momentum", 0.0, 1.0));
            s->rho = in->rho, s->epsilon = in->epsilon, s->momentum = in->momentum, s->centered = in->centered != 0;
            needed[0] = true, needed[1] = s->centered, needed[2] = in->momentum != 0;
            break;
        case OptimizerKind::adam: case OptimizerKind::adamax: case OptimizerKind::nadam: case OptimizerKind::radam:
            NNFAST_CHECK(in_range(c, in->beta_1, "s->beta_1", 0.0, 1.0, true));
            NNFAST_CHECK(in_range(c, in->beta_2, "s->beta_2", 0.0, 1.0, true));
            NNFAST_CHECK(in_range(c, in->epsilon, "s->epsilon", 0.0, kInf));
            if (kind == OptimizerKind::nadam) NNFAST_CHECK(in_range(c, in->momentum_decay, "s->momentum_decay", 0.0, kInf));
            s->beta_1 = in->beta_1, s->beta_2 = in->beta_2, s->epsilon = in->epsilon;
            if (kind == OptimizerKind::nadam) s->momentum_decay = in->momentum_decay;
            if (kind != OptimizerKind::adamax) s->decoupled_weight_decay = in->decoupled_weight_decay != 0;
            if (kind == OptimizerKind::adam) s->amsgrad = in->amsgrad != 0;
            needed[0] = needed[1] = true, needed[2] = s->amsgrad;
            break;
        case OptimizerKind::adadelta:
            NNFAST_CHECK(in_range(c, in->rho, "s->rho", 0.0, 1.0));
            NNFAST_CHECK(in_range(c, in->epsilon, "s->epsilon", 0.0, kInf));
            s->rho = in->rho, s->epsilon = in->epsilon;
            needed[0] = needed[1] = true;
            break;
        case OptimizerKind::lion:
            NNFAST_CHECK(in_range(c, in->beta_1, "s->beta_1", 0.0, 1.0));
            NNFAST_CHECK(in_range(c, in->beta_2, "s->beta_2", 0.0, 1.0));
            s->beta_1 = in->beta_1, s->beta_2 = in->beta_2;
            needed[0] = true;
            break;
        case OptimizerKind::ftrl:
            NNFAST_CHECK(in_range(c, in->lr_power, "s->lr_power", -kInf, 0.0));
            NNFAST_CHECK(in_range(c, in->l1, "s->l1", 0.0, kInf));
            NNFAST_CHECK(in_range(c, in->l2, "s->l2", 0.0, kInf));
            NNFAST_CHECK(in_range(c, in->l2_shrinkage, "s->l2_shrinkage", 0.0, kInf));
            NNFAST_CHECK(in_range(c, in->beta, "s->beta", 0.0, kInf));
            s->lr_power = in->lr_power, s->l1 = in->l1, s->l2 = in->l2, s->l2_shrinkage = in->l2_shrinkage;
            s->beta = in->beta;
            needed[0] = needed[1] = true;
            break;
    }
    return NNFAST_OK;
}

// Storage that lives on the stack for the usual few tensors and on the heap past that.
template <class X, size_t N>
struct SmallBuffer {
    X local[N];
    std::vector<X> heap;
    X* get(size_t n) {
        if (n <= N) return local;
        heap.resize(n);
        return heap.data();
    }
};

const char* const kSlotNames[3] = {"state[0]", "state[1]", "state[2]"};

// The kernel's tensors (offsets, unused slots NULL) from the caller's, checked.
template <class T>
int tensors_of(const Ctx& c, const typename CTensor<T>::type* in, int64_t count, const bool needed[3],
               OptimTensor<T>* out, SmallBuffer<Region, 64>* written_buf, SmallBuffer<Region, 16>* read_buf) {
    Region* written = written_buf->get(size_t(count) * 4);
    Region* read = read_buf->get(size_t(count));
    int64_t nw = 0, offset = 0;
    for (int64_t i = 0; i < count; ++i) {
        const auto& t = in[i];
        if (t.size < 0 || t.size > kMaxElements - offset)
            return fail(c, NNFAST_ERR_SIZE, "tensors[%lld].size must be in [0, %lld], got %lld", (long long)i,
                        (long long)(kMaxElements - offset), (long long)t.size);
        if (t.size > 0 && (!t.param || !t.grad || (needed[0] && !t.state[0]) || (needed[1] && !t.state[1]) ||
                           (needed[2] && !t.state[2]))) {
            const char* name = !t.param ? "param" : !t.grad ? "grad" : (needed[0] && !t.state[0]) ? kSlotNames[0]
                               : (needed[1] && !t.state[1]) ? kSlotNames[1] : kSlotNames[2];
            return fail(c, NNFAST_ERR_NULL_POINTER, "tensors[%lld].%s must not be NULL (size %lld)", (long long)i,
                        name, (long long)t.size);
        }
        OptimTensor<T>& o = out[i];
        o.param = t.param, o.grad = t.grad, o.size = t.size, o.offset = offset;
        offset += t.size;
        written[nw++] = region(t.param, t.size, "param", i);
        read[i] = region(t.grad, t.size, "grad", i);
        for (int k = 0; k < 3; ++k) {
            o.state[k] = needed[k] ? t.state[k] : nullptr;
            if (needed[k]) written[nw++] = region(t.state[k], t.size, kSlotNames[k], i);
        }
    }
    return no_overlaps(c, written, nw, read, count);
}

template <class T, OptimizerKind Kind>
int update(const typename CTensor<T>::type* tensors, int64_t count, const nnfast_optim_step* step) {
    const Ctx c = ctx<T>(rule(Kind).name);
    OptimStep s;
    bool needed[3];
    NNFAST_CHECK(step_of(c, Kind, step, &s, needed));
    NNFAST_CHECK(nonnegative(c, count, "count"));
    NNFAST_CHECK(present(c, tensors, count > 0, "tensors"));
    if (count > kMaxElements / 4) return fail(c, NNFAST_ERR_SIZE, "count is too large, got %lld", (long long)count);
    SmallBuffer<OptimTensor<T>, 16> ts;
    SmallBuffer<Region, 64> written;
    SmallBuffer<Region, 16> read;
    OptimTensor<T>* kt = ts.get(size_t(count));
    NNFAST_CHECK(tensors_of<T>(c, tensors, count, needed, kt, &written, &read));
    return run(c, [&] {
        const KernelSet<T>& k = kernels<T>();
        const auto kernel = Kind == OptimizerKind::sgd        ? k.sgd_update
                            : Kind == OptimizerKind::adagrad  ? k.adagrad_update
                            : Kind == OptimizerKind::rmsprop  ? k.rmsprop_update
                            : Kind == OptimizerKind::adam     ? k.adam_update
                            : Kind == OptimizerKind::adamax   ? k.adamax_update
                            : Kind == OptimizerKind::nadam    ? k.nadam_update
                            : Kind == OptimizerKind::radam    ? k.radam_update
                            : Kind == OptimizerKind::adadelta ? k.adadelta_update
                            : Kind == OptimizerKind::lion     ? k.lion_update
                                                              : k.ftrl_update;
        kernel(kt, count, s);
    });
}

}  // namespace

void fill_optimizer_entries(nnfast_capi* t) {
#define NNFAST_BOTH(name, kind)                                   \
    t->name##_update_f32 = &update<float, OptimizerKind::kind>;  \
    t->name##_update_f64 = &update<double, OptimizerKind::kind>;
    NNFAST_BOTH(sgd, sgd)
    NNFAST_BOTH(adagrad, adagrad)
    NNFAST_BOTH(rmsprop, rmsprop)
    NNFAST_BOTH(adam, adam)
    NNFAST_BOTH(adamax, adamax)
    NNFAST_BOTH(nadam, nadam)
    NNFAST_BOTH(radam, radam)
    NNFAST_BOTH(adadelta, adadelta)
    NNFAST_BOTH(lion, lion)
    NNFAST_BOTH(ftrl, ftrl)
#undef NNFAST_BOTH
}

}  // namespace capi
}  // namespace nnfast
