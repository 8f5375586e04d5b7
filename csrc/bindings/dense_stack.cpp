// DenseStack: the one-call training step of a stack of Dense layers (nnfast.models uses it for
// models it covers). Every buffer is checked once when the step is made; each call checks only its
// inputs, then runs forward, loss, backward and the optimizer update under kernel_call.h's GIL policy.
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/optim_step.h"
#include "bindings/register.h"
#include "dispatch/dispatch.h"
#include "model/dense_stack.h"

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
                       bool check_finite) = 0;
    virtual int64_t run_steps(py::handle x, py::handle targets, py::handle order, int64_t first, int64_t count,
                              py::handle learning_rate, py::handle step, py::handle losses, py::handle correct) = 0;
    // Optimizer updates the last run or run_steps call applied (its steps with a finite loss; 0 if
    // it refused its arguments): readable even when a KeyboardInterrupt arrives between the
    // call's return and its result's use.
    int64_t last_updates = 0;
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

// The Loss of a loss kernel's name (nnfast.losses' `kernel`).
Loss loss_named(const std::string& name) {
    static const std::pair<const char*, Loss> losses[] = {{"mse", Loss::mse},
                                                          {"mae", Loss::mae},
                                                          {"binary_cross_entropy", Loss::binary_cross_entropy},
                                                          {"softmax_cross_entropy", Loss::softmax_cross_entropy}};
    for (const auto& [n, loss] : losses)
        if (name == n) return loss;
    throw py::value_error("loss must be mse, mae, binary_cross_entropy or softmax_cross_entropy, got " + name);
}

template <class T>
class TypedStep : public Step {
  public:
    TypedStep(const py::list& layers, py::handle dloss, const std::string& loss, const std::string& fn,
              const py::dict& kwargs, py::handle params, py::handle grads, const py::tuple& states) {
        s_.step_template = optim_step_from_kwargs(fn, kwargs, &s_.plan.optimizer);
        auto& p = s_.plan;
        if (layers.size() == 0) throw py::value_error("layers must not be empty");
        p.batch = -1;
        int64_t in = -1;
        for (size_t i = 0; i < layers.size(); ++i) {
            // Each layer: any object with the attributes kernel (in, out), bias (out,) or None,
            // output (batch, out), input_grad (batch, in) or None (first layer only),
            // kernel_grad (in, out), bias_grad (out,) or None, activation (str).
            const py::handle layer = layers[i];
            const std::string at = "layers[" + std::to_string(i) + "].";
            auto field = [&](const char* attr) {
                if (!py::hasattr(layer, attr))
                    throw py::type_error(at + attr +
                                         " is missing: each layer must have the attributes kernel, bias, "
                                         "output, input_grad, kernel_grad, bias_grad and activation");
                return py::getattr(layer, attr);
            };
            auto name = [&](const char* attr) { return at + attr; };
            py::object kernel = field("kernel"), bias = field("bias"), output = field("output");
            py::object input_grad = field("input_grad"), kernel_grad = field("kernel_grad");
            py::object bias_grad = field("bias_grad"), activation = field("activation");
            py::array w = float_array(kernel, name("kernel").c_str());
            if (w.ndim() != 2) throw py::value_error(name("kernel") + " must be 2-D");
            const int64_t li = w.shape(0), lo = w.shape(1);
            if (in >= 0 && li != in)
                throw py::value_error(name("kernel") + " has " + std::to_string(li) +
                                      " rows, but the layer before has " + std::to_string(in) +
                                      " outputs: layer sizes do not chain");
            in = lo;
            py::array y = float_array(output, name("output").c_str());
            if (p.batch < 0) p.batch = y.ndim() == 2 ? y.shape(0) : -1;
            DenseLayerBuffers<T> l{};
            l.in = li, l.out = lo;
            l.w = ptr<T>(keep(buffer<T>(w, name("kernel").c_str(), {li, lo}, false)));
            l.b = bias.is_none() ? nullptr : ptr<T>(keep(buffer<T>(bias, name("bias").c_str(), {lo}, false)));
            l.y = ptr<T>(keep(buffer<T>(y, name("output").c_str(), {p.batch, lo}, true)));
            l.dx = input_grad.is_none()
                       ? nullptr
                       : ptr<T>(keep(buffer<T>(input_grad, name("input_grad").c_str(), {p.batch, li}, true)));
            if (i > 0 && !l.dx)
                throw py::value_error(name("input_grad") + " must not be None: only the first layer may omit it");
            l.dw = ptr<T>(keep(buffer<T>(kernel_grad, name("kernel_grad").c_str(), {li, lo}, true)));
            l.db = bias_grad.is_none() ? nullptr
                                       : ptr<T>(keep(buffer<T>(bias_grad, name("bias_grad").c_str(), {lo}, true)));
            if (!l.b != !l.db)
                throw py::value_error(name("bias") + " and " + name("bias_grad") +
                                      " must both be arrays or both be None");
            l.act = parse_activation(activation, name("activation").c_str());
            if (l.act == Activation::softmax)
                throw py::value_error(name("activation") +
                                      ": a softmax layer is fused with its loss or left to the general loop");
            p.layers.push_back(l);
        }
        for (const auto& l : p.layers) work_ += p.batch * l.in * l.out;
        input_dim_ = p.layers.front().in;
        outputs_ = p.layers.back().out;
        p.dloss = ptr<T>(keep(buffer<T>(dloss, "dloss", {p.batch, outputs_}, true)));
        p.loss = loss_named(loss);
        p.tensors = checked_tensors<T>(params, grads, states, &keep_);
    }

    double run(py::handle x_obj, py::handle targets, py::handle learning_rate, py::handle step,
               bool check_finite) override {
        last_updates = 0;
        const auto& p = s_.plan;
        py::array x = buffer<T>(x_obj, "x", {p.batch, input_dim_}, false);
        const int64_t* labels = nullptr;
        const T* rows = nullptr;
        py::array t = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        if (p.loss == Loss::softmax_cross_entropy && t.dtype().kind() == 'i') {
            if (t.itemsize() != 8 || t.ndim() != 1 || t.shape(0) != p.batch)
                throw py::value_error("labels must be int64 class indices of shape (batch,)");
            require_c_contiguous(t, "labels");
            labels = ptr<const int64_t>(t);
            require_class_indices(labels, nullptr, p.batch, outputs_);
        } else {
            rows = ptr<const T>(buffer<T>(t, "targets", {p.batch, outputs_}, false));
        }
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
        const double loss = run_dense_stack_step<T>(kt, p, xp, labels, rows, s);
        last_updates = std::isfinite(loss) ? 1 : 0;  // a non-finite loss updates nothing
        return loss;
    }

    int64_t run_steps(py::handle x_obj, py::handle targets, py::handle order_obj, int64_t first, int64_t count,
                      py::handle learning_rate, py::handle step, py::handle losses_obj,
                      py::handle correct_obj) override {
        last_updates = 0;
        const auto& p = s_.plan;
        py::array x = float_array(x_obj, "x");
        if (x.ndim() != 2 || x.shape(1) != input_dim_)
            throw py::value_error("x must have shape (samples, " + std::to_string(input_dim_) + "), got " +
                                  shape_str(x));
        const int64_t samples = x.shape(0);
        x = buffer<T>(x, "x", {samples, input_dim_}, false);
        TrainingSet<T> data{ptr<const T>(x), nullptr, nullptr, nullptr, input_dim_, outputs_};
        py::array t = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        py::ssize_t size = 0;
        if (p.loss == Loss::softmax_cross_entropy && t.dtype().kind() == 'i') {
            data.labels = int64_vector(t, "labels", &size);
            if (size != samples) throw py::value_error("labels must have one entry per sample of x");
        } else {
            data.target_rows = ptr<const T>(buffer<T>(t, "targets", {samples, outputs_}, false));
        }
        data.order = int64_vector(order_obj, "order", &size);
        if (first < 0 || count < 0 || (first + count) * p.batch > size)
            throw py::value_error("first and count must select whole batches of order");
        const int64_t* rows = data.order + first * p.batch;
        require_indices(rows, count * p.batch, samples, "order");
        if (data.labels) require_class_indices(data.labels, rows, count * p.batch, outputs_);
        py::array losses = py::reinterpret_borrow<py::object>(losses_obj).cast<py::array>();
        if (losses.dtype().kind() != 'f' || losses.itemsize() != 8 || losses.ndim() != 1 || losses.shape(0) < count)
            throw py::value_error("losses must be a 1-D float64 array of at least count entries");
        require_c_contiguous(losses, "losses");
        require_writable(losses, "losses");
        int64_t* correct = nullptr;
        if (!correct_obj.is_none()) {
            py::ssize_t n = 0;
            correct = const_cast<int64_t*>(int64_vector(correct_obj, "correct", &n));
            if (n < count) throw py::value_error("correct must have at least count entries");
            require_writable(py::reinterpret_borrow<py::array>(correct_obj), "correct");
        }
        OptimStep s = s_.step_template;
        s.learning_rate = learning_rate_value(learning_rate);
        s.step = step_value(step);
        batch_x_.resize(size_t(p.batch * input_dim_));
        batch_labels_.resize(size_t(p.batch));
        batch_rows_.resize(size_t(p.batch * outputs_));
        const BatchBuffers<T> buf{batch_x_.data(), batch_labels_.data(), batch_rows_.data()};
        const KernelTable& kt = active_kernels();
        double* out = static_cast<double*>(losses.mutable_data());
        GilRelease nogil(count * work_);
        const int64_t ran = run_dense_stack_steps<T>(kt, p, data, buf, first, count, s, out, correct);
        last_updates = ran - (ran > 0 && !std::isfinite(out[ran - 1]));  // a non-finite loss updates nothing
        return ran;
    }

  private:
    const py::array& keep(const py::array& a) {
        keep_.push_back(a);
        return a;
    }
    struct {
        DenseStackStep<T> plan;
        OptimStep step_template;
    } s_;
    std::vector<py::object> keep_;         // every array the plan points into stays alive with it
    std::vector<T> batch_x_, batch_rows_;  // run_steps' gathered batch
    std::vector<int64_t> batch_labels_;
    int64_t input_dim_ = 0, outputs_ = 0;
    int64_t work_ = 0;  // multiply-adds of one step's forward pass (for the GIL policy)
};

std::unique_ptr<Step> make_step(const py::list& layers, py::handle dloss, const std::string& loss,
                                const std::string& fn, const py::dict& kwargs, py::handle params, py::handle grads,
                                const py::tuple& states) {
    return dispatch_dtype(float_array(dloss, "dloss"), [&](auto t) -> std::unique_ptr<Step> {
        return std::make_unique<TypedStep<decltype(t)>>(layers, dloss, loss, fn, kwargs, params, grads, states);
    });
}

}  // namespace

void register_dense_stack(py::module_& m) {
    py::class_<Step>(m, "DenseStackStep", "One native call per training step of a stack of Dense layers.")
        .def(py::init(&make_step))
        .def("run", &Step::run, py::arg("x"), py::arg("targets"), py::arg("learning_rate"), py::arg("step"),
             py::arg("check_finite") = false, "run(x, targets, learning_rate, step, check_finite=False) -> loss")
        .def("run_steps", &Step::run_steps,
             "run_steps(x, targets, order, first, count, learning_rate, step, losses, correct) -> steps run: "
             "whole batches order[(first + i) * batch ...] of the data set, gathered natively, losses[i] per "
             "step and, unless correct is None, correct[i]: the samples whose output's argmax is their class; "
             "stops after a non-finite loss")
        .def_readonly("last_updates", &Step::last_updates, "Optimizer updates the last run or run_steps call applied.");
}

}  // namespace bindings
}  // namespace nnfast
