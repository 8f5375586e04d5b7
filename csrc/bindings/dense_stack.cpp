// DenseStack: the one-call training step of a stack of Dense layers (nnfast.models uses it for
// models it covers). Every buffer is checked once when the step is made; each call checks only its
// inputs, then runs forward, loss, backward and the optimizer update under kernel_call.h's GIL policy.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "parallel/threads.h"
#include "bindings/losses.h"
#include "bindings/optim_step.h"
#include "bindings/register.h"
#include "dispatch/dispatch.h"
#include "model/dead_units.h"
#include "model/dense_stack.h"
#include "model/learning_rate.h"

namespace nnfast {
namespace bindings {
namespace {

// A checked float array of dtype T, C-contiguous, aligned, of the given shape.
template <class T>
py::array buffer(py::handle obj, const char* name, std::vector<py::ssize_t> shape, bool writable) {
    py::array a = float_array(obj, name);
    if ((a.itemsize() == 4) != std::is_same<T, float>::value)
        throw py::type_error(std::string(name) + " must have the model's dtype");
    bool same = a.ndim() == py::ssize_t(shape.size());
    for (size_t i = 0; same && i < shape.size(); ++i) same = a.shape(i) == shape[i];
    if (!same) throw py::value_error(std::string(name) + " has shape " + shape_str(a) + ", not the expected one");
    require_c_contiguous(a, name);
    if (writable) require_writable(a, name);
    return a;
}

class Step {
  public:
    virtual ~Step() = default;
    virtual double run(py::handle x, py::handle targets, py::handle learning_rate, py::handle step,
                       bool check_finite, py::handle weights) = 0;
    virtual int64_t run_steps(py::handle x, py::handle targets, py::handle order, int64_t first, int64_t count,
                              py::handle learning_rate, py::handle step, py::handle losses, py::handle correct,
                              py::handle weights, py::handle binary_threshold, bool continuing, int64_t tail) = 0;
    // Units of the first layer that run_steps has proven dead over its data set (model/dead_units.h).
    virtual int64_t proven_dead_units() const = 0;
    // Optimizer updates the last run or run_steps call applied (its steps with a finite loss; 0 if
    // it refused its arguments): readable even when a KeyboardInterrupt arrives between the
    // call's return and its result's use.
    int64_t last_updates = 0;
    // Threads the last run_steps call settled on after timing all threads and one (0: none yet).
    int last_threads = 0;
    // Steps that run_steps calls have run as probes of all threads against one, over all calls.
    int64_t probe_steps = 0;
    // Takes over what `other` learnt of its teams, and its thread choice when that settled on all
    // threads, if it is a step of the same dtype: a fit call compiles its step afresh, and the last
    // call's timings hold for the same layers' shapes. Only the time depends on them, never a result.
    virtual void adopt_timing(const Step& other) = 0;
};

// A C-contiguous int64 vector (labels, sample order).
const int64_t* int64_vector(py::handle obj, const char* name, py::ssize_t* size) {
    if (!py::isinstance<py::array>(obj)) throw py::type_error(std::string(name) + " must be a numpy.ndarray of int64");
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.dtype().kind() != 'i' || a.itemsize() != 8 || a.ndim() != 1)
        throw py::value_error(std::string(name) + " must be a 1-D int64 array");
    require_c_contiguous(a, name);
    *size = a.shape(0);
    return ptr<const int64_t>(a);
}

// ValueError unless every v[i] (i < n) is in [0, bound).
void require_indices(const int64_t* v, int64_t n, int64_t bound, const char* name) {
    for (int64_t i = 0; i < n; ++i)
        if (v[i] < 0 || v[i] >= bound)
            throw py::value_error(std::string(name) + " must hold indices in [0, " + std::to_string(bound) + ")");
}

// The LayerKind of a record's kind (nnfast.models.native_step's NativeLayerPlan.kind).
LayerKind kind_named(const std::string& name, const std::string& what) {
    static const std::pair<const char*, LayerKind> kinds[] = {{"dense", LayerKind::dense},
                                                              {"activation", LayerKind::activation},
                                                              {"dropout", LayerKind::dropout},
                                                              {"batch_norm", LayerKind::batch_norm},
                                                              {"layer_norm", LayerKind::layer_norm},
                                                              {"normalization", LayerKind::normalization}};
    for (const auto& [n, kind] : kinds)
        if (name == n) return kind;
    throw py::value_error(what + " must be dense, activation, dropout, batch_norm, layer_norm or normalization, got " +
                          name);
}

// One layer record, read by attribute name: "layers[i].<attr>" in every message.
class Record {
  public:
    Record(py::handle layer, size_t i) : layer_(layer), at_("layers[" + std::to_string(i) + "].") {}
    std::string name(const char* attr) const { return at_ + attr; }
    py::object field(const char* attr) const {
        if (!py::hasattr(layer_, attr))
            throw py::type_error(name(attr) + " is missing: see nnfast.models.native_step.NativeLayerPlan for "
                                              "the attributes of each kind of layer");
        return py::getattr(layer_, attr);
    }
    bool has(const char* attr) const { return py::hasattr(layer_, attr); }
    double real(const char* attr) const {
        py::object v = field(attr);
        if (!py::isinstance<py::float_>(v) && !py::isinstance<py::int_>(v))
            throw py::type_error(name(attr) + " must be a float, got " + py::repr(v).cast<std::string>());
        return v.cast<double>();
    }

  private:
    py::handle layer_;
    std::string at_;
};

template <class T>
class TypedStep : public Step {
  public:
    TypedStep(const py::list& layers, py::handle dloss, const std::string& loss, const std::string& fn,
              const py::dict& kwargs, py::handle params, py::handle grads, const py::tuple& states,
              double loss_param) {
        s_.step_template = optim_step_from_kwargs(fn, kwargs, &s_.plan.optimizer);
        auto& p = s_.plan;
        if (layers.size() == 0) throw py::value_error("layers must not be empty");
        p.batch = -1;
        int64_t features = -1;  // the previous layer's outputs
        int64_t scratch = 0;    // dx elements of a normalization layer that needs no input gradient
        for (size_t i = 0; i < layers.size(); ++i) {
            const Record r(layers[i], i);
            const LayerKind kind =
                r.has("kind") ? kind_named(r.field("kind").cast<std::string>(), r.name("kind")) : LayerKind::dense;
            py::array y = float_array(r.field("output"), r.name("output").c_str());
            if (y.ndim() != 2) throw py::value_error(r.name("output") + " must be 2-D (batch, features)");
            if (p.batch < 0) p.batch = y.shape(0);
            LayerBuffers<T> l{};
            l.kind = kind;
            if (kind == LayerKind::dense) {
                read_dense(r, &l, features);
            } else {
                l.in = l.out = features >= 0 ? features : y.shape(1);
                read_other(r, &l);
            }
            features = l.out;
            l.y = ptr<T>(keep(buffer<T>(y, r.name("output").c_str(), {p.batch, l.out}, true)));
            py::object input_grad = r.field("input_grad");
            l.dx = input_grad.is_none()
                       ? nullptr
                       : ptr<T>(keep(buffer<T>(input_grad, r.name("input_grad").c_str(), {p.batch, l.in}, true)));
            l.dx_work = l.dx;
            if (!l.dx && (kind == LayerKind::batch_norm || kind == LayerKind::layer_norm))
                scratch = std::max(scratch, p.batch * l.in);
            work_ += p.batch * (kind == LayerKind::dense ? l.in * l.out : l.out);
            p.layers.push_back(l);
        }
        scratch_.resize(size_t(scratch));
        for (auto& l : p.layers)
            if (!l.dx_work) l.dx_work = scratch_.data();
        input_dim_ = p.layers.front().in;
        outputs_ = p.layers.back().out;
        p.dloss = ptr<T>(keep(buffer<T>(dloss, "dloss", {p.batch, outputs_}, true)));
        p.loss = loss_named(loss, "loss");
        p.loss_param = checked_loss_param(p.loss, loss_param);
        p.tensors = checked_tensors<T>(params, grads, states, &keep_);
    }

    double run(py::handle x_obj, py::handle targets, py::handle learning_rate, py::handle step,
               bool check_finite, py::handle weights_obj) override {
        last_updates = 0;
        const auto& p = s_.plan;
        py::array x = buffer<T>(x_obj, "x", {p.batch, input_dim_}, false);
        const int64_t* labels = nullptr;
        const T* rows = nullptr;
        py::array t = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        if (takes_labels(p.loss) && t.dtype().kind() == 'i') {
            if (t.itemsize() != 8 || t.ndim() != 1 || t.shape(0) != p.batch)
                throw py::value_error("labels must be int64 class indices of shape (batch,)");
            require_c_contiguous(t, "labels");
            labels = ptr<const int64_t>(t);
            require_class_indices(labels, nullptr, p.batch, outputs_);
        } else {
            rows = ptr<const T>(buffer<T>(t, "targets", {p.batch, outputs_}, false));
        }
        const T* weights = optional_weights(weights_obj, p.batch);
        const KernelTable& kt = active_kernels();
        const T* xp = ptr<const T>(x);
        if (check_finite) {  // a caller that has not checked its data (train_on_batch)
            const auto all_finite = kernels_of<T>(kt).all_finite;
            if (!all_finite(xp, p.batch * input_dim_)) throw py::value_error("x contains NaN or Inf");
            if (rows && !all_finite(rows, p.batch * outputs_)) throw py::value_error("y contains NaN or Inf");
        }
        OptimStep s = s_.step_template;
        s.learning_rate = learning_rate_value(learning_rate);
        s.step = step_value(step);
        GilRelease nogil(work_);
        const double loss = run_dense_stack_step<T>(kt, p, xp, labels, rows, weights, s, team_);
        last_updates = std::isfinite(loss) ? 1 : 0;  // a non-finite loss updates nothing
        return loss;
    }

    int64_t run_steps(py::handle x_obj, py::handle targets, py::handle order_obj, int64_t first, int64_t count,
                      py::handle learning_rate, py::handle step, py::handle losses_obj, py::handle correct_obj,
                      py::handle weights_obj, py::handle binary_threshold, bool continuing,
                      int64_t tail) override {
        last_updates = 0;
        const auto& p = s_.plan;
        py::array x = float_array(x_obj, "x");
        if (x.ndim() != 2 || x.shape(1) != input_dim_)
            throw py::value_error("x must have shape (samples, " + std::to_string(input_dim_) + "), got " +
                                  shape_str(x));
        const int64_t samples = x.shape(0);
        x = buffer<T>(x, "x", {samples, input_dim_}, false);
        TrainingSet<T> data{ptr<const T>(x), nullptr, nullptr, optional_weights(weights_obj, samples), nullptr,
                            input_dim_, outputs_, samples, continuing};
        py::array t = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        py::ssize_t size = 0;
        if (takes_labels(p.loss) && t.dtype().kind() == 'i') {
            data.labels = int64_vector(t, "labels", &size);
            if (size != samples) throw py::value_error("labels must have one entry per sample of x");
        } else {
            data.target_rows = ptr<const T>(buffer<T>(t, "targets", {samples, outputs_}, false));
        }
        data.order = int64_vector(order_obj, "order", &size);
        if (first < 0 || count < 0 || (first + count) * p.batch > size)
            throw py::value_error("first and count must select whole batches of order");
        if (tail < 0 || tail >= p.batch || (first + count) * p.batch + tail > size)
            throw py::value_error("tail must be 0, or fewer samples than a batch that follow the whole batches in "
                                  "order");
        const int64_t* rows = data.order + first * p.batch;
        const int64_t steps = count + (tail > 0);  // the last one of tail samples
        require_indices(rows, count * p.batch + tail, samples, "order");
        if (data.labels) require_class_indices(data.labels, rows, count * p.batch + tail, outputs_);
        py::array losses = py::reinterpret_borrow<py::object>(losses_obj).cast<py::array>();
        if (losses.dtype().kind() != 'f' || losses.itemsize() != 8 || losses.ndim() != 1 || losses.shape(0) < steps)
            throw py::value_error("losses must be a 1-D float64 array of at least count entries (count + 1 with a tail)");
        require_c_contiguous(losses, "losses");
        require_writable(losses, "losses");
        int64_t* correct = nullptr;
        if (!correct_obj.is_none()) {
            py::ssize_t n = 0;
            correct = const_cast<int64_t*>(int64_vector(correct_obj, "correct", &n));
            if (n < steps) throw py::value_error("correct must have at least count entries (count + 1 with a tail)");
            require_writable(py::reinterpret_borrow<py::array>(correct_obj), "correct");
        }
        AccuracyRule accuracy;
        if (!binary_threshold.is_none()) {
            if (outputs_ != 1 || data.labels)
                throw py::value_error("binary_threshold needs one output and target rows");
            accuracy = {true, binary_threshold.cast<double>()};
        }
        std::vector<double> pieces;
        const LearningRateSchedule schedule = schedule_value(learning_rate, &pieces);
        OptimStep s = s_.step_template;
        s.step = step_value(step);
        batch_x_.resize(size_t(2 * p.batch * input_dim_));  // two batches: steps alternate between them
        batch_labels_.resize(size_t(2 * p.batch));
        batch_rows_.resize(size_t(2 * p.batch * outputs_));
        batch_weights_.resize(size_t(2 * p.batch));
        const BatchBuffers<T> buf{batch_x_.data(), batch_labels_.data(), batch_rows_.data(), batch_weights_.data()};
        const BatchBuffers<T> spare{batch_x_.data() + p.batch * input_dim_, batch_labels_.data() + p.batch,
                                    batch_rows_.data() + p.batch * outputs_, batch_weights_.data() + p.batch};
        const KernelTable& kt = active_kernels();
        double* out = static_cast<double*>(losses.mutable_data());
        int64_t ran = 0;
        {
            GilRelease nogil(count * work_);
            threads_.follow(num_threads());
            ran = run_dense_stack_steps<T>(kt, p, data, buf, spare, first, count, s, schedule, out, correct, tail,
                                           accuracy, threads_, team_, dead_);
            last_threads = threads_.chosen();
            probe_steps = threads_.probe_reps();
        }
        const bool stopped_at_loss = ran > 0 && !std::isfinite(out[ran - 1]);
        last_updates = ran - stopped_at_loss;  // a non-finite loss updates nothing
        if (ran < steps && !stopped_at_loss)  // the schedule's rate for step `ran` is NaN or negative
            learning_rate_value(py::float_(learning_rate_at(schedule, s.step - 1 + ran)));  // raises, as a step would
        return ran;
    }

    int64_t proven_dead_units() const override { return dead_.proven(); }

    void adopt_timing(const Step& other) override {
        const auto* same = dynamic_cast<const TypedStep*>(&other);
        if (!same || same == this) return;
        team_.adopt(same->team_);
        if (!same->threads_.settled_on_all()) return;  // then this step probes for itself
        threads_ = same->threads_;
        last_threads = same->last_threads;
        probe_steps = same->probe_steps;
    }

  private:
    // A Dense record: kernel (in, out), bias (out,) or None, kernel_grad, bias_grad, activation.
    void read_dense(const Record& r, LayerBuffers<T>* l, int64_t features) {
        py::array w = float_array(r.field("kernel"), r.name("kernel").c_str());
        if (w.ndim() != 2) throw py::value_error(r.name("kernel") + " must be 2-D");
        l->in = w.shape(0), l->out = w.shape(1);
        if (features >= 0 && l->in != features)
            throw py::value_error(r.name("kernel") + " has " + std::to_string(l->in) +
                                  " rows, but the layer before has " + std::to_string(features) +
                                  " outputs: layer sizes do not chain");
        l->w = ptr<T>(keep(buffer<T>(w, r.name("kernel").c_str(), {l->in, l->out}, false)));
        l->dw = ptr<T>(keep(buffer<T>(r.field("kernel_grad"), r.name("kernel_grad").c_str(), {l->in, l->out}, true)));
        l->b = optional<const T>(r, "bias", {l->out}, false);
        l->db = optional<T>(r, "bias_grad", {l->out}, true);
        if (!l->b != !l->db)
            throw py::value_error(r.name("bias") + " and " + r.name("bias_grad") + " must both be arrays or both be None");
        l->l2 = r.has("l2") ? r.real("l2") : 0.0;  // absent: no penalty
        if (!(l->l2 >= 0.0 && std::isfinite(l->l2)))
            throw py::value_error(r.name("l2") + " must be a finite float >= 0.0, got " + std::to_string(l->l2));
        l->act = parse_activation(r.field("activation"), r.name("activation").c_str());
        if (l->act == Activation::softmax)
            throw py::value_error(r.name("activation") +
                                  ": a softmax Dense layer is fused with its loss or left to the general loop");
    }

    // The records of the layers without a kernel; l->in = l->out is already set.
    void read_other(const Record& r, LayerBuffers<T>* l) {
        const int64_t f = l->out;
        switch (l->kind) {
        case LayerKind::dense: break;
        case LayerKind::activation: l->act = parse_activation(r.field("activation"), r.name("activation").c_str()); break;
        case LayerKind::dropout: {
            l->rate = r.real("rate");
            if (!(l->rate > 0.0 && l->rate < 1.0))
                throw py::value_error(r.name("rate") + " must be in (0, 1), got " + std::to_string(l->rate));
            l->seed = r.field("seed").cast<uint64_t>();
            l->calls = counter(r);
            l->mask = mask(r, f);
            break;
        }
        case LayerKind::normalization:  // its statistics, read only
            l->moving_mean = ptr<T>(keep(buffer<T>(r.field("moving_mean"), r.name("moving_mean").c_str(), {f}, false)));
            l->moving_var =
                ptr<T>(keep(buffer<T>(r.field("moving_variance"), r.name("moving_variance").c_str(), {f}, false)));
            l->invert = r.field("invert").cast<bool>();
            break;
        case LayerKind::batch_norm:
        case LayerKind::layer_norm: {
            const bool batch_norm = l->kind == LayerKind::batch_norm;
            l->gamma = optional<const T>(r, "gamma", {f}, false);
            l->beta = optional<const T>(r, "beta", {f}, false);
            l->dgamma = optional<T>(r, "gamma_grad", {f}, true);
            l->dbeta = optional<T>(r, "beta_grad", {f}, true);
            if (!l->gamma != !l->dgamma || !l->beta != !l->dbeta)
                throw py::value_error(r.name("gamma") + ", " + r.name("beta") +
                                      " and their gradients must be arrays or None together");
            const int64_t stats = batch_norm ? f : s_.plan.batch;
            l->mean = ptr<T>(keep(buffer<T>(r.field("mean"), r.name("mean").c_str(), {stats}, true)));
            l->inv_std = ptr<T>(keep(buffer<T>(r.field("inv_std"), r.name("inv_std").c_str(), {stats}, true)));
            l->epsilon = r.real("epsilon");
            if (!(l->epsilon >= 0.0)) throw py::value_error(r.name("epsilon") + " must be >= 0.0");
            if (!batch_norm) break;
            l->training = r.field("training").cast<bool>();
            l->momentum = r.real("momentum");
            if (!(l->momentum >= 0.0 && l->momentum <= 1.0))
                throw py::value_error(r.name("momentum") + " must be in [0.0, 1.0]");
            l->moving_mean = ptr<T>(keep(buffer<T>(r.field("moving_mean"), r.name("moving_mean").c_str(), {f}, true)));
            l->moving_var =
                ptr<T>(keep(buffer<T>(r.field("moving_variance"), r.name("moving_variance").c_str(), {f}, true)));
            break;
        }
        }
    }

    // Per-sample weights (n,) of the model's dtype, or null for None.
    const T* optional_weights(py::handle w, int64_t n) {
        return w.is_none() ? nullptr : ptr<const T>(buffer<T>(w, "weights", {n}, false));
    }

    // The array of attribute `attr` checked as buffer<T> does, or null for None.
    template <class P>
    P* optional(const Record& r, const char* attr, std::vector<py::ssize_t> shape, bool writable) {
        py::object v = r.field(attr);
        return v.is_none() ? nullptr : ptr<P>(keep(buffer<T>(v, r.name(attr).c_str(), std::move(shape), writable)));
    }

    // A dropout record's calls: a writable (1,) uint64 array.
    uint64_t* counter(const Record& r) {
        py::object v = r.field("calls");
        const std::string name = r.name("calls");
        if (!py::isinstance<py::array>(v)) throw py::type_error(name + " must be a numpy.ndarray of uint64");
        py::array a = py::reinterpret_borrow<py::array>(v);
        if (a.dtype().kind() != 'u' || a.itemsize() != 8 || a.ndim() != 1 || a.shape(0) != 1)
            throw py::value_error(name + " must be a uint64 array of shape (1,)");
        require_writable(a, name.c_str());
        return ptr<uint64_t>(keep(a));
    }

    // A dropout record's mask: a writable C-contiguous uint8 array (batch, features).
    uint8_t* mask(const Record& r, int64_t features) {
        py::object v = r.field("mask");
        const std::string name = r.name("mask");
        if (!py::isinstance<py::array>(v)) throw py::type_error(name + " must be a numpy.ndarray of uint8");
        py::array a = py::reinterpret_borrow<py::array>(v);
        if (a.dtype().kind() != 'u' || a.itemsize() != 1 || a.ndim() != 2 || a.shape(0) != s_.plan.batch ||
            a.shape(1) != features)
            throw py::value_error(name + " must be a uint8 array of shape (" + std::to_string(s_.plan.batch) + ", " +
                                  std::to_string(features) + ")");
        require_c_contiguous(a, name.c_str());
        require_writable(a, name.c_str());
        return ptr<uint8_t>(keep(a));
    }

    const py::array& keep(const py::array& a) {
        keep_.push_back(a);
        return a;
    }
    struct {
        DenseStackStep<T> plan;
        OptimStep step_template;
    } s_;
    std::vector<py::object> keep_;         // every array the plan points into stays alive with it
    std::vector<T> scratch_;                          // dx of a normalization layer that needs none
    std::vector<T> batch_x_, batch_rows_, batch_weights_;  // run_steps' gathered batch
    std::vector<int64_t> batch_labels_;
    ThreadChoice threads_;  // run_steps' thread count, kept across its calls
    TeamNeed team_;         // whether a step has a part that splits over threads (then it runs in a team)
    DeadUnits<T> dead_;     // the first layer's units proven dead over run_steps' data set
    int64_t input_dim_ = 0, outputs_ = 0;
    int64_t work_ = 0;  // multiply-adds of one step's forward pass (for the GIL policy)
};

std::unique_ptr<Step> make_step(const py::list& layers, py::handle dloss, const std::string& loss,
                                const std::string& fn, const py::dict& kwargs, py::handle params, py::handle grads,
                                const py::tuple& states, double loss_param) {
    return dispatch_dtype(float_array(dloss, "dloss"), [&](auto t) -> std::unique_ptr<Step> {
        return std::make_unique<TypedStep<decltype(t)>>(layers, dloss, loss, fn, kwargs, params, grads, states,
                                                        loss_param);
    });
}

// Keras's sample-weighted loss of pred (rows, cols) against targets (int64 labels (rows,) for the
// cross-entropies, else rows of pred's shape) with weights (rows,): what the one-call step reports
// with weights, for the Python loop to report the same.
double weighted_loss(py::handle pred_obj, py::handle targets, py::handle weights_obj, const std::string& loss,
                     double param) {
    const Loss kind = loss_named(loss, "loss");
    checked_loss_param(kind, param);
    py::array pred = float_array(pred_obj, "pred");
    if (pred.ndim() != 2) throw py::value_error("pred must be 2-D (batch, outputs), got shape " + shape_str(pred));
    require_c_contiguous(pred, "pred");
    const int64_t rows = pred.shape(0), cols = pred.shape(1);
    return dispatch_dtype(pred, [&](auto t) {
        using T = decltype(t);
        py::array w = buffer<T>(weights_obj, "weights", {rows}, false);
        const int64_t* labels = nullptr;
        const T* target = nullptr;
        py::array y = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        if (takes_labels(kind) && y.dtype().kind() == 'i') {
            py::ssize_t n = 0;
            labels = int64_vector(y, "targets", &n);
            if (n != rows) throw py::value_error("targets must have one label per row of pred");
            require_class_indices(labels, nullptr, rows, cols);
        } else {
            target = ptr<const T>(buffer<T>(y, "targets", {rows, cols}, false));
        }
        GilRelease nogil(rows * cols);
        return kernels<T>().weighted_loss(ptr<const T>(pred), labels, target, ptr<const T>(w), rows, cols, kind, param);
    });
}

}  // namespace

void register_dense_stack(py::module_& m) {
    m.def("weighted_loss", &weighted_loss, py::arg("pred"), py::arg("targets"), py::arg("weights"), py::arg("loss"),
          py::arg("param") = 0.0,
          "weighted_loss(pred, targets, weights, loss, param=0.0) -> sum_i weights[i] * loss_i / rows: Keras's "
          "sample-weighted loss (loss_i the mean of row i's terms, or its row-wise value), as the one-call step "
          "reports it; param: huber's delta or the label smoothing");
    py::class_<Step>(m, "DenseStackStep", "One native call per training step of a chain of layers (Dense, activation, dropout, batch and layer normalization).")
        .def(py::init(&make_step), py::arg("layers"), py::arg("dloss"), py::arg("loss"), py::arg("fn"),
             py::arg("kwargs"), py::arg("params"), py::arg("grads"), py::arg("states"),
             py::arg("loss_param") = 0.0)
        .def("run", &Step::run, py::arg("x"), py::arg("targets"), py::arg("learning_rate"), py::arg("step"),
             py::arg("check_finite") = false, py::arg("weights") = py::none(),
             "run(x, targets, learning_rate, step, check_finite=False, weights=None) -> loss; weights (batch,): "
             "the sample-weighted loss, each sample's gradient scaled by its weight")
        .def("run_steps", &Step::run_steps, py::arg("x"), py::arg("targets"), py::arg("order"), py::arg("first"),
             py::arg("count"), py::arg("learning_rate"), py::arg("step"), py::arg("losses"), py::arg("correct"),
             py::arg("weights") = py::none(), py::arg("binary_threshold") = py::none(), py::arg("continuing") = false,
             py::arg("tail") = 0,
             "run_steps(x, targets, order, first, count, learning_rate, step, losses, correct, weights=None, "
             "binary_threshold=None, continuing=False, tail=0) -> steps run: whole batches order[(first + i) * batch ...] of the data set (and "
             "of weights, one per sample, when given), gathered natively, losses[i] per step and, unless correct is "
             "None, correct[i]: the samples whose output's argmax is their class (with binary_threshold, a number, "
             "whose one output o has target == (o > binary_threshold), Keras's BinaryAccuracy); learning_rate: "
             "a number or a schedule "
             "(kind, params) evaluated natively per step (see learning_rates); stops after a non-finite loss, and "
             "raises ValueError before a step whose rate is NaN or negative. tail > 0 runs one more step, once "
             "the count whole batches have run, on the tail samples after them in order (an epoch's last, partial "
             "batch; its loss and count at index count). continuing=True is the "
             "caller's word that x and its values are those of this step's last run_steps call: the first layer's units "
             "proven dead over the data set then stay proven (their outputs are set to +0 instead of computed, the "
             "same bits); else the proof starts afresh")
        .def_property_readonly("proven_dead_units", &Step::proven_dead_units,
                               "Units of the first layer (relu Dense) that run_steps calls have proven dead over their "
                               "data set: set to +0, not computed, while their weights keep their bits.")
        .def_readonly("last_updates", &Step::last_updates, "Optimizer updates the last run or run_steps call applied.")
        .def_readonly("last_threads", &Step::last_threads,
                      "Threads the last run_steps call settled on, after timing steps on all threads and on one (the "
                      "choice lasts across calls; it is probed again after a second of steps, when steps slow "
                      "down, and when set_num_threads changes; 0 before any).")
        .def_readonly("probe_steps", &Step::probe_steps,
                      "Steps the run_steps calls have run so far as probes of all threads against one.")
        .def("adopt_timing", &Step::adopt_timing, py::arg("other"),
             "adopt_timing(other): take over what other learnt of its teams, and its thread choice when that "
             "settled on all threads (a step of the same dtype and layer shapes, compiled again); results never "
             "depend on them, only the time.");
}

}  // namespace bindings
}  // namespace nnfast
