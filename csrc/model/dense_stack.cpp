#include "model/dense_stack.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>

#include "model/dead_units.h"
#include "model/learning_rate.h"
#include "parallel/parallel_for.h"
#include "parallel/team.h"

namespace nnfast {

namespace {

// Golden-ratio multiplier of a Dropout layer's stream: seed * kStream + its forward count (as
// nnfast.layers.Dropout computes it).
constexpr uint64_t kStream = 0x9E3779B97F4A7C15ull;

// l.y = layer l of x (batch, l.in), as the layer's Python forward computes it in training.
template <class T>
void forward(const KernelSet<T>& k, const LayerBuffers<T>& l, const T* x, int64_t batch) {
    switch (l.kind) {
    case LayerKind::dense: k.dense_forward(l.y, x, l.w, l.b, batch, l.in, l.out, l.act); break;
    case LayerKind::activation: k.activation_forward(l.y, x, batch, l.out, l.act); break;
    case LayerKind::dropout: k.dropout_forward(l.y, l.mask, x, batch * l.out, l.rate, l.seed * kStream + (*l.calls)++); break;
    case LayerKind::batch_norm:
        k.batch_norm_forward(l.y, l.mean, l.inv_std, l.moving_mean, l.moving_var, x, l.gamma, l.beta, batch, l.out,
                             l.training, l.momentum, l.epsilon);
        break;
    case LayerKind::layer_norm:
        k.layer_norm_forward(l.y, l.mean, l.inv_std, x, l.gamma, l.beta, batch, l.out, l.epsilon);
        break;
    case LayerKind::normalization:
        k.normalization_forward(l.y, x, l.moving_mean, l.moving_var, batch, l.out, l.invert);
        break;
    }
}

// The parameter gradients of layer l and, unless l.dx is null, dL/dx into l.dx, from its input x
// (batch, l.in), its output l.y and dy (batch, l.out) = dL/dy.
template <class T>
void backward(const KernelSet<T>& k, const LayerBuffers<T>& l, const T* x, const T* dy, int64_t batch) {
    switch (l.kind) {
    case LayerKind::dense: k.dense_backward(l.dx, l.dw, l.db, x, l.w, l.y, dy, batch, l.in, l.out, l.act); break;
    case LayerKind::activation:  // no parameters: only dx
        if (l.dx) k.activation_backward(l.dx, l.y, dy, batch, l.out, l.act);
        break;
    case LayerKind::dropout:
        if (l.dx) k.dropout_backward(l.dx, dy, l.mask, batch * l.out, l.rate);
        break;
    case LayerKind::batch_norm:
        k.batch_norm_backward(l.dx_work, l.dgamma, l.dbeta, x, l.gamma, l.mean, l.inv_std, dy, batch, l.out,
                              l.training);
        break;
    case LayerKind::layer_norm:
        k.layer_norm_backward(l.dx_work, l.dgamma, l.dbeta, x, l.gamma, l.mean, l.inv_std, dy, batch, l.out);
        break;
    case LayerKind::normalization:  // no parameters: only dx
        if (l.dx) k.normalization_backward(l.dx, dy, l.moving_var, batch, l.out, l.invert);
        break;
    }
}

// How many element-wise layers after layers[i] run fused with it when it is a batch normalization
// (batch_norm_tail_*): an activation the fused pass computes with its kernel's own loop (linear,
// relu, leaky_relu), then a dropout, either or both, each with an input gradient for the fused
// backward to write. 0 when layers[i] runs alone.
template <class T>
size_t fused_tail(const std::vector<LayerBuffers<T>>& layers, size_t i) {
    if (layers[i].kind != LayerKind::batch_norm) return 0;
    size_t tail = 0;
    if (i + 1 < layers.size()) {
        const auto& a = layers[i + 1];
        if (a.kind == LayerKind::activation && a.dx &&
            (a.act == Activation::linear || a.act == Activation::relu || a.act == Activation::leaky_relu))
            tail = 1;
    }
    if (i + tail + 1 < layers.size()) {
        const auto& d = layers[i + tail + 1];
        if (d.kind == LayerKind::dropout && d.dx) ++tail;
    }
    return tail;
}

// The normalization whose fused tail ends at layers[i], or i when none does.
template <class T>
size_t fused_group_start(const std::vector<LayerBuffers<T>>& layers, size_t i) {
    for (size_t tail = 1; tail <= 2 && tail <= i; ++tail)
        if (fused_tail(layers, i - tail) == tail) return i - tail;
    return i;
}

// The layers of a fused batch normalization (layers[i]) and its tail of `tail` layers.
template <class T>
struct FusedTail {
    const LayerBuffers<T>& norm;
    const LayerBuffers<T>* act;      // the activation layer, or null
    const LayerBuffers<T>* dropout;  // the dropout layer, or null
    FusedTail(const std::vector<LayerBuffers<T>>& layers, size_t i, size_t tail)
        : norm(layers[i]),
          act(layers[i + 1].kind == LayerKind::activation ? &layers[i + 1] : nullptr),
          dropout(layers[i + tail].kind == LayerKind::dropout ? &layers[i + tail] : nullptr) {}
    // the activation's output (without an activation layer, the normalization's own output)
    T* act_y() const { return act ? act->y : norm.y; }
    Activation activation() const { return act ? act->act : Activation::linear; }
};

// The forward of a fused batch normalization and its tail on x (batch, in): the tail's output, as
// the layers' forwards in turn compute it. With a dropout, the layers before it keep no output: its
// mask holds the gates the backward needs.
template <class T>
void forward_fused(const KernelSet<T>& k, const FusedTail<T>& f, const T* x, int64_t batch) {
    const auto& n = f.norm;
    const auto* d = f.dropout;
    k.batch_norm_tail_forward(d ? d->y : f.act_y(), d ? d->mask : nullptr, n.mean, n.inv_std, n.moving_mean,
                              n.moving_var, x, n.gamma, n.beta, batch, n.out, n.training, n.momentum, n.epsilon,
                              f.activation(), d ? d->rate : 0.0, d ? d->seed * kStream + (*d->calls)++ : 0);
}

// Its backward from dy = dL/d(the tail's output): the normalization's parameter gradients and
// dx_work; dL/d(the normalized x) lands in the first tail layer's dx on the way.
template <class T>
void backward_fused(const KernelSet<T>& k, const FusedTail<T>& f, const T* x, const T* dy, int64_t batch) {
    const auto& n = f.norm;
    const auto* d = f.dropout;
    k.batch_norm_tail_backward(n.dx_work, n.dgamma, n.dbeta, f.act ? f.act->dx : d->dx, x, n.gamma, n.mean,
                               n.inv_std, f.act_y(), d ? d->mask : nullptr, dy, batch, n.out, n.training,
                               f.activation(), d ? d->rate : 0.0);
}

// l2/2 * sum(w^2) over the Dense layers with an L2 penalty (summed in double, in order).
template <class T>
double l2_penalty(const std::vector<LayerBuffers<T>>& layers) {
    double total = 0.0;
    for (const auto& l : layers) {
        if (l.kind != LayerKind::dense || l.l2 == 0.0) continue;
        double squares = 0.0;
        for (int64_t i = 0; i < l.in * l.out; ++i) squares += double(l.w[i]) * double(l.w[i]);
        total += 0.5 * l.l2 * squares;
    }
    return total;
}

// dw (in, out) += l2 * w (in, out) of a Dense layer with an L2 penalty: numpy's w * T(l2), then the sum.
template <class T>
void add_l2_grad(const LayerBuffers<T>& l) {
    const T c = T(l.l2);
    for (int64_t i = 0; i < l.in * l.out; ++i) {
        const T term = c * l.w[i];
        l.dw[i] += term;
    }
}

// Where a step's batch comes from, when it is rows of a data set whose first layer's dead units
// are tracked (the first layer's forward then goes through them).
template <class T>
struct BatchSource {
    DeadUnits<T>* dead = nullptr;
    const int64_t* rows = nullptr;  // (batch) the samples
};

// The step itself: forward, loss, backward and update (run_dense_stack_step).
template <class T>
double train_step(const KernelTable& kt, const DenseStackStep<T>& s, const T* x, const int64_t* labels,
                  const T* target_rows, const T* weights, const OptimStep& step, BatchSource<T> source = {}) {
    const KernelSet<T>& k = kernels_of<T>(kt);
    const size_t n = s.layers.size();
    const T* input = x;
    for (size_t i = 0; i < n;) {
        const size_t tail = fused_tail(s.layers, i);
        if (tail) forward_fused(k, FusedTail<T>(s.layers, i, tail), input, s.batch);
        else if (i == 0 && source.dead) source.dead->forward(k, input, source.rows, s.batch);
        else forward(k, s.layers[i], input, s.batch);
        i += tail + 1;
        input = s.layers[i - 1].y;
    }
    const auto& last = s.layers.back();
    double loss;
    if (is_row_loss(s.loss))
        loss = k.row_loss(s.dloss, last.y, labels, target_rows, s.batch, last.out, s.loss, s.loss_param);
    else
        loss = k.pointwise_loss(s.dloss, last.y, target_rows, s.batch * last.out, s.loss, s.loss_param);
    if (weights) {  // the Python loop's grad *= w, row by row; the loss Keras reports with weights
        for (int64_t i = 0; i < s.batch; ++i)
            for (int64_t j = 0; j < last.out; ++j) s.dloss[i * last.out + j] *= weights[i];
        loss = k.weighted_loss(last.y, labels, target_rows, weights, s.batch, last.out, s.loss, s.loss_param);
    }
    loss += l2_penalty(s.layers);
    if (!std::isfinite(loss)) return loss;
    const T* dy = s.dloss;
    for (size_t i = n; i-- > 0;) {
        const size_t first = fused_group_start(s.layers, i);
        const T* input = first ? s.layers[first - 1].y : x;
        if (first < i) backward_fused(k, FusedTail<T>(s.layers, first, i - first), input, dy, s.batch);
        else backward(k, s.layers[i], input, dy, s.batch);
        i = first;
        const auto& l = s.layers[i];
        if (l.kind == LayerKind::dense && l.l2 != 0.0) add_l2_grad(l);
        if (!l.dx) break;  // nothing before this layer is trained
        dy = l.dx;
    }
    update_kernel(k, s.optimizer)(s.tensors.data(), int64_t(s.tensors.size()), step);
    return loss;
}

}  // namespace

// One team (parallel/team.h) for the whole step: its parallel parts (some 28 in the tabular Keras
// model's) are jobs handed to the team's threads, not as many OpenMP regions. A step none of whose
// parts splits (a tiny network's) runs alone: a team would only cost its region and hand-offs.
template <class T>
double run_dense_stack_step(const KernelTable& kt, const DenseStackStep<T>& s, const T* x, const int64_t* labels,
                            const T* target_rows, const T* weights, const OptimStep& step, TeamNeed& team) {
    double loss = 0.0;
    auto work = [&] { loss = train_step(kt, s, x, labels, target_rows, weights, step); };
    with_team(team, num_threads(), work);
    return loss;
}

namespace {

// What fetching a scattered row of the data set costs beyond its copy, in threads_for's operations:
// a row in a page of its own misses the TLB and the caches (measured on the tabular model, batch
// 256 of 64 features: 35 us on one thread, about 100 ns a row, 20 us on two).
constexpr int64_t kRowFetchCost = 256;

// And what each of its cache lines costs on top: a long row (the 784 features of a flattened
// image, 49 lines) misses all the way to memory line after line (about 350 ns a row on one core
// of the Zen 5), so that a batch of 32 such rows, 11.6 us on one thread, is worth two.
constexpr int64_t kLineFetchCost = 32;

// Rows the gather copies side by side (copy_rows).
constexpr int64_t kRowsSideBySide = 8;

// A cache line's bytes.
constexpr int64_t kLineBytes = 64;

// A hint to fetch the cache line of p into the outer caches (L2 and beyond), as prefetcht2 does: a
// no-op where the compiler has no prefetch builtin.
inline void prefetch_line_outer(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 0, 1);
#else
    (void)p;
#endif
}

// Row i of buf's target, weight or label = that of sample rows[i] (the features are copy_rows').
template <class T>
void copy_row_extras(const BatchBuffers<T>& buf, const TrainingSet<T>& d, const int64_t* rows, int64_t i) {
    if (d.weights) buf.weights[i] = d.weights[rows[i]];
    if (d.labels) buf.labels[i] = d.labels[rows[i]];
    else std::memcpy(buf.target_rows + i * d.outputs, d.target_rows + rows[i] * d.outputs, sizeof(T) * d.outputs);
}

// Rows [i0, i1) of buf = samples rows[i0 : i1] of the data set: their features, targets and weights.
// The features are copied kRowsSideBySide rows at a time, a cache line of each row in turn, while
// the same line of each row of the next group is hinted into L2. A shuffled row is a miss all the
// way to memory; a copy of one row after another waits on one row's lines at a time, and the
// hardware prefetcher restarts at each row. Eight rows side by side keep eight streams in flight
// (session 46, a gather of an epoch of 784-float rows in batches of 128 on the Zen 4, alternated in
// one process: 12-14 ms against 25-35 for a memcpy a row with the next rows hinted into L1).
template <class T>
void copy_rows(const BatchBuffers<T>& buf, const TrainingSet<T>& d, const int64_t* rows, int64_t i0, int64_t i1) {
    const int64_t bytes = int64_t(sizeof(T)) * d.in;
    const int64_t whole = bytes / kLineBytes * kLineBytes;
    for (int64_t g = i0; g < i1; g += kRowsSideBySide) {
        const int64_t n = std::min(kRowsSideBySide, i1 - g);
        const int64_t next = std::min(kRowsSideBySide, i1 - g - n);
        const char* from[kRowsSideBySide];
        const char* ahead[kRowsSideBySide];
        char* to[kRowsSideBySide];
        for (int64_t j = 0; j < n; ++j) {
            from[j] = reinterpret_cast<const char*>(d.x + rows[g + j] * d.in);
            to[j] = reinterpret_cast<char*>(buf.x + (g + j) * d.in);
        }
        for (int64_t j = 0; j < next; ++j) ahead[j] = reinterpret_cast<const char*>(d.x + rows[g + n + j] * d.in);
        for (int64_t at = 0; at < whole; at += kLineBytes) {
            for (int64_t j = 0; j < n; ++j) std::memcpy(to[j] + at, from[j] + at, kLineBytes);
            for (int64_t j = 0; j < next; ++j) prefetch_line_outer(ahead[j] + at);
        }
        // a misaligned row's last line, which the loop's addresses may not reach
        for (int64_t j = 0; bytes > 0 && j < next; ++j) prefetch_line_outer(ahead[j] + bytes - 1);
        for (int64_t j = 0; j < n; ++j) std::memcpy(to[j] + whole, from[j] + whole, size_t(bytes - whole));
        for (int64_t i = g; i < g + n; ++i) copy_row_extras(buf, d, rows, i);
    }
}

// Rows [begin, batch) of buf = those of the samples `rows`. A row costs what it copies and its
// fetch: a small batch of short rows is copied by one thread, since a parallel part costs more
// than the copy saves.
// Hints of single rows' lines ahead of a copy a row at a time (sessions 28, 43 and 45: 2 rows
// ahead into L1, 3 or 4 rows, a row's first lines, the next batch's rows during the step, in a
// burst or drained after GEMM tiles) measured at best a few per cent; copy_rows' side-by-side rows
// halve the gather.
template <class T>
void gather_batch(const BatchBuffers<T>& buf, const TrainingSet<T>& d, const int64_t* rows, int64_t begin,
                  int64_t batch) {
    const int64_t lines = (int64_t(sizeof(T)) * d.in + kLineBytes - 1) / kLineBytes;
    const int64_t row_cost = d.in + d.outputs + 1 + kRowFetchCost + lines * kLineFetchCost;
    parallel_for(batch - begin, kRowsSideBySide, row_cost,
                 [&](int64_t i0, int64_t i1) { copy_rows(buf, d, rows, begin + i0, begin + i1); });
}

// The next step's batch, gathered a group of rows at a time by the team's other threads while they
// wait on the step's serial parts (the small layers, the loss: set_team_idle_task), into the batch
// buffers the step does not use; that step then gathers only the rows they did not reach. The same
// rows in the same places: only the time changes.
template <class T>
struct AheadGather {
    const TrainingSet<T>* data = nullptr;
    const BatchBuffers<T>* buf = nullptr;  // the next step's buffers
    const int64_t* rows = nullptr;         // its samples
    int64_t batch = 0;
    int64_t step = -1;                     // the step they are for, or -1
    std::atomic<int64_t> claimed{0};       // rows taken up, each finished once the task is cleared

    // A group of rows side by side (the idle task's unit); false once none is left.
    static bool unit(void* self) {
        auto& g = *static_cast<AheadGather*>(self);
        const int64_t i = g.claimed.fetch_add(kRowsSideBySide, std::memory_order_relaxed);
        if (i >= g.batch) return false;
        const int64_t end = std::min(i + kRowsSideBySide, g.batch);
        copy_rows(*g.buf, *g.data, g.rows, i, end);
        return end < g.batch;
    }
};

// The index of the first largest value of row[0 : n] (NumPy's argmax for finite rows).
template <class T>
int64_t argmax(const T* row, int64_t n) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; ++j)
        if (row[j] > row[best]) best = j;
    return best;
}

// How many rows of y (batch, outputs) `rule` counts as right: argmax at the label (or the target
// row's argmax), or for a binary rule (one output) target == (output > threshold), as
// binary_accuracy compares them: in the outputs' dtype (NumPy's and torch's rule for a Python
// float threshold), the comparison's 0/1 in the targets' dtype.
template <class T>
int64_t count_correct(const T* y, const BatchBuffers<T>& buf, bool labels, int64_t batch, int64_t outputs,
                      AccuracyRule rule) {
    int64_t hits = 0;
    if (rule.binary) {
        for (int64_t i = 0; i < batch; ++i)
            hits += buf.target_rows[i] == T(y[i] > T(rule.threshold) ? 1 : 0);
        return hits;
    }
    for (int64_t i = 0; i < batch; ++i) {
        const int64_t want = labels ? buf.labels[i] : argmax(buf.target_rows + i * outputs, outputs);
        hits += argmax(y + i * outputs, outputs) == want;
    }
    return hits;
}

}  // namespace

template <class T>
int64_t run_dense_stack_steps(const KernelTable& kt, const DenseStackStep<T>& s, const TrainingSet<T>& data,
                              const BatchBuffers<T>& buf, const BatchBuffers<T>& spare, int64_t first, int64_t count,
                              OptimStep step, const LearningRateSchedule& schedule, double* losses, int64_t* correct,
                              int64_t tail, AccuracyRule accuracy, ThreadChoice& threads, TeamNeed& team,
                              DeadUnits<T>& dead) {
    const int64_t batch = s.batch;
    dead.begin(s.layers.front(), data.x, data.samples, data.continuing);
    const DenseStackStep<T>* plan = &s;  // the step's plan: s, or for the last partial batch its copy
    int64_t size = batch;                // the step's samples
    int64_t i = 0;            // steps run so far
    int64_t stopped_at = -1;  // the count to return once a step stopped the run
    // A step uses buf, or the buffers its rows were gathered ahead into; the gather ahead for the
    // next step takes the other ones.
    const BatchBuffers<T> bufs[2] = {buf, spare};
    AheadGather<T> ahead;
    ahead.data = &data;
    ahead.batch = batch;
    auto body = [&] {  // step i's gather (what the last step's waits did not), step and accuracy count
        const BatchBuffers<T>* mine = &bufs[0];
        const int64_t* rows = data.order + (first + i) * batch;
        int64_t begin = 0;
        if (ahead.step == i) {
            set_team_idle_task(nullptr, nullptr);
            const int64_t claimed = ahead.claimed.load(std::memory_order_relaxed);
            begin = claimed < batch ? claimed : batch;
            mine = ahead.buf;
        }
        ahead.step = -1;
        const BatchBuffers<T>& b = *mine;
        gather_batch(b, data, rows, begin, size);
        if (team_job_threads() > 1 && i + 1 < count) {  // the next batch, while the team's threads wait
            ahead.buf = mine == &bufs[0] ? &bufs[1] : &bufs[0];
            ahead.rows = rows + batch;
            ahead.step = i + 1;
            ahead.claimed.store(0, std::memory_order_relaxed);
            set_team_idle_task(&AheadGather<T>::unit, &ahead);
        }
        const BatchSource<T> source{dead.tracks() ? &dead : nullptr, rows};
        losses[i] = train_step(kt, *plan, b.x, data.labels ? b.labels : nullptr,
                               data.labels ? nullptr : b.target_rows, data.weights ? b.weights : nullptr, step, source);
        if (correct && std::isfinite(losses[i]))
            correct[i] = count_correct(s.layers.back().y, b, data.labels != nullptr, size, data.outputs, accuracy);
    };
    // Step i on the threads `threads` gives it, timed for it; `in_team` runs it (its team, if any, is
    // the caller's or its own). False once the run stops.
    auto timed_step = [&](auto&& in_team) {
        step.learning_rate = learning_rate_at(schedule, step.step - 1);
        if (!(step.learning_rate >= 0.0)) {  // the caller reports it, as an update call would
            stopped_at = i;
            return false;
        }
        const ThreadCap cap(threads.threads());
        const auto start = std::chrono::steady_clock::now();
        in_team();
        if (!std::isfinite(losses[i])) {
            stopped_at = i + 1;
            return false;
        }
        ++step.step;
        ++i;
        if (plan == &s)  // a whole batch's time: the thread choice compares those
            threads.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return true;
    };
    while (i < count && stopped_at < 0) {
        const int all = threads.threads();
        if (all > 1 && team.splits(all)) {
            // Steps in a row on all threads share one team: a team per step paid an OpenMP region's
            // fork and join each time, and the step's first part (the gather) waited for the other
            // thread to arrive. The team ends when the choice turns to one thread, whose steps run
            // alone, with no thread spinning beside them.
            auto steps = [&] {
                while (i < count && threads.threads() == all && timed_step(body)) {
                }
            };
            with_team(all, steps);
        } else {
            timed_step([&] { with_team(team, num_threads(), body); });
        }
    }
    if (tail > 0 && stopped_at < 0) {
        // The epoch's last, partial batch: the same step on fewer samples (the layers' buffers hold a
        // whole batch's rows, and each kernel takes the rows it is given), as a step made for that batch
        // size computes it.
        DenseStackStep<T> last = s;
        last.batch = tail;
        plan = &last;
        size = tail;
        timed_step([&] { with_team(team, num_threads(), body); });
        plan = &s;
    }
    return stopped_at >= 0 ? stopped_at : i;
}

template int64_t run_dense_stack_steps<float>(const KernelTable&, const DenseStackStep<float>&,
                                              const TrainingSet<float>&, const BatchBuffers<float>&,
                                              const BatchBuffers<float>&, int64_t,
                                              int64_t, OptimStep, const LearningRateSchedule&, double*, int64_t*,
                                              int64_t, AccuracyRule, ThreadChoice&, TeamNeed&, DeadUnits<float>&);
template int64_t run_dense_stack_steps<double>(const KernelTable&, const DenseStackStep<double>&,
                                               const TrainingSet<double>&, const BatchBuffers<double>&,
                                               const BatchBuffers<double>&, int64_t,
                                               int64_t, OptimStep, const LearningRateSchedule&, double*,
                                               int64_t*, int64_t, AccuracyRule, ThreadChoice&, TeamNeed&,
                                               DeadUnits<double>&);

template double run_dense_stack_step<float>(const KernelTable&, const DenseStackStep<float>&, const float*,
                                            const int64_t*, const float*, const float*, const OptimStep&,
                                            TeamNeed&);
template double run_dense_stack_step<double>(const KernelTable&, const DenseStackStep<double>&, const double*,
                                             const int64_t*, const double*, const double*,
                                             const OptimStep&, TeamNeed&);

}  // namespace nnfast
